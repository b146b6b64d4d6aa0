"""A liquidation cancels the orders still resting for the liquidated position at the venue: they
never fill later in the candle or at a later candle, their margin reservation is released, and
the trading mode sees them canceled through the ordinary order updates. XRP/USDT:USDT, 10x
isolated, mmr 0.004, no fees; a long of 100 at 1.2 (margin 12, liquidation about 1.0843) with a
limit buy of 100 at 0.9 resting below it (reserving 9). In hedge mode only the orders of the
liquidated side are canceled."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import octobot_trading as ot
from tests.backtesting.scripted_futures import XRP, flat, scripted_run

M, L, BUY, SELL = ot.OrderType.MARKET, ot.OrderType.LIMIT, ot.OrderSide.BUY, ot.OrderSide.SELL
NO_FEES = ot.Fees(maker="0", taker="0")
SEEN: dict[str, Any] = {}


async def _long_with_a_resting_buy(ctx: Any) -> None:
    await ctx.trader.create_order(M, BUY, XRP, "100")
    await ctx.trader.create_order(L, BUY, XRP, "100", price="0.9")


async def _local_view(ctx: Any) -> tuple[list[Any], list[Any], D]:
    manager = ctx.trader.orders_manager
    canceled = [o.status for o in manager.all_orders() if o.status is ot.OrderStatus.CANCELED]
    return [o.price for o in manager.open_orders(XRP)], canceled, ctx.portfolio.available("USDT")


def _assert_only_the_entry_and_the_liquidation(result: Any, seen: list[Any]) -> None:
    assert [liq.side for liq in result.liquidations] == [ot.PositionSide.LONG]
    assert [(t.side, t.price) for t in result.trades] == [(BUY, D("1.2"))]  # the buy at 0.9 never fills
    assert result.positions == []
    assert result.final_portfolio["USDT"] == D(1000) - D(12)
    open_prices, canceled, available = seen[-1]
    assert open_prices == []  # the mode saw it canceled
    assert canceled == [ot.OrderStatus.CANCELED]
    assert available == D(1000) - D(12)  # its reservation of 9 released locally too


async def test_a_buy_below_the_liquidation_price_never_fills_in_the_liquidating_candle(tmp_path: Path) -> None:
    prices = [flat("1.2"), ("1.2", "1.2", "0.85", "0.95"), flat("0.95")]
    result, seen = await scripted_run(tmp_path, prices, {0: _long_with_a_resting_buy}, every=_local_view, fees=NO_FEES)
    _assert_only_the_entry_and_the_liquidation(result, seen)


async def test_a_resting_buy_never_fills_at_a_later_candle_after_a_liquidation(tmp_path: Path) -> None:
    prices = [flat("1.2"), ("1.2", "1.2", "1.0", "1.05"), ("1.05", "1.05", "0.85", "0.9"), flat("0.9")]
    result, seen = await scripted_run(tmp_path, prices, {0: _long_with_a_resting_buy}, every=_local_view, fees=NO_FEES)
    _assert_only_the_entry_and_the_liquidation(result, seen)


async def test_hedge_mode_keeps_the_orders_of_the_other_side(tmp_path: Path) -> None:
    async def both_sides(ctx: Any) -> None:
        await ctx.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
        await ctx.trader.create_order(M, BUY, XRP, "100", position_side=ot.PositionSide.LONG)
        SEEN["short_entry"] = await ctx.trader.create_order(
            L, SELL, XRP, "10", "1.3", position_side=ot.PositionSide.SHORT
        )
        SEEN["long_entry"] = await ctx.trader.create_order(L, BUY, XRP, "10", "1.0", position_side=ot.PositionSide.LONG)

    prices = [flat("1.2"), ("1.2", "1.2", "1.05", "1.05"), ("1.05", "1.31", "1.05", "1.3"), flat("1.3")]
    result, _ = await scripted_run(tmp_path, prices, {0: both_sides}, fees=NO_FEES)
    assert [liq.side for liq in result.liquidations] == [ot.PositionSide.LONG]
    assert SEEN["long_entry"].status is ot.OrderStatus.CANCELED
    assert SEEN["short_entry"].status in (ot.OrderStatus.FILLED, ot.OrderStatus.CLOSED)
    assert [(p.side, p.size) for p in result.positions] == [(ot.PositionSide.SHORT, D(10))]
