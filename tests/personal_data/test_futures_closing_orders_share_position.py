"""Closing orders share their position whether they are reduce-only or not: each contract of a
position is counted on closing by at most one resting order. A reduce-only order gets no room for
what an earlier resting ordinary (not reduce-only) order counts on closing (that order reserved no
margin for it), and a resting flip is not credited the close an earlier resting reduce-only order
counts on (if that one fills first, the flip opens its whole amount); a market flip, filled at
once before any resting order, keeps the credit. Simulated venue through the real trader (linear
XRP/USDT:USDT, contract size 1, leverage 10, taker fee 0.0004, isolated, one-way)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionSide
from octobot_trading.errors import InsufficientFunds, InvalidOrder
from tests.simulator.test_futures_orders_positions_and_margin import (
    XRP,
    candle,
    local_matches_venue,
    market,
    xrp_account,
)

BUY, SELL, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.LIMIT


async def test_a_reduce_only_order_gets_no_room_for_what_a_resting_ordinary_close_counts_on():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    close = await acc.trader.create_order(LIMIT, SELL, XRP, "60", price="1.5")  # closes 60: nothing reserved
    assert close.reserved_amount == 0
    before = acc.asset("USDT")
    with pytest.raises(InvalidOrder) as refused:
        await acc.trader.create_order(LIMIT, SELL, XRP, "41", price="1.4", reduce_only=True)
    assert refused.value.limit == "reduce_only" and refused.value.symbol == XRP
    assert acc.asset("USDT") == before
    assert [o.id for o in acc.personal.orders_manager.open_orders(XRP)] == [close.id]
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "40", price="1.4", reduce_only=True)
    await candle(acc, "1.2", "1.6", "1.2", "1.55")  # both fill: the long closes, no short opens
    assert (take_profit.status, close.status) == (OrderStatus.CLOSED, OrderStatus.CLOSED)
    assert acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)


async def test_a_resting_flip_is_not_credited_the_close_a_resting_reduce_only_order_counts_on():
    acc = await xrp_account(wallet="10")
    await market(acc, BUY, "80", "1.2")  # margin 9.6, fee 0.0384: 0.3616 available
    await acc.trader.create_order(LIMIT, SELL, XRP, "80", price="1.22", reduce_only=True)
    before = acc.asset("USDT")
    with pytest.raises(InsufficientFunds):  # the take-profit may close the long first: 160 to open
        await acc.trader.create_order(LIMIT, SELL, XRP, "160", price="1.25")
    assert acc.asset("USDT") == before
    await local_matches_venue(acc)


async def test_a_resting_flip_is_credited_what_no_resting_reduce_only_order_counts_on():
    acc = await xrp_account(wallet="1000")
    await market(acc, BUY, "80", "1.2")  # initial margin 9.6
    await acc.trader.create_order(LIMIT, SELL, XRP, "30", price="1.22", reduce_only=True)  # counts on 30
    flip = await acc.trader.create_order(LIMIT, SELL, XRP, "130", price="1.25")  # closes the other 50, opens 80
    opened_margin = D(80) * D("1.25") / 10
    fee = D(130) * D("1.25") * D("0.0004")
    freed = D("9.6") * 50 / 80 + D(50) * (D("1.25") - D("1.2"))
    assert flip.reserved_amount == opened_margin + fee - freed
    await candle(acc, "1.2", "1.3", "1.2", "1.25")
    short = acc.personal.positions_manager.get(XRP)
    assert short is not None and (short.side, short.size) == (PositionSide.SHORT, D(80))
    await local_matches_venue(acc)
