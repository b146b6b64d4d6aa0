"""A one-way order that closes a position and opens the other side (a flip) is credited, in the
trader's margin reservation, only the part of the close that orders placed before it do not
already count on: one close never funds two new positions. Simulated venue through the real
trader (linear XRP/USDT:USDT, contract size 1, leverage 10, taker fee 0.0004, isolated, one-way)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionSide
from octobot_trading.errors import InsufficientFunds
from tests.simulator.test_futures_orders_positions_and_margin import (
    XRP,
    candle,
    local_matches_venue,
    market,
    xrp_account,
)

BUY, SELL, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.LIMIT


async def test_a_second_resting_flip_of_the_same_position_is_not_funded_by_the_close_the_first_counts_on():
    acc = await xrp_account(wallet="10")
    await market(acc, BUY, "80", "1.2")  # margin 9.6, fee 0.0384: 0.3616 available
    first = await acc.trader.create_order(LIMIT, SELL, XRP, "160", price="1.25")
    assert first.reserved_amount == 0  # opens 80 (margin 10, fee 0.08), the close frees 9.6 + PnL 4
    before = acc.asset("USDT")
    with pytest.raises(InsufficientFunds, match=r"20\.08"):  # nothing left to credit: 160 opened
        await acc.trader.create_order(LIMIT, SELL, XRP, "160", price="1.25")
    assert acc.asset("USDT") == before
    assert [o.id for o in acc.personal.orders_manager.open_orders(XRP)] == [first.id]
    await candle(acc, "1.2", "1.3", "1.2", "1.25")
    assert first.status is OrderStatus.CLOSED
    short = acc.personal.positions_manager.get(XRP)
    assert short is not None and (short.side, short.size) == (PositionSide.SHORT, D(80))
    await local_matches_venue(acc)


async def test_a_flip_is_not_credited_the_close_a_resting_closing_order_counts_on():
    acc = await xrp_account(wallet="10")
    await market(acc, BUY, "80", "1.2")
    closing = await acc.trader.create_order(LIMIT, SELL, XRP, "80", price="1.25")  # closes only: 0 reserved
    assert closing.reserved_amount == 0
    before = acc.asset("USDT")
    with pytest.raises(InsufficientFunds):  # the flip's 160 opened contracts need their whole margin
        await market(acc, SELL, "160", "1.2")
    assert acc.asset("USDT") == before and closing.status is OrderStatus.OPEN
    await local_matches_venue(acc)


async def test_a_flip_is_credited_the_close_a_resting_reduce_only_order_counts_on():
    """A reduce-only order never opens (the venue cancels what it would open): it needs no margin,
    so the flip keeps the close's credit."""
    acc = await xrp_account(wallet="10")
    await market(acc, BUY, "80", "1.2")
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "80", price="1.3", reduce_only=True)
    flip = await market(acc, SELL, "160", "1.2")
    assert flip.status is OrderStatus.CLOSED and take_profit.reserved_amount == 0
    short = acc.personal.positions_manager.get(XRP)
    assert short is not None and (short.side, short.size) == (PositionSide.SHORT, D(80))


async def test_a_flip_is_credited_the_part_of_the_close_no_earlier_order_counts_on():
    acc = await xrp_account(wallet="1000")
    await market(acc, BUY, "80", "1.2")  # initial margin 9.6
    await acc.trader.create_order(LIMIT, SELL, XRP, "40", price="1.3")  # counts on closing 40
    flip = await acc.trader.create_order(LIMIT, SELL, XRP, "120", price="1.25")  # closes the other 40, opens 80
    opened_margin = D(80) * D("1.25") / 10
    fee = D(120) * D("1.25") * D("0.0004")
    freed = D("9.6") * 40 / 80 + D(40) * (D("1.25") - D("1.2"))
    assert flip.reserved_amount == opened_margin + fee - freed
