"""Command-line interface: ``octobot-trading``.

Each command module exports its own ``COMMANDS`` table (name -> (one-line help, argument
setup, runner)) and knows nothing of this module; :func:`build_parser` imports those modules
explicitly, in one place, and builds the parser (argparse from the standard library).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

__all__ = ["build_parser", "main"]

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


def _configure_schema(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        default="all",
        choices=["all", "exchange", "trading", "backtesting"],
        help="which configuration model to print (default: all)",
    )


def _run_schema(args: argparse.Namespace) -> int:
    from pydantic import BaseModel

    from octobot_trading import config

    models: dict[str, type[BaseModel]] = {
        "exchange": config.ExchangeConfig,
        "trading": config.TradingConfig,
        "backtesting": config.BacktestingConfig,
    }
    if args.model == "all":
        schema = {name: model.model_json_schema() for name, model in models.items()}
    else:
        schema = models[args.model].model_json_schema()
    json.dump(schema, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


#: This module's own commands.
COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "config-schema": ("print the JSON schema of the configuration models", _configure_schema, _run_schema),
}


def all_commands() -> dict[str, tuple[str, Configure, Run]]:
    """Every sub-command, gathered from the command modules (imported here, on use, so that
    importing this module stays cheap)."""
    from octobot_trading.backtesting import cli as backtesting_cli
    from octobot_trading.backtesting import sweep_cli

    return {**COMMANDS, **backtesting_cli.COMMANDS, **sweep_cli.COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command of :func:`all_commands`."""
    from octobot_trading import __version__

    parser = argparse.ArgumentParser(
        prog="octobot-trading",
        description="octobot_trading: exchange connectivity, trading modes and backtesting.",
    )
    parser.add_argument("--version", action="version", version=f"octobot-trading {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in sorted(all_commands().items()):
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        configure(command_parser)
        command_parser.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 0
    from octobot_trading.errors import OctoBotTradingError

    try:
        return int(run(args))
    except OctoBotTradingError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
