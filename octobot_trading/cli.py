"""Command-line interface: ``octobot-trading``.

Sub-commands register themselves in :data:`COMMANDS` (name -> (help, configure, run)); the
parser is argparse from the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

__all__ = ["COMMANDS", "build_parser", "main"]

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


#: Registered sub-commands: name -> (one-line help, argument setup, runner).
COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "config-schema": ("print the JSON schema of the configuration models", _configure_schema, _run_schema),
}


def _load_plugins() -> None:
    """Import the modules that register further sub-commands (they may be absent early on)."""
    import importlib

    for module in ("octobot_trading.backtesting.cli", "octobot_trading.backtesting.sweep_cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    from octobot_trading import __version__

    _load_plugins()
    parser = argparse.ArgumentParser(
        prog="octobot-trading",
        description="octobot_trading: exchange connectivity, trading modes and backtesting.",
    )
    parser.add_argument("--version", action="version", version=f"octobot-trading {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, run) in sorted(COMMANDS.items()):
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
