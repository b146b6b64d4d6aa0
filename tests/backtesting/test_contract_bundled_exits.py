"""Exits bundled with a contract entry (``take_profit_price=`` / ``stop_loss_price=``) are
reduce-only and, in hedge mode, carry the entry's ``position_side``: they only ever close the
position the entry opened. XRP/USDT:USDT, 10x isolated, mmr 0.004, no fees; a long of 100 at 1.2
(margin 12, liquidation about 1.0843)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.errors import InvalidOrder
from tests.backtesting.scripted_futures import XRP, flat, scripted_run

M, BUY, SELL = ot.OrderType.MARKET, ot.OrderSide.BUY, ot.OrderSide.SELL
NO_FEES = ot.Fees(maker="0", taker="0")


def _positions(result: Any) -> list[tuple[str, D]]:
    return [(p.side.value, p.size) for p in result.positions]


async def test_the_take_profit_never_opens_a_short_after_a_liquidation(tmp_path: Path) -> None:
    async def entry(ctx: Any) -> None:
        await ctx.trader.create_order(M, BUY, XRP, "100", take_profit_price="1.3")

    prices = [flat("1.2"), ("1.2", "1.2", "1.0", "1.05"), ("1.05", "1.31", "1.05", "1.3"), flat("1.3")]
    result, _ = await scripted_run(tmp_path, prices, {0: entry}, fees=NO_FEES)
    assert [liq.side for liq in result.liquidations] == [ot.PositionSide.LONG]
    assert _positions(result) == []
    assert [(t.side, t.price) for t in result.trades] == [(BUY, D("1.2"))]  # the take-profit never fills
    assert result.final_portfolio["USDT"] == D(1000) - D(12)


async def test_the_take_profit_never_opens_a_short_after_a_manual_close(tmp_path: Path) -> None:
    async def entry_then_close(ctx: Any) -> None:
        await ctx.trader.create_order(M, BUY, XRP, "100", take_profit_price="1.3", stop_loss_price="1.1")
        # an ordinary sell closes it (a reduce-only one has no room: the resting take-profit closes it all)
        await ctx.trader.create_order(M, SELL, XRP, "100")

    prices = [flat("1.2"), ("1.2", "1.31", "1.2", "1.3"), flat("1.3")]
    result, _ = await scripted_run(tmp_path, prices, {0: entry_then_close}, fees=NO_FEES)
    assert _positions(result) == []
    assert [(t.side, t.amount) for t in result.trades] == [(BUY, D(100)), (SELL, D(100))]
    assert result.final_portfolio["USDT"] == D(1000)


async def test_the_stop_loss_of_a_bracket_closes_the_long(tmp_path: Path) -> None:
    async def entry(ctx: Any) -> None:
        await ctx.trader.create_order(M, BUY, XRP, "100", take_profit_price="1.3", stop_loss_price="1.15")

    prices = [flat("1.2"), ("1.2", "1.2", "1.12", "1.13"), ("1.13", "1.35", "1.13", "1.3"), flat("1.3")]
    result, _ = await scripted_run(tmp_path, prices, {0: entry}, fees=NO_FEES)
    assert _positions(result) == []
    assert result.liquidations == []
    assert [(t.side, t.amount) for t in result.trades] == [(BUY, D(100)), (SELL, D(100))]


async def test_hedge_mode_bundled_exits_close_the_entry_side(tmp_path: Path) -> None:
    async def entry(ctx: Any) -> None:
        await ctx.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
        await ctx.trader.create_order(
            M, BUY, XRP, "100", position_side=ot.PositionSide.LONG, take_profit_price="1.3", stop_loss_price="1.1"
        )
        exits = [o for o in ctx.trader.orders_manager.open_orders(XRP) if o.side is SELL]
        assert len(exits) == 2
        assert all(o.reduce_only and o.position_side is ot.PositionSide.LONG for o in exits)

    prices = [flat("1.2"), ("1.2", "1.31", "1.2", "1.3"), flat("1.3")]
    result, _ = await scripted_run(tmp_path, prices, {0: entry}, fees=NO_FEES)
    assert _positions(result) == []
    assert [(t.side, t.price, t.amount) for t in result.trades] == [(BUY, D("1.2"), D(100)), (SELL, D("1.3"), D(100))]
    assert result.final_portfolio["USDT"] == D(1000) + D(10)


async def test_exits_bundled_with_an_order_that_closes_part_of_a_position_are_refused(tmp_path: Path) -> None:
    outcomes: list[Any] = []

    async def long_then_bundled_closes(ctx: Any) -> None:
        await ctx.trader.create_order(M, BUY, XRP, "100")
        for amount in ("200", "50"):  # a flip, a reduce
            try:
                await ctx.trader.create_order(M, SELL, XRP, amount, take_profit_price="1.1", stop_loss_price="1.3")
            except InvalidOrder as err:
                outcomes.append(err.limit)
        outcomes.append(ctx.trader.orders_manager.open_orders(XRP))

    result, _ = await scripted_run(tmp_path, [flat("1.2"), flat("1.2")], {0: long_then_bundled_closes}, fees=NO_FEES)
    assert outcomes == ["bundled_exits", "bundled_exits", []]  # refused, nothing placed
    assert _positions(result) == [("long", D(100))]
    assert [(t.side, t.amount) for t in result.trades] == [(BUY, D(100))]
