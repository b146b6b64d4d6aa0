"""Hot reload of a trading script on a paper-trading manager against the fake Binance server: an
edited file takes over at the next candle without restarting anything; a broken edit keeps the
previous version running and is reported as a typed error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes import ScriptedMode, ScriptError
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.modes.script_files import bare_context, write_script

VERSION = """
TIME_FRAMES = ["1h"]

async def on_candle(ctx):
    ctx.state.setdefault("calls", []).append(({name!r}, ctx.time_ms, str(ctx.close)))
    {action}
"""


async def _paper(server: FakeExchangeServer, script: Path) -> Any:
    return await (
        ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["1h"])
        .with_ccxt_options(server.ccxt_config())
        .with_client_hook(server.client_hook)
        .rest_only()
        .use_simulated_trader(starting_portfolio={"USDT": "1000"})
        .use_trading_mode(ScriptedMode, {"script": str(script), "reload_check_ms": 0})
        .build()
    )


async def test_edited_script_takes_over_at_the_next_candle_of_a_paper_run(tmp_path: Path) -> None:
    script = tmp_path / "strategy.py"
    write_script(script, VERSION.format(name="v1", action="pass"), 1_000_000_000)
    async with FakeExchangeServer() as server:
        manager = await _paper(server, script)
        async with manager:
            await manager.wait_ready(timeout=30)
            mode = manager.get_component("trading_modes").modes[0]
            updater = next(
                u for u in manager.get_component("exchange_data").updaters if isinstance(u, RestCandlesUpdater)
            )
            buffer = manager.exchange_symbols_data.get("BTC/USDT").candles("1h")

            async def next_candle() -> int:
                """The venue closes its next candle; the updater fetches and publishes it (no sleep)."""
                server.advance()
                expected = int(server.state.markets["BTCUSDT"].current[0])
                await updater.fetch_new("BTC/USDT", ot.TimeFrame.H1)
                await manager.channels.join()
                assert buffer.last_timestamp == expected
                return expected + 3_600_000

            t1 = await next_candle()
            write_script(script, VERSION.format(name="v2", action='await ctx.market_buy("10%")'), 2_000_000_000)
            t2 = await next_candle()
            write_script(script, "TIME_FRAMES = ['1h']\n\nasync def on_candle(ctx)\n    pass\n", 3_000_000_000)
            t3 = await next_candle()
            write_script(script, VERSION.format(name="v4", action="pass"), 4_000_000_000)
            t4 = await next_candle()

            assert [(name, t) for name, t, _ in mode.state["calls"]] == [("v1", t1), ("v2", t2), ("v2", t3), ("v4", t4)]
            assert mode.reloads == 2 and mode.is_started
            assert manager.get_component("trading_modes").modes == [mode]  # same mode, never restarted
            # the broken edit: a typed error naming the file and line, logged, the previous version kept
            [error] = mode.errors
            assert isinstance(error, ScriptError)
            assert error.path == str(script.resolve()) and error.line == 3
            # v2 ran at t2 and, the broken edit keeping it, at t3: two paper market buys of 10 % of the quote
            first, second = manager.exchange_personal_data.trades_manager.trades()
            assert first.side is second.side is ot.OrderSide.BUY
            assert first.amount * first.price <= Decimal("100")
            assert second.amount * second.price <= (Decimal("1000") - first.amount * first.price) / 10
    assert not mode.is_started


def test_reload_check_is_paced_by_the_managers_clock_and_off_when_hot_reload_is(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    write_script(script, VERSION.format(name="v1", action="pass"), 1_000_000_000)
    clock = SimulatedClock(start_ms=0)
    context = bare_context(clock)
    mode = ScriptedMode(context, {"script": str(script), "reload_check_ms": 60_000})
    write_script(script, VERSION.format(name="v2", action="pass"), 2_000_000_000)
    mode.maybe_reload()  # first check: loads v2
    assert mode.reloads == 1
    write_script(script, VERSION.format(name="v3", action="pass") + "\n", 3_000_000_000)
    clock.advance(59_999)
    mode.maybe_reload()
    assert mode.reloads == 1  # too early on the manager's clock
    clock.advance(1)
    mode.maybe_reload()
    assert mode.reloads == 2
    assert mode.reload_if_changed() is False  # nothing changed since
    context.hot_reload = False  # backtests
    write_script(script, VERSION.format(name="v4", action="pass") + "\n\n", 4_000_000_000)
    assert mode.reload_if_changed() is False and mode.reloads == 2


def test_a_reload_declaring_a_feed_the_manager_lacks_keeps_the_running_version(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    write_script(script, VERSION.format(name="v1", action="pass"), 1_000_000_000)
    context = bare_context()
    mode = ScriptedMode(context, {"script": str(script)})
    running = mode.script
    write_script(script, VERSION.format(name="v2", action="pass").replace('["1h"]', '["1h", "4h"]'), 2_000_000_000)
    assert mode.reload_if_changed() is False
    assert mode.script is running
    [error] = mode.errors
    assert isinstance(error, ScriptError) and "time frame 4h" in str(error) and str(script.resolve()) in str(error)
    assert mode.reload_if_changed() is False and len(mode.errors) == 1  # the same content is reported once
