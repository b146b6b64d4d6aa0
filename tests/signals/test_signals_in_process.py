"""A leader's order operations replayed by a follower in the same process (paper managers on the fake venue)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderStatus, OrderType

D = Decimal
SYMBOL = "BTC/USDT"


def _totals(manager) -> dict[str, tuple[Decimal, Decimal]]:
    return manager.exchange_personal_data.portfolio_manager.portfolio.snapshot()


def _open(manager) -> list:
    return manager.exchange_personal_data.orders_manager.open_orders(SYMBOL)


async def _handled(follower: ot.signals.SignalFollower, publisher: ot.signals.SignalPublisher) -> None:
    async with asyncio.timeout(10):
        await follower.wait_for(publisher.sequence, source=publisher.id)


@pytest.fixture
async def pair(paper_manager):
    leader = await paper_manager({"USDT": "10000"})
    follower_manager = await paper_manager({"USDT": "1000"})
    publisher = ot.signals.SignalPublisher(leader)
    follower = ot.signals.SignalFollower(follower_manager, source=publisher)
    await follower.start()
    try:
        yield leader, follower_manager, publisher, follower
    finally:
        await follower.stop()
        await publisher.close()


async def test_market_entry_with_exits_is_rebuilt_at_the_same_share_of_the_follower_portfolio(pair):
    leader, follower_manager, publisher, follower = pair
    last = leader.trader.price_of(SYMBOL)
    stop, take = (last * D("0.9")).quantize(D("0.01")), (last * D("1.1")).quantize(D("0.01"))
    entry = await leader.trader.create_order(
        "market", "buy", SYMBOL, "0.05", stop_loss_price=stop, take_profit_price=take
    )
    await _handled(follower, publisher)
    assert follower.refused == []
    mine = follower.order_for(entry.id)
    assert mine.status is OrderStatus.CLOSED and mine.amount == D("0.005")  # 10 % of 10 000 vs 10 % of 1 000
    leader_spent = D(10000) - _totals(leader)["USDT"][0]
    follower_spent = D(1000) - _totals(follower_manager)["USDT"][0]
    assert follower_spent * 10 == leader_spent  # same share of each portfolio, exactly
    leader_stop, leader_take = entry.chained_orders
    my_stop, my_take = follower.order_for(leader_stop.id), follower.order_for(leader_take.id)
    assert (my_stop.order_type, my_stop.trigger_price, my_stop.status) == (OrderType.STOP_LOSS, stop, OrderStatus.OPEN)
    assert (my_take.order_type, my_take.price, my_take.status) == (OrderType.LIMIT, take, OrderStatus.OPEN)
    assert my_stop.group is my_take.group and my_stop.group.kind.value == "balanced"
    assert my_stop.amount == my_take.amount == D("0.00499")  # the follower's own fill net of its fee, on the step


async def test_cancel_and_edit_follow_the_mapped_orders(pair):
    leader, follower_manager, publisher, follower = pair
    last = leader.trader.price_of(SYMBOL)
    low, lower = (last * D("0.9")).quantize(D("0.01")), (last * D("0.85")).quantize(D("0.01"))
    resting = await leader.trader.create_order("limit", "buy", SYMBOL, "0.02", low)
    await _handled(follower, publisher)
    mine = follower.order_for(resting.id)
    assert (mine.price, mine.status) == (low, OrderStatus.OPEN)
    first_amount = mine.amount
    await leader.trader.edit_order(resting, amount="0.04", price=lower)
    await _handled(follower, publisher)
    assert (mine.amount, mine.price) == (first_amount * 2, lower)  # the leader doubled: so does the follower
    await leader.trader.cancel_order(resting)
    await _handled(follower, publisher)
    assert mine.status is OrderStatus.CANCELED and _open(follower_manager) == []
    assert _totals(follower_manager)["USDT"] == (D(1000), D(1000))  # its reservation is released
    assert follower.refused == []


async def test_oco_group_and_chained_order_created_in_separate_calls_are_rebuilt_linked(pair):
    leader, _follower_manager, publisher, follower = pair
    last = leader.trader.price_of(SYMBOL)
    buy = await leader.trader.create_order("limit", "buy", SYMBOL, "0.05", (last * D("0.95")).quantize(D("0.01")))
    exit_ = await leader.trader.create_order(
        "limit", "sell", SYMBOL, "0.05", (last * D("1.05")).quantize(D("0.01")), chained_to=buy
    )
    group = ot.OrderGroup("oco")
    first = await leader.trader.create_order(
        "limit", "buy", SYMBOL, "0.01", (last * D("0.9")).quantize(D("0.01")), group=group
    )
    second = await leader.trader.create_order(
        "limit", "buy", SYMBOL, "0.01", (last * D("0.8")).quantize(D("0.01")), group=group
    )
    await _handled(follower, publisher)
    assert follower.refused == []
    my_buy, my_exit = follower.order_for(buy.id), follower.order_for(exit_.id)
    assert my_exit.parent_id == my_buy.id and not my_exit.is_active and my_exit.amount == my_buy.amount
    my_first, my_second = follower.order_for(first.id), follower.order_for(second.id)
    assert my_first.group is my_second.group and my_first.group is not group
    assert my_first.group.kind.value == "oco" and len(my_first.group.orders) == 2
    # cancelling the parent drops its chained exit on both sides
    await leader.trader.cancel_order(buy)
    await _handled(follower, publisher)
    assert my_buy.status is OrderStatus.CANCELED and my_exit.status is OrderStatus.CANCELED


async def test_an_edit_moving_a_follower_limit_far_through_the_market_is_refused_unchanged(pair):
    leader, follower_manager, publisher, follower = pair
    last = leader.trader.price_of(SYMBOL)
    low = (last * D("0.9")).quantize(D("0.01"))
    resting = await leader.trader.create_order("limit", "buy", SYMBOL, "0.02", low)
    await _handled(follower, publisher)
    mine = follower.order_for(resting.id)
    totals = _totals(follower_manager)
    text = json.dumps(
        {
            "version": 1,
            "id": "remote-1",
            "source": "remote",
            "sequence": 1,
            "timestamp": 0,
            "operation": "edit",
            "ref": resting.id,
            "price": str((last * D("1.5")).quantize(D("0.01"))),
        }
    )
    assert await follower.apply(text) is False
    (refused,) = follower.refused
    assert refused.bundle_id == "remote-1" and "through the mark price" in refused.reason
    assert (mine.price, mine.status) == (low, OrderStatus.OPEN) and _totals(follower_manager) == totals
    (venue_order,) = await follower_manager.trader.connector.fetch_open_orders(SYMBOL)
    assert venue_order.price == low  # nothing was sent


async def test_a_redelivered_bundle_changes_nothing(pair):
    leader, follower_manager, publisher, follower = pair
    await leader.trader.create_order("market", "buy", SYMBOL, "0.01")
    await _handled(follower, publisher)
    before = (_totals(follower_manager), len(follower_manager.exchange_personal_data.orders_manager.all_orders()))
    (bundle,) = publisher.history()
    assert await follower.apply(bundle) is False
    assert await follower.apply(bundle.to_json()) is False  # the same bundle read off the wire again
    after = (_totals(follower_manager), len(follower_manager.exchange_personal_data.orders_manager.all_orders()))
    assert after == before and follower.refused == []


async def test_bundle_is_refused_whole_when_an_exit_falls_under_the_follower_minimums(paper_manager):
    leader = await paper_manager({"USDT": "10000"})
    small = await paper_manager({"USDT": "60"})
    publisher = ot.signals.SignalPublisher(leader)
    async with ot.signals.SignalFollower(small, source=publisher) as follower:
        last = leader.trader.price_of(SYMBOL)
        # 10 % of 60 USDT buys about 6 USDT of BTC (over the 5 USDT minimum) but its stop at -20 % is worth ~4.8
        await leader.trader.create_order(
            "market",
            "buy",
            SYMBOL,
            (D(1000) / last).quantize(D("0.00001")),
            stop_loss_price=(last * D("0.8")).quantize(D("0.01")),
        )
        await _handled(follower, publisher)
        (refused,) = follower.refused
        assert refused.operation == "create" and "stop_loss" in refused.reason and "minimums" in refused.reason
        assert _totals(small) == {"USDT": (D(60), D(60))}  # neither the entry nor its exit was placed
        assert small.exchange_personal_data.orders_manager.all_orders() == []
    await publisher.close()


async def test_publisher_restricted_to_a_mode_ignores_other_sub_portfolios(paper_manager):
    leader = await paper_manager({"USDT": "10000"})
    leader.exchange_personal_data.portfolio_manager.create_sub_portfolio("mine", {"USDT": "1000"})

    class _Mode:  # what the publisher reads of a trading mode: its context's sub-portfolio
        class context:
            sub_portfolio = "mine"

    publisher = ot.signals.SignalPublisher(leader, mode=_Mode())
    await leader.trader.create_order("market", "buy", SYMBOL, "0.01")
    mode_order = await leader.trader.create_order("market", "buy", SYMBOL, "0.001", sub_portfolio="mine")
    (bundle,) = publisher.history()
    assert bundle.entry.ref == mode_order.id
    assert D(bundle.entry.fraction) == mode_order.amount * mode_order.average_price / D(1000)  # of its sub-portfolio
    await publisher.close()


async def test_a_new_follower_starts_with_the_next_operation_unless_asked_to_replay(paper_manager):
    leader = await paper_manager({"USDT": "10000"})
    live_manager, replaying_manager = await paper_manager({"USDT": "1000"}), await paper_manager({"USDT": "1000"})
    publisher = ot.signals.SignalPublisher(leader)
    before = await leader.trader.create_order("market", "buy", SYMBOL, "0.01")
    live = ot.signals.SignalFollower(live_manager, source=publisher)
    replaying = ot.signals.SignalFollower(replaying_manager, source=publisher, replay_history=True)
    async with live, replaying:
        after = await leader.trader.create_order("market", "buy", SYMBOL, "0.02")
        await _handled(live, publisher)
        await _handled(replaying, publisher)
        assert live.order_for(before.id) is None and live.order_for(after.id) is not None
        assert replaying.order_for(before.id) is not None and replaying.order_for(after.id) is not None
    await publisher.close()


async def test_trailing_profile_and_price_trigger_are_rebuilt_and_sells_scale_to_the_follower_holdings(pair):
    leader, follower_manager, publisher, follower = pair
    await leader.trader.create_order("market", "buy", SYMBOL, "0.05")
    await _handled(follower, publisher)
    held = _totals(follower_manager)["BTC"][1]
    trailing = await leader.trader.create_order(
        "trailing_stop", "sell", SYMBOL, _totals(leader)["BTC"][1], trailing_percent="2"
    )
    last = leader.trader.price_of(SYMBOL)
    threshold = (last * D("0.97")).quantize(D("0.01"))
    waiting = await leader.trader.create_order(
        "limit",
        "buy",
        SYMBOL,
        "0.01",
        (last * D("0.96")).quantize(D("0.01")),
        price_trigger=ot.personal_data.PriceTrigger(threshold, above=False),
    )
    await _handled(follower, publisher)
    assert follower.refused == []
    my_trailing = follower.order_for(trailing.id)
    assert (my_trailing.order_type, my_trailing.trailing_percent) == (OrderType.TRAILING_STOP, D(2))
    # the leader sold all it held: so does the follower (down to its market's step)
    assert my_trailing.amount == follower_manager.trader.market(SYMBOL).spec.adapt_quantity(held) == D("0.00499")
    my_waiting = follower.order_for(waiting.id)
    assert not my_waiting.is_active and my_waiting.status is OrderStatus.PENDING_CREATION  # waits for its trigger
    (bundle,) = [b for b in publisher.history() if b.orders and b.entry.ref == waiting.id]
    assert bundle.entry.price_trigger is not None and D(bundle.entry.price_trigger.threshold) == threshold


async def test_a_group_cancel_caused_by_a_fill_is_left_to_the_follower_own_group(pair):
    leader, _follower_manager, publisher, follower = pair
    seen: list[str] = []

    async def listener(event) -> None:
        seen.append(f"{event.operation.value}:{event.order.order_type.value}")

    leader.trader.add_order_listener(listener)
    last = leader.trader.price_of(SYMBOL)
    group = ot.OrderGroup("oco")
    resting = await leader.trader.create_order(
        "limit", "buy", SYMBOL, "0.01", (last * D("0.9")).quantize(D("0.01")), group=group
    )
    await leader.trader.create_order("market", "buy", SYMBOL, "0.01", group=group)  # fills: the group cancels `resting`
    assert resting.status is OrderStatus.CANCELED
    assert seen == ["create:limit", "cancel:limit", "create:market"]  # the hook reports the group's cancel too
    await _handled(follower, publisher)
    assert [b.operation for b in publisher.history()] == ["create", "create"]  # ... the publisher leaves it out
    assert follower.order_for(resting.id).status is OrderStatus.CANCELED  # the follower's group did the same
    assert follower.refused == []


async def test_a_user_cancel_and_edit_after_a_sibling_fill_reach_the_follower(pair):
    leader, _follower_manager, publisher, follower = pair
    events: list[tuple[str, bool]] = []

    async def listener(event) -> None:
        events.append((event.operation.value, event.automatic))

    leader.trader.add_order_listener(listener)
    last = leader.trader.price_of(SYMBOL)
    group = ot.OrderGroup("oco")
    await leader.trader.create_order("limit", "buy", SYMBOL, "0.01", (last * D("0.9")).quantize(D("0.01")), group=group)
    await leader.trader.create_order("market", "buy", SYMBOL, "0.01", group=group)  # fills: a sibling has filled
    high, higher = (last * D("1.2")).quantize(D("0.01")), (last * D("1.25")).quantize(D("0.01"))
    later = await leader.trader.create_order("limit", "sell", SYMBOL, "0.005", high, group=group)
    edited = await leader.trader.create_order("limit", "sell", SYMBOL, "0.004", high, group=group)
    await _handled(follower, publisher)
    mine, my_edited = follower.order_for(later.id), follower.order_for(edited.id)
    assert mine.status is OrderStatus.OPEN and my_edited.price == high
    await leader.trader.edit_order(edited, price=higher)  # the user's own edit and cancel ...
    await leader.trader.cancel_order(later)
    assert events[-2:] == [("edit", False), ("cancel", False)]
    assert ("cancel", True) in events  # (the group's own cancel on the market fill is flagged automatic)
    await _handled(follower, publisher)
    assert [b.operation for b in publisher.history()][-2:] == ["edit", "cancel"]  # ... are published
    assert my_edited.price == higher and my_edited.status is OrderStatus.OPEN
    assert mine.status is OrderStatus.CANCELED
    assert follower.refused == []


def _market_entry_with_exit(bundle_id: str, exit_order: dict[str, str]) -> str:
    """The wire text of another source's bundle: a market buy of 0.01 on SYMBOL (entry ``e``) and
    ``exit_order``."""
    entry = {
        "ref": "e",
        "role": "entry",
        "type": "market",
        "side": "buy",
        "symbol": SYMBOL,
        "amount": "0.01",
        "fraction": "0.1",
        "reference_price": "20000",
    }
    return json.dumps(
        {
            "version": 1,
            "id": bundle_id,
            "source": "other",
            "sequence": 1,
            "timestamp": 0,
            "operation": "create",
            "orders": [entry, exit_order],
        }
    )


async def test_a_bundle_whose_exit_cannot_be_rebuilt_as_sent_is_refused_whole(pair):
    _leader, follower_manager, _publisher, follower = pair
    text = _market_entry_with_exit(
        "other-1",
        {
            "ref": "s",
            "role": "stop_loss",
            "type": "limit",
            "side": "sell",
            "symbol": SYMBOL,
            "amount": "0.01",
            "fraction": "1",
            "price": "18000",
            "parent": "e",
        },
    )
    assert await follower.apply(text) is False
    (refused,) = follower.refused
    assert refused.bundle_id == "other-1" and "stop-loss" in refused.reason
    assert follower_manager.exchange_personal_data.orders_manager.all_orders() == []
    assert _totals(follower_manager) == {"USDT": (D(1000), D(1000))}


async def test_a_bundle_with_an_exit_on_another_symbol_is_refused_and_places_nothing(pair):
    _leader, follower_manager, _publisher, follower = pair
    text = _market_entry_with_exit(
        "other-2",
        {
            "ref": "t",
            "role": "take_profit",
            "type": "limit",
            "side": "sell",
            "symbol": "ETH/USDT",
            "amount": "0.01",
            "fraction": "1",
            "price": "1500",
            "parent": "e",
        },
    )
    assert await follower.apply(text) is False
    (refused,) = follower.refused
    assert "ETH/USDT, not on the entry's symbol" in refused.reason
    assert follower_manager.exchange_personal_data.orders_manager.all_orders() == []
    assert _totals(follower_manager) == {"USDT": (D(1000), D(1000))}
