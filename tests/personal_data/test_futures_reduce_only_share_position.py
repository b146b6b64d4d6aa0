"""Resting reduce-only orders share their position: one is accepted only for what the position
has left after the other resting reduce-only orders closing it, at the trader and at the
simulated venue, in one-way and hedge mode; no reduce-only fill ever opens or grows a position.
Simulated venue through the real trader (linear XRP/USDT:USDT, contract size 1)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionMode, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.exchanges.connectors.simulator.futures_venue import FuturesVenue
from tests.simulator.test_futures_orders_positions_and_margin import (
    XRP,
    candle,
    local_matches_venue,
    market,
    xrp_account,
    xrp_spec,
)

BUY, SELL, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.LIMIT


async def test_a_second_reduce_only_order_larger_than_what_the_first_leaves_is_refused_naming_the_symbol():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    first = await acc.trader.create_order(LIMIT, SELL, XRP, "60", price="1.5", reduce_only=True)
    before = acc.asset("USDT")
    with pytest.raises(InvalidOrder) as refused:
        await acc.trader.create_order(LIMIT, SELL, XRP, "50", price="1.6", reduce_only=True)
    assert refused.value.limit == "reduce_only" and refused.value.symbol == XRP
    assert XRP in str(refused.value)
    assert acc.asset("USDT") == before
    assert [o.id for o in acc.personal.orders_manager.open_orders(XRP)] == [first.id]
    second = await acc.trader.create_order(LIMIT, SELL, XRP, "40", price="1.6", reduce_only=True)
    await candle(acc, "1.2", "1.7", "1.2", "1.65")  # both fill: the position closes, no short opens
    assert (first.status, second.status) == (OrderStatus.CLOSED, OrderStatus.CLOSED)
    assert acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)


async def test_two_reduce_only_sells_of_the_whole_long_are_not_both_accepted():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    await acc.trader.create_order(LIMIT, SELL, XRP, "100", price="1.5", reduce_only=True)
    with pytest.raises(InvalidOrder) as refused:
        await acc.trader.create_order(LIMIT, SELL, XRP, "100", price="1.6", reduce_only=True)
    assert refused.value.limit == "reduce_only"
    await candle(acc, "1.2", "1.7", "1.2", "1.65")
    assert acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)


async def test_the_simulated_venue_itself_refuses_a_reduce_only_order_the_other_ones_already_cover():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    params = {"reduceOnly": True}
    await acc.connector.create_order(LIMIT, SELL, XRP, D(70), D("1.5"), client_order_id="a", params=params)
    with pytest.raises(InvalidOrder) as refused:
        await acc.connector.create_order(LIMIT, SELL, XRP, D(31), D("1.6"), client_order_id="b", params=params)
    assert refused.value.limit == "reduce_only" and refused.value.symbol == XRP
    await acc.connector.create_order(LIMIT, SELL, XRP, D(30), D("1.6"), client_order_id="c", params=params)


async def test_hedge_mode_reduce_only_orders_share_only_the_side_they_close():
    acc = await xrp_account(position_mode=PositionMode.HEDGE)
    long_, short = PositionSide.LONG, PositionSide.SHORT
    await market(acc, BUY, "100", "1.2", position_side=long_)
    await market(acc, SELL, "50", "1.2", position_side=short)
    await acc.trader.create_order(LIMIT, SELL, XRP, "80", price="1.5", reduce_only=True, position_side=long_)
    with pytest.raises(InvalidOrder) as refused:
        await acc.trader.create_order(LIMIT, SELL, XRP, "30", price="1.6", reduce_only=True, position_side=long_)
    assert refused.value.limit == "reduce_only" and refused.value.symbol == XRP
    cover = await acc.trader.create_order(LIMIT, BUY, XRP, "50", price="1.0", reduce_only=True, position_side=short)
    assert cover.status is OrderStatus.OPEN
    await acc.trader.create_order(LIMIT, SELL, XRP, "20", price="1.6", reduce_only=True, position_side=long_)
    await acc.trader.cancel_order(cover)  # (the short would be liquidated by the candle below)
    await candle(acc, "1.2", "1.7", "1.2", "1.65")
    assert acc.personal.positions_manager.get(XRP, long_) is None
    assert [t.side for t in acc.personal.trades_manager.trades(XRP)[-2:]] == [SELL, SELL]


async def test_a_reduce_only_order_left_larger_than_its_shrunk_position_fills_what_is_held_and_the_rest_is_canceled():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "100", price="1.5", reduce_only=True)
    await market(acc, SELL, "40", "1.3")  # the position shrinks another way: 60 left
    with pytest.raises(InvalidOrder):  # the resting one already covers more than what is left
        await acc.trader.create_order(LIMIT, SELL, XRP, "10", price="1.6", reduce_only=True)
    await candle(acc, "1.3", "1.6", "1.3", "1.55")
    assert take_profit.status is OrderStatus.CANCELED and take_profit.filled == D(60)
    (fill,) = [t for t in acc.personal.trades_manager.trades(XRP) if t.order_id == take_profit.id]
    assert (fill.amount, fill.price) == (D(60), D("1.5"))
    assert acc.personal.positions_manager.get(XRP) is None  # closed; no short opened
    assert acc.connector.positions_snapshot() == []
    await local_matches_venue(acc)


async def test_a_hedge_reduce_only_order_larger_than_its_shrunk_side_fills_what_that_side_holds():
    acc = await xrp_account(position_mode=PositionMode.HEDGE)
    long_, short = PositionSide.LONG, PositionSide.SHORT
    await market(acc, BUY, "100", "1.2", position_side=long_)
    await market(acc, SELL, "50", "1.2", position_side=short)
    take_profit = await acc.trader.create_order(
        LIMIT, SELL, XRP, "100", price="1.3", reduce_only=True, position_side=long_
    )
    await market(acc, SELL, "70", "1.2", position_side=long_)  # the long shrinks to 30
    await candle(acc, "1.2", "1.31", "1.2", "1.3")  # (below the short's liquidation price)
    assert take_profit.status is OrderStatus.CANCELED and take_profit.filled == D(30)
    assert acc.personal.positions_manager.get(XRP, long_) is None
    kept = acc.personal.positions_manager.get(XRP, short)
    assert kept is not None and kept.size == D(50)  # the other side is untouched
    await local_matches_venue(acc)


async def test_a_reduce_only_order_whose_position_closed_another_way_is_canceled_whole_at_its_price():
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "100", price="1.5", reduce_only=True)
    await market(acc, SELL, "100", "1.3")
    await candle(acc, "1.3", "1.6", "1.3", "1.55")
    assert take_profit.status is OrderStatus.CANCELED and take_profit.filled == 0
    assert acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)


_SIDES = (BUY, SELL)
_STEPS = st.lists(
    st.tuples(st.sampled_from(["trade", "reduce_only", "fill"]), st.integers(0, 20), st.integers(1, 150)),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(steps=_STEPS)
def test_no_reduce_only_fill_ever_opens_or_grows_a_position(steps: list[tuple[str, int, int]]) -> None:
    """Any sequence of trades, reduce-only placements and (partial) reduce-only fills on the
    simulated venue (one-way): the resting reduce-only orders never cover more than the position
    holds when placed, and no reduce-only fill opens, grows or flips a position."""
    venue = FuturesVenue({XRP: xrp_spec()}, {"USDT": D(10**6)})
    price, fee = D("1.2"), D("0.0004")
    resting: list[tuple[str, OrderSide, D]] = []
    for number, (kind, choice, size) in enumerate(steps):
        order_id, side, amount = f"o{number}", _SIDES[choice % 2], D(size)
        if kind == "trade":
            venue.reserve(order_id, XRP, side, amount, price, fee, False, None)
            venue.fill(f"t{number}", order_id, XRP, side, amount, price, fee, number)
            venue.release(order_id)
        elif kind == "reduce_only":
            try:
                venue.reserve(order_id, XRP, side, amount, price, fee, True, None)
            except InvalidOrder as refused:
                assert refused.limit == "reduce_only" and refused.symbol == XRP
                continue
            resting.append((order_id, side, amount))
            held = venue.account.get(XRP)
            covered = sum((left for _, s, left in resting if s is side), D(0))
            assert held is not None and covered <= held.contracts
        elif resting:
            order_id, side, left = resting[choice % len(resting)]
            amount = min(amount, left)
            before = venue.account.get(XRP)
            try:
                venue.fill(f"t{number}", order_id, XRP, side, amount, price, fee, number)
            except InvalidOrder:  # the venue cancels it instead
                venue.release(order_id)
                resting = [r for r in resting if r[0] != order_id]
                continue
            after = venue.account.get(XRP)
            assert before is not None
            assert after is None or (after.side is before.side and after.contracts < before.contracts)
            if amount == left:
                venue.release(order_id)
            resting = [(i, s, a - amount if i == order_id else a) for i, s, a in resting]
            resting = [r for r in resting if r[2] > 0]


async def test_a_reduce_only_stop_loss_beside_a_take_profit_of_the_whole_position_is_accepted():
    """Conditional orders are judged when they trigger (as on Binance): a bracket's stop-loss and
    take-profit may each cover the whole position."""
    acc = await xrp_account()
    await market(acc, BUY, "100", "1.2")
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "100", price="1.5", reduce_only=True)
    stop = await acc.trader.create_order(OrderType.STOP_LOSS, SELL, XRP, "100", trigger_price="1.1", reduce_only=True)
    assert stop.status is OrderStatus.OPEN
    await candle(acc, "1.2", "1.2", "1.05", "1.08")  # the stop fills: the long closes, no short opens
    assert stop.status is OrderStatus.CLOSED and acc.personal.positions_manager.get(XRP) is None
    await candle(acc, "1.08", "1.6", "1.08", "1.55")
    assert take_profit.status is OrderStatus.CANCELED and acc.personal.positions_manager.get(XRP) is None
    await local_matches_venue(acc)
