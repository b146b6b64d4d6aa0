"""Scripted modes on bad input: a script calling sys.exit() is a typed error, not a process exit;
series of a feed that is not configured are refused naming it; the DSL's relative amounts on
contract symbols size closes from the position and opens from the quote."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.cli import main
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes import ScriptedMode, ScriptError, load_script, resolve_mode
from tests.modes.script_files import bare_context, script_in, write_script

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "octobot_trading" / "testing" / "data" / "BTC_USDT-1h.json"
FUTURES = ROOT / "tests" / "backtesting" / "fixtures" / "XRP_USDT_USDT-5m-futures-head600.json"


def _recorded(path: Path, built: list[ScriptedMode]) -> type[ScriptedMode]:
    class Recorded(ScriptedMode.for_script(path)):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    return Recorded


def test_a_script_exiting_at_import_is_a_script_error_naming_the_line(tmp_path: Path) -> None:
    path = script_in(tmp_path, "import sys\nTIME_FRAMES = ['1h']\nsys.exit(3)\n")
    with pytest.raises(ScriptError) as refused:
        load_script(path)
    assert str(refused.value) == f"{path.resolve()}:3: the script raised SystemExit: 3"


def test_the_backtest_command_of_a_script_exiting_at_import_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = script_in(tmp_path, "raise SystemExit(3)\n")
    code = main(["backtest", "--data", str(DATA), "--mode", str(path), "--report", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [f"error: ScriptError: {path.resolve()}:1: the script raised SystemExit: 3"]


async def test_a_callback_exiting_is_a_logged_script_error_and_the_backtest_goes_on(tmp_path: Path) -> None:
    path = script_in(
        tmp_path,
        """
        import sys
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            ctx.state["n"] = ctx.state.get("n", 0) + 1
            sys.exit(4)
        """,
    )
    built: list[ScriptedMode] = []
    data = CandleData.from_file(DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")
    result = await run_backtest(data, trading_mode=_recorded(path, built), starting_portfolio={"USDT": "1000"})
    [mode] = built
    assert mode.state["n"] == result.candles == mode.error_count  # every candle was handled, none ended the run
    assert str(mode.errors[-1]) == f"{path.resolve()}:7: on_candle raised SystemExit: 4"


def test_a_reloaded_version_exiting_at_import_keeps_the_running_version(tmp_path: Path) -> None:
    path = write_script(
        tmp_path / "script.py", "TIME_FRAMES = ['1h']\nasync def on_candle(ctx):\n    pass\n", 1_000_000_000
    )
    context = bare_context()
    mode = ScriptedMode(context, {"script": str(path)})
    running = mode.script
    write_script(path, "import sys\nsys.exit(7)\n", 2_000_000_000)
    assert mode.reload_if_changed() is False
    assert mode.script is running
    assert [str(e) for e in mode.errors] == [f"{path.resolve()}:2: the script raised SystemExit: 7"]


def test_a_mode_module_exiting_at_import_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exiting_mode_module.py").write_text("import sys\nsys.exit(5)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError) as refused:
        resolve_mode("exiting_mode_module:X")
    assert refused.value.field == "mode"
    assert "importing exiting_mode_module failed: SystemExit: 5" in str(refused.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('ctx.closes(5, time_frame="4h")', "time frame '4h' is not configured (configured: 1h)"),
        ('ctx.closes(5, symbol="ETH/USDT")', "symbol 'ETH/USDT' is not configured (configured: BTC/USDT)"),
        ('ctx.highs(3, symbol="ETH/USDT")', "symbol 'ETH/USDT' is not configured"),
        ("ctx.closes(-1)", "the number of candles must be a non-negative integer, got -1"),
    ],
)
async def test_series_of_a_feed_that_is_not_configured_are_refused_naming_it(
    tmp_path: Path, call: str, message: str
) -> None:
    path = script_in(tmp_path, f"TIME_FRAMES = ['1h']\nasync def on_candle(ctx):\n    {call}\n")
    data = CandleData.from_file(DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")
    with pytest.raises(ScriptError) as refused:
        await run_backtest(
            data, trading_mode=ScriptedMode, mode_config={"script": str(path), "on_error": "raise"}, symbols=None
        )
    assert f"{path.resolve()}:3: {message}" in str(refused.value)


CONTRACT_SCRIPT = """
TIME_FRAMES = ["5m"]

async def on_candle(ctx):
    n = ctx.state["n"] = ctx.state.get("n", 0) + 1
    if n == 1:
        await ctx.market_buy("10%")                        # opens a long: a tenth of the USDT as notional
        ctx.state["long"] = ctx.position.contracts
        ctx.state["close"] = ctx.close
        ctx.state["half_of_long"] = ctx.mode_context.market_spec(ctx.symbol).adapt_quantity(ctx.position.contracts / 2)
        exit = await ctx.limit_sell("all", offset="+2%")   # closes it all
        ctx.state["exit"] = (exit.amount, exit.side.value)
        half = await ctx.limit_sell("50%", offset="+3%")   # half of the position
        ctx.state["half"] = half.amount
        await ctx.cancel_all()
    elif n == 2:
        await ctx.market_sell("all")                       # closes the long at market
        ctx.state["after_close"] = ctx.position
        await ctx.market_sell("10%")                       # opens a short: a tenth of the USDT as notional
        ctx.state["short"] = (ctx.position.side.value, ctx.position.contracts)
        cover = await ctx.limit_buy("all", offset="-2%")   # closes the short
        ctx.state["cover"] = (cover.amount, cover.side.value)
"""


async def test_relative_amounts_on_a_contract_close_from_the_position_and_open_from_the_quote(
    tmp_path: Path,
) -> None:
    path = script_in(tmp_path, CONTRACT_SCRIPT)
    data = CandleData.from_file(FUTURES)
    built: list[ScriptedMode] = []
    await run_backtest(
        data,
        trading_mode=_recorded(path, built),
        mode_config={"on_error": "raise"},
        starting_portfolio={"USDT": "1000"},
        fees=ot.Fees(maker="0", taker="0"),
        contracts={"XRP/USDT:USDT": ot.ContractSpec(leverage="5", maintenance_margin_rate="0.004")},
    )
    [mode] = built
    state = mode.state
    long = state["long"]
    assert long > 0 and Decimal("90") <= long * state["close"] <= Decimal("100")  # a tenth of the 1000 USDT
    assert state["exit"] == (long, "sell")
    assert state["half"] == state["half_of_long"] > 0
    assert state["after_close"] is None
    side, short = state["short"]
    assert side == "short" and short > 0
    assert state["cover"] == (short, "buy")
