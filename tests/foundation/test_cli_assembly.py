"""The CLI is assembled in one place: each command module exports its commands, ``build_parser`` gathers them.

No module fills another's command table as an import side effect, and no command module imports
``octobot_trading.cli`` back (that was a run-time import cycle hidden behind an import by name).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from octobot_trading import cli
from octobot_trading.backtesting import cli as backtesting_cli
from octobot_trading.backtesting import sweep_cli
from tests.test_import_cycles import import_graph

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "octobot_trading"
COMMAND_MODULES = (cli, backtesting_cli, sweep_cli)


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for action in actions for name in action.choices}


def test_build_parser_gathers_every_module_table_and_changes_none() -> None:
    tables = {module.__name__: dict(module.COMMANDS) for module in COMMAND_MODULES}
    parser = cli.build_parser()
    assert {module.__name__: dict(module.COMMANDS) for module in COMMAND_MODULES} == tables
    assert set(cli.COMMANDS) == {"config-schema"}
    assert set(backtesting_cli.COMMANDS) == {"demo", "backtest", "download-data"}
    assert set(sweep_cli.COMMANDS) == {"sweep"}
    assert (
        _subcommands(parser)
        == set(cli.all_commands())
        == {"config-schema", "demo", "backtest", "download-data", "sweep"}
    )


def test_no_command_module_imports_the_cli_or_loads_modules_by_name() -> None:
    graph = import_graph()
    importers = sorted(module for module, edges in graph.items() if "octobot_trading.cli" in edges)
    assert importers == ["octobot_trading.__main__"]  # ``python -m octobot_trading`` runs the CLI
    source = (PACKAGE_DIR / "cli.py").read_text(encoding="utf-8")
    calls = [ast.unparse(node.func) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    assert not [call for call in calls if "import_module" in call]
    assert "ModuleNotFoundError" not in source
