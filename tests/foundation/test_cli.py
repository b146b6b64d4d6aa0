"""The octobot-trading command line."""

import json
import subprocess
import sys

import octobot_trading
from octobot_trading.cli import main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "config-schema" in out


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert octobot_trading.__version__ in capsys.readouterr().out


def test_config_schema(capsys):
    assert main(["config-schema", "exchange"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "ExchangeConfig"
    assert main(["config-schema"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"exchange", "trading", "backtesting"}


def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "octobot_trading", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "octobot-trading" in proc.stdout
