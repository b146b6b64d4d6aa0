"""ScriptedMode in backtests: the shipped example script, load errors naming file and line, declared
feeds, DSL errors before any order, no reload during a backtest, and mode-spec resolution."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes import DSLError, ScriptedMode, ScriptError, load_script, resolve_mode
from tests.modes.script_files import script_in

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "scripted_sma.py"
DATA = ROOT / "octobot_trading" / "testing" / "data" / "BTC_USDT-1h.json"
SPEC = {"BTC/USDT": ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_amount="0.00001", min_cost="5")}


def _data() -> CandleData:
    return CandleData.from_file(DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")


async def _backtest(mode: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return await run_backtest(
        _data(), trading_mode=mode, mode_config=config, starting_portfolio={"USDT": "10000"}, markets=SPEC, **kwargs
    )


def _conserved(result: Any) -> None:
    balances = {"BTC": Decimal(0), "USDT": Decimal("10000")}
    for fill in result.trades:
        sign = 1 if fill.side is ot.OrderSide.BUY else -1
        balances["BTC"] += sign * fill.amount
        balances["USDT"] -= sign * fill.amount * fill.price
        balances[fill.fee_currency] -= fill.fee
    for currency, amount in balances.items():
        assert result.final_portfolio.get(currency, Decimal(0)) == amount


async def test_example_script_trades_in_a_backtest() -> None:
    result = await _backtest(ScriptedMode, {"script": str(EXAMPLE)})
    buys = [f for f in result.trades if f.side is ot.OrderSide.BUY]
    sells = [f for f in result.trades if f.side is ot.OrderSide.SELL]
    assert len(buys) >= 3 and len(sells) >= 3
    assert all(f.order_type == "market" for f in result.trades)
    # "95%" of the available quote, rounded down to the step (the fee is taken from the base received)
    assert buys[0].amount == SPEC["BTC/USDT"].adapt_quantity(Decimal("9500") / buys[0].price)
    _conserved(result)
    again = await _backtest(ScriptedMode, {"script": str(EXAMPLE)})
    assert again.event_log_hash == result.event_log_hash  # deterministic


async def test_on_fill_take_profit_of_the_example_rests_above_the_entry_and_fills(tmp_path: Path) -> None:
    path = script_in(tmp_path, EXAMPLE.read_text().replace('offset="+3%"', 'offset="+0.5%"'))
    result = await _backtest(ScriptedMode, {"script": str(path), "on_error": "raise"})
    _conserved(result)
    take_profits = [f for f in result.trades if f.order_type == "limit"]
    assert take_profits and all(f.side is ot.OrderSide.SELL for f in take_profits)
    held = Decimal(0)
    entry: Any = None
    for fill in result.trades:
        if fill.order_type == "limit":
            # 0.5 % above the close the entry filled at, rounded up to the tick; "all": every base unit held
            assert fill.price == SPEC["BTC/USDT"].adapt_price(entry.price * Decimal("1.005"), ot.OrderSide.SELL)
            assert fill.amount == SPEC["BTC/USDT"].adapt_quantity(held)
        if fill.side is ot.OrderSide.BUY:
            entry = fill
            held += fill.amount - (fill.fee if fill.fee_currency == "BTC" else 0)
        else:
            held -= fill.amount


async def test_same_script_through_resolve_mode_gives_the_same_backtest() -> None:
    direct = await _backtest(ScriptedMode, {"script": str(EXAMPLE)})
    resolved = await _backtest(resolve_mode(str(EXAMPLE)))
    assert resolved.event_log_hash == direct.event_log_hash


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("TIME_FRAMES = ['1h']\n\nasync def on_candle(ctx)\n    pass\n", 3, "syntax error"),
        ("TIME_FRAMES = ['1h']\nx = 1\ny = x / 0\n\nasync def on_candle(ctx):\n    pass\n", 3, "ZeroDivisionError"),
        ("TIME_FRAMES = ['1h']\n\ndef on_candle(ctx):\n    pass\n", 3, "async def"),
        (
            "TIME_FRAMES = ['1h']\n\nasync def on_candle(ctx):\n    pass\n\ndef on_fill(ctx, order):\n    pass\n",
            6,
            "on_fill must be",
        ),
        ("x = 1\nTIME_FRAMES = ['7q']\n\nasync def on_candle(ctx):\n    pass\n", 2, "TIME_FRAMES"),
        ("SYMBOLS = 'BTC/USDT'\n\nasync def on_candle(ctx):\n    pass\n", 1, "SYMBOLS"),
    ],
)
def test_a_script_that_fails_to_load_is_a_script_error_naming_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = script_in(tmp_path, body)
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert info.value.path == str(path.resolve()) and info.value.line == line
    assert f"{path.resolve()}:{line}:" in str(info.value) and message in str(info.value)


def test_a_script_without_on_candle_or_file_is_a_script_error(tmp_path: Path) -> None:
    path = script_in(tmp_path, "TIME_FRAMES = ['1h']\n")
    with pytest.raises(ScriptError, match="no `async def on_candle"):
        load_script(path)
    with pytest.raises(ScriptError, match="cannot read"):
        load_script(tmp_path / "missing.py")


async def test_a_feed_the_data_lacks_fails_the_backtest_naming_the_script(tmp_path: Path) -> None:
    path = script_in(tmp_path, "TIME_FRAMES = ['4h']\n\nasync def on_candle(ctx):\n    pass\n")
    with pytest.raises(ConfigurationError, match="time frame 4h") as info:
        await _backtest(ScriptedMode, {"script": str(path)})
    assert str(path.resolve()) in str(info.value)


async def test_malformed_dsl_string_is_refused_before_any_order_and_raised_when_asked(tmp_path: Path) -> None:
    path = script_in(
        tmp_path,
        """
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            await ctx.market_buy("10 percent")
    """,
    )
    result = await _backtest(ScriptedMode, {"script": str(path)})
    assert result.trades == [] and result.final_portfolio == {"USDT": Decimal("10000")}
    with pytest.raises(DSLError, match="'10 percent'"):
        await _backtest(ScriptedMode, {"script": str(path), "on_error": "raise"})


async def test_script_sees_the_trigger_candle_exactly_and_its_declared_feeds_only(tmp_path: Path) -> None:
    log = tmp_path / "calls.txt"
    path = script_in(
        tmp_path,
        f"""
        TIME_FRAMES = ["1h"]
        LOG = {str(log)!r}

        async def on_start(ctx):
            with open(LOG, "a") as f:
                f.write(f"start {{ctx.time_ms}}\\n")

        async def on_candle(ctx):
            assert ctx.close == ctx.mode_context.symbols_data.get(ctx.symbol).candles("1h").last_candle().close
            assert ctx.closes(3)[-1] == float(ctx.close) and len(ctx.times(5)) <= 5
            with open(LOG, "a") as f:
                f.write(f"candle {{ctx.symbol}} {{ctx.time_frame}} {{ctx.time_ms}} {{ctx.open}} {{ctx.close}}\\n")
    """,
    )
    await _backtest(ScriptedMode, {"script": str(path), "on_error": "raise"})
    lines = log.read_text().splitlines()
    series = _data().get("BTC/USDT", "1h")
    assert lines[0].startswith("start ") and lines.count(lines[0]) == 1
    candles = [line.split() for line in lines[1:]]
    assert len(candles) == len(series)  # the gate may open on the first candle at the earliest
    first_open = ot.util.decimals.decimal_from_data_float(series.opens[0])
    first_close = ot.util.decimals.decimal_from_data_float(series.closes[0])
    assert candles[0] == [
        "candle",
        "BTC/USDT",
        "1h",
        str(int(series.times[0]) + 3_600_000),
        str(first_open),
        str(first_close),
    ]


async def test_no_reload_in_a_backtest_even_when_the_file_changes_during_the_run(tmp_path: Path) -> None:
    log = tmp_path / "calls.txt"
    path = tmp_path / "script.py"
    second = textwrap.dedent(f"""
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            with open({str(log)!r}, "a") as f:
                f.write("v2\\n")
    """)
    path.write_text(
        textwrap.dedent(f"""
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            with open({str(log)!r}, "a") as f:
                f.write("v1\\n")
            with open({str(path)!r}, "w") as f:  # the file changes under the running backtest
                f.write({second!r})
    """),
        encoding="utf-8",
    )
    await _backtest(ScriptedMode, {"script": str(path), "reload_check_ms": 0})
    assert set(log.read_text().splitlines()) == {"v1"}


def test_resolve_mode_accepts_names_import_paths_script_paths_and_classes() -> None:
    assert resolve_mode("sma_cross") is ot.modes.SmaCrossMode
    assert resolve_mode("dca") is ot.modes.DCATradingMode
    assert resolve_mode("scripted") is ScriptedMode
    assert resolve_mode("octobot_trading.modes.grid:GridTradingMode") is ot.modes.GridTradingMode
    assert resolve_mode(ot.modes.SmaCrossMode) is ot.modes.SmaCrossMode
    scripted = resolve_mode(str(EXAMPLE))
    assert issubclass(scripted, ScriptedMode)
    assert scripted.validate_config({}).script == str(EXAMPLE.resolve())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown trading mode 'nope'"),
        ("no_such_package.mod:Mode", "cannot import no_such_package.mod"),
        ("octobot_trading.modes.grid:Missing", "has no Missing"),
        ("octobot_trading.modes.grid:GridConfig", "not an AbstractTradingMode subclass"),
        ("", "empty"),
    ],
)
def test_resolve_mode_refuses_a_bad_spec_with_a_configuration_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        resolve_mode(spec)
    assert info.value.field == "mode"


def test_resolve_mode_of_a_broken_script_is_a_script_error(tmp_path: Path) -> None:
    path = script_in(tmp_path, "async def on_candle(ctx):\n    return (\n")
    with pytest.raises(ScriptError) as info:
        resolve_mode(str(path))
    assert info.value.path == str(path.resolve())
    with pytest.raises(ScriptError, match="cannot read"):
        resolve_mode(str(tmp_path / "absent.py"))


async def test_api_example_and_every_order_method_of_the_context(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    path = script_in(
        tmp_path,
        f"""
        from decimal import Decimal
        from octobot_trading.modes import DSLError
        TIME_FRAMES = ["1h"]

        def note(*parts):
            with open({str(log)!r}, "a") as f:
                f.write(" ".join(str(p) for p in parts) + "\\n")

        async def on_candle(ctx):
            n = ctx.state["n"] = ctx.state.get("n", 0) + 1
            if n == 25:  # the documented scripted-mode example
                if ctx.closes(20).mean() < ctx.close or True:
                    buy = await ctx.market_buy("10%")
                    tp = await ctx.limit_sell("all", offset="+2%")
                    note("example", buy.amount, buy.order_type, tp.price, tp.amount, ctx.close)
            if n == 26:
                note("precancel", len(await ctx.cancel_all()))  # the take-profit holds all the base
                low = await ctx.limit_buy("0.01", "@15000")
                rel = await ctx.limit_buy("10%", offset="-5%")
                stop = await ctx.stop_loss("0.1", offset="-10%")
                take = await ctx.take_profit("0.1", price="30000")
                note("orders", low.price, low.amount, rel.price, rel.amount, stop.order_type, stop.trigger_price,
                     take.order_type, take.trigger_price, len(ctx.open_orders()), ctx.close)
                for text in ("e+2%", "5%p"):
                    try:
                        await ctx.limit_sell("5%p" if text == "5%p" else "0.1", offset=text if text != "5%p" else "+1%")
                    except DSLError as exc:
                        note("refused", exc.text)
                note("position", ctx.position)
                cancelled = await ctx.cancel_all()
                note("cancelled", len(cancelled), len(ctx.open_orders()), ctx.available("USDT") == ctx.total("USDT"))
    """,
    )
    result = await run_backtest(
        _data(),
        trading_mode=ScriptedMode,
        mode_config={"script": str(path), "on_error": "raise"},
        starting_portfolio={"USDT": "10000", "BTC": "1"},
        markets=SPEC,
    )
    lines = [line.split() for line in log.read_text().splitlines()]
    example, precancel, orders, refused_entry, refused_position, position, cancelled = lines
    assert precancel == ["precancel", "1"]
    close = Decimal(example[5])
    assert example[2] == "market" and Decimal(example[1]) == SPEC["BTC/USDT"].adapt_quantity(
        Decimal("1000") / close
    )  # 10 % of the available quote at the close (no slippage, fee in base)
    assert Decimal(example[3]) == SPEC["BTC/USDT"].adapt_price(close * Decimal("1.02"), ot.OrderSide.SELL)
    close26 = Decimal(orders[10])
    assert [Decimal(v) for v in orders[1:3]] == [Decimal("15000"), Decimal("0.01")]
    assert Decimal(orders[3]) == SPEC["BTC/USDT"].adapt_price(close26 * Decimal("0.95"), ot.OrderSide.BUY)
    assert orders[5] == "stop_loss" and orders[7] == "take_profit" and Decimal(orders[8]) == 30000
    assert Decimal(orders[6]) == SPEC["BTC/USDT"].adapt_price(close26 * Decimal("0.9"), rounding="nearest")
    assert orders[9] == "4"
    assert refused_entry == ["refused", "e+2%"] and refused_position == ["refused", "5%p"]
    assert position == ["position", "None"]
    assert cancelled == ["cancelled", "4", "0", "True"]
    assert [f.order_type for f in result.trades] == ["market"]  # nothing else filled before the cancel


async def test_on_fill_sees_the_entry_and_its_bundled_take_profit(tmp_path: Path) -> None:
    log = tmp_path / "fills.txt"
    path = script_in(
        tmp_path,
        f"""
        from decimal import Decimal
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            if not ctx.state.get("done") and len(ctx.closes()) >= 30:
                ctx.state["done"] = True
                await ctx.market_buy("20%", take_profit_price=ctx.close * Decimal("1.004"))

        async def on_fill(ctx, order):
            with open({str(log)!r}, "a") as f:
                f.write(f"{{order.side}} {{order.order_type}} {{order.filled}} {{ctx.time_ms}}\\n")
    """,
    )
    result = await _backtest(ScriptedMode, {"script": str(path), "on_error": "raise"})
    entry, take_profit = result.trades
    assert log.read_text().splitlines() == [
        f"buy market {entry.amount} {entry.time}",
        f"sell limit {take_profit.amount} {take_profit.time}",
    ]


async def test_callback_errors_name_the_script_line_are_kept_bounded_and_repeats_are_not_all_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = script_in(
        tmp_path,
        """
        TIME_FRAMES = ["1h"]

        async def on_candle(ctx):
            if ctx.state.setdefault("n", 0) % 2:
                ctx.state["n"] += 1
                await ctx.market_buy("10 percent")
            ctx.state["n"] += 1
            1 / 0
    """,
    )
    caplog.set_level("ERROR")
    built: list[ScriptedMode] = []

    class Recorded(ScriptedMode.for_script(path)):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    result = await _backtest(Recorded)
    assert result.trades == []
    [mode] = built
    assert mode.error_count == 240 and len(mode.errors) == 100  # one failure per candle, the last 100 kept
    dsl = [e for e in mode.errors if isinstance(e, DSLError)]
    other = [e for e in mode.errors if not isinstance(e, DSLError)]
    assert len(dsl) == len(other) == 50
    where = str(path.resolve())
    assert {(e.path, e.line) for e in dsl} == {(where, 7)}
    assert str(dsl[0]).startswith(f"{where}:7: malformed amount '10 percent'")
    assert {(e.path, e.line) for e in other} == {(where, 9)}
    logged = [r.getMessage() for r in caplog.records]
    # each of the two distinct errors is logged at its 1st, 10th and 100th occurrence only
    assert len([m for m in logged if "10 percent" in m]) == 3
    assert len([m for m in logged if "ZeroDivisionError" in m]) == 3
    assert any(m.endswith("(repeated 100 times)") for m in logged)
