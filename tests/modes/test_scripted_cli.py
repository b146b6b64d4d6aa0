"""``octobot-trading backtest --mode`` with a script path, a ``package.module:Class`` spec and bad specs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "scripted_sma.py"
DATA = ROOT / "octobot_trading" / "testing" / "data" / "BTC_USDT-1h.json"


def _args(tmp_path: Path, mode: str) -> list[str]:
    return [
        "backtest",
        "--data",
        str(DATA),
        "--symbol",
        "BTC/USDT",
        "--time-frame",
        "1h",
        "--mode",
        mode,
        "--report",
        str(tmp_path / "report.html"),
        "--no-progress",
    ]


def _hash(out: str) -> str:
    [line] = [line for line in out.splitlines() if "Event-log hash" in line]
    return line.split()[-1]


def test_backtest_command_runs_a_script_path_like_run_backtest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, str(EXAMPLE))) == 0
    out = capsys.readouterr().out
    assert out.startswith("scripted on BTC/USDT (1h), 240 candles") and (tmp_path / "report.html").is_file()
    data = CandleData.from_file(DATA, exchange=None, symbol="BTC/USDT", time_frame="1h")
    direct = asyncio.run(
        run_backtest(
            data,
            trading_mode=ot.modes.ScriptedMode,
            mode_config={"script": str(EXAMPLE)},
            starting_portfolio={"USDT": "10000"},
            fees=ot.Fees(maker="0.001", taker="0.001"),
        )
    )
    assert _hash(out) == direct.event_log_hash


def test_backtest_command_loads_a_mode_class_from_an_import_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, "octobot_trading.modes.sma_cross:SmaCrossMode")) == 0
    by_path = _hash(capsys.readouterr().out)
    assert main(_args(tmp_path, "sma_cross")) == 0
    assert _hash(capsys.readouterr().out) == by_path


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("no_such_module:Mode", "ConfigurationError: mode 'no_such_module:Mode': cannot import"),
        ("octobot_trading.modes:ModeConfig", "not an AbstractTradingMode subclass"),
        ("missing_script.py", "ScriptError"),
    ],
)
def test_backtest_command_refuses_a_bad_mode_spec_with_a_typed_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, error: str
) -> None:
    assert main(_args(tmp_path, spec)) == 2
    assert error in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("package", "source", "error"),
    [
        (
            "user_modes_raising",
            "raise RuntimeError('module refuses to load')\n",
            "RuntimeError: module refuses to load",
        ),
        ("user_modes_syntax", "class X(:\n", "SyntaxError:"),
    ],
)
def test_backtest_command_refuses_a_mode_module_that_fails_to_import(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    package: str,
    source: str,
    error: str,
) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / package / "broken.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = f"{package}.broken:X"
    assert main(_args(tmp_path, spec)) == 2
    err = capsys.readouterr().err
    assert f"ConfigurationError: mode {spec!r}: importing {package}.broken failed: {error}" in err
    assert "Traceback" not in err and not (tmp_path / "report.html").exists()
    with pytest.raises(ot.errors.ConfigurationError) as info:
        ot.modes.resolve_mode(spec)
    assert info.value.field == "mode" and info.value.__cause__ is not None


def test_backtest_command_names_the_line_of_a_broken_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "broken.py"
    script.write_text(
        "TIME_FRAMES = ['1h']\n\nasync def on_candle(ctx):\n    await ctx.market_buy(\n", encoding="utf-8"
    )
    assert main(_args(tmp_path, str(script))) == 2
    assert f"ScriptError: {script.resolve()}:4: syntax error" in capsys.readouterr().err
