"""A script sharing one account with another mode lists and cancels only the orders it placed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes import GridTradingMode, ScriptedMode

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"

SCRIPT = """
    from decimal import Decimal
    TIME_FRAMES = ["5m"]

    async def on_candle(ctx):
        n = ctx.state["n"] = ctx.state.get("n", 0) + 1
        if n == 2:
            ctx.state["before"] = [o.id for o in ctx.open_orders()]
            low = await ctx.limit_buy("0.001", offset="-20%")
            entry = await ctx.market_buy("0.002", take_profit_price=ctx.close * Decimal("1.3"))
            ctx.state["placed"] = {low.id, entry.id, *(c.id for c in entry.chained_orders)}
        elif n == 3:
            ctx.state["listed"] = {o.id for o in ctx.open_orders()}
            ctx.state["cancelled"] = {o.id for o in await ctx.cancel_all()}
"""


async def test_cancel_all_and_open_orders_of_a_script_leave_another_modes_orders_alone(tmp_path: Path) -> None:
    script = tmp_path / "cancel_mine.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    manager = await (
        ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["5m"])
        .with_clock(ot.SimulatedClock(int(data.get("BTC/USDT", "5m").times[0])))
        .with_trading_config(starting_portfolio={"USDT": "10000", "BTC": "0.2"})
        .use_backtesting(data)
        .use_trading_mode(GridTradingMode, {"levels": 3, "spacing_percent": "5", "amount_per_level": "0.01"})
        .use_trading_mode(ScriptedMode, {"script": str(script), "on_error": "raise"})
        .build()
    )
    async with manager:
        await manager.get_component("backtest").run()
        grid, scripted = manager.get_component("trading_modes").modes
        orders = manager.exchange_personal_data.orders_manager.all_orders()
    assert isinstance(scripted, ScriptedMode) and isinstance(grid, GridTradingMode)
    state = scripted.state
    placed = state["placed"]
    others = [o for o in orders if o.id not in placed]
    assert len(placed) == 3 and len(others) >= 6  # the grid's limits rest on the same account
    assert state["before"] == []  # the grid's orders are never listed as the script's
    # the resting limit and the bundled take-profit (the market entry filled at once)
    assert len(state["listed"]) == 2 and state["listed"] < placed
    assert state["cancelled"] == state["listed"]
    assert [o for o in others if o.status is ot.OrderStatus.CANCELED] == []
    assert all(o.status is ot.OrderStatus.CANCELED for o in orders if o.id in state["cancelled"])
