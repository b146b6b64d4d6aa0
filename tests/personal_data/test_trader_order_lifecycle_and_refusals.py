"""The trader on the simulated connector: bad input, cancel / edit, features, safety, in-flight orders."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import OrderStatus, OrderType, TraderType
from octobot_trading.errors import (
    InsufficientFunds,
    InvalidNumber,
    InvalidOrder,
    InvalidOrderState,
    OrderSafetyError,
    RequestTimeout,
    UnknownSymbol,
)
from octobot_trading.exchange_data.price_events import PriceEventsManager
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data import GroupKind, PriceTrigger
from tests.personal_data.helpers import make_account

D = Decimal


async def _state(acc):
    return (
        acc.portfolio.snapshot(),
        [o.id for o in acc.personal.orders_manager.all_orders()],
        await acc.connector.fetch_balance(),
        await acc.connector.fetch_open_orders(),
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (("limit", "buy", "BTC/USDT", 0.5, "100"), {}, TypeError),
        (("limit", "buy", "BTC/USDT", "1", 100.0), {}, TypeError),
        (("limit", "buy", "BTC/USDT", "0", "100"), {}, InvalidOrder),
        (("limit", "buy", "BTC/USDT", "-1", "100"), {}, InvalidOrder),
        (("limit", "buy", "BTC/USDT", "1", "NaN"), {}, InvalidNumber),
        (("limit", "buy", "BTC/USDT", "1", "Infinity"), {}, InvalidNumber),
        (("stop_loss", "sell", "BTC/USDT", "1"), {"trigger_price": "-inf"}, InvalidNumber),
        (("limit", "buy", "DOGE/USDT", "1", "1"), {}, UnknownSymbol),
        (("limit", "buy", "BTC/USDT", "0.01", "100"), {}, InvalidOrder),  # under min_cost
        (("limit", "buy", "BTC/USDT", "200", "100"), {}, InsufficientFunds),  # 20000 > 10000
        (("market", "sell", "BTC/USDT", "1"), {}, InsufficientFunds),  # no BTC
        (("limit", "buy", "BTC/USDT", "1", "100"), {"sub_portfolio": "nope"}, Exception),
    ],
)
async def test_bad_input_is_a_typed_error_with_no_state_change(args, kwargs, error):
    acc = await make_account()
    before = await _state(acc)
    with pytest.raises(error):
        await acc.trader.create_order(*args, **kwargs)
    assert await _state(acc) == before


async def test_trader_type_and_cancel_restores_available():
    acc = await make_account({"USDT": "10000", "BTC": "2"})
    assert acc.trader.trader_type is TraderType.SIMULATED and acc.trader.is_simulated
    buy = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    sell = await acc.trader.create_order("limit", "sell", "BTC/USDT", "1.5", "120")
    assert buy.exchange_order_id and buy.status is OrderStatus.OPEN
    assert acc.asset("USDT") == (D(10000), D(9910)) and acc.asset("BTC") == (D(2), D("0.5"))
    await acc.trader.cancel_order(buy)
    assert buy.status is OrderStatus.CANCELED and acc.asset("USDT") == (D(10000), D(10000))
    await acc.trader.cancel_order(buy)  # idempotent
    canceled = await acc.trader.cancel_all_orders("BTC/USDT")
    assert canceled == [sell]
    assert acc.asset("BTC") == (D(2), D(2))
    await acc.exchange_matches_portfolio()
    filled = await acc.trader.create_order("market", "buy", "BTC/USDT", "0.1")
    with pytest.raises(InvalidOrderState):
        await acc.trader.cancel_order(filled)


async def test_edit_order_moves_the_reservation():
    acc = await make_account({"USDT": "1000"})
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    await acc.trader.edit_order(order, amount="2", price="80")
    assert (order.amount, order.price) == (D(2), D(80))
    assert acc.asset("USDT") == (D(1000), D(840))
    await acc.exchange_matches_portfolio()
    before = await _state(acc)
    with pytest.raises(InsufficientFunds):
        await acc.trader.edit_order(order, amount="20")
    assert await _state(acc) == before and order.amount == D(2)
    await acc.trader.edit_order(order, amount="1")
    assert acc.asset("USDT") == (D(1000), D(920))
    await acc.candle("100", "101", "79", "85")
    assert order.status is OrderStatus.CLOSED and order.filled == D(1)
    await acc.exchange_matches_portfolio()


async def test_chained_order_submitted_on_parent_fill_with_fee_adjusted_amount():
    acc = await make_account()
    entry = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    exit_ = await acc.trader.create_order("limit", "sell", "BTC/USDT", "1", "110", chained_to=entry)
    assert not exit_.is_active and exit_.status is OrderStatus.PENDING_CREATION
    assert await acc.connector.fetch_open_orders() != [] and len(await acc.connector.fetch_open_orders()) == 1
    await acc.candle("100", "101", "89", "95")
    assert entry.status is OrderStatus.CLOSED
    assert exit_.is_active and exit_.status is OrderStatus.OPEN
    assert exit_.amount == D("0.999")  # 1 BTC minus the 0.001 BTC maker fee
    await acc.candle("95", "111", "94", "105")
    assert exit_.status is OrderStatus.CLOSED
    await acc.exchange_matches_portfolio()


async def test_chained_order_dropped_when_parent_canceled():
    acc = await make_account()
    entry = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    child = await acc.trader.create_order("limit", "sell", "BTC/USDT", "1", "110", chained_to=entry)
    await acc.trader.cancel_order(entry)
    assert child.status is OrderStatus.CANCELED
    assert acc.personal.orders_manager.open_orders() == []


async def test_bundled_stop_loss_and_take_profit_balanced_on_partial_fill():
    acc = await make_account(partial_fill_fraction="0.25")
    entry = await acc.trader.create_order(
        "market", "buy", "BTC/USDT", "1", stop_loss_price="80", take_profit_price="120"
    )
    stop, target = entry.chained_orders
    assert stop.order_type is OrderType.STOP_LOSS and target.order_type is OrderType.LIMIT
    assert stop.amount == target.amount == D("0.998")  # taker fee taken in BTC
    assert stop.group is target.group and stop.group.kind is GroupKind.BALANCED
    assert acc.asset("BTC") == (D("0.998"), D(0))  # one reservation for both exits
    await acc.candle("100", "121", "99", "110", volume="2")  # target fills 0.5 (volume 2 x 0.25)
    assert target.filled == D("0.5") and target.status is OrderStatus.PARTIALLY_FILLED
    assert stop.amount == D("0.498")  # shrunk to the target's remaining amount
    await acc.exchange_matches_portfolio()
    await acc.candle("110", "111", "70", "75", volume="100")  # stop fills the rest
    assert stop.status is OrderStatus.CLOSED and stop.filled == D("0.498")
    assert target.status is OrderStatus.CANCELED
    assert acc.asset("BTC") == (D(0), D(0))
    await acc.exchange_matches_portfolio()


async def test_price_trigger_keeps_order_inactive_until_crossed():
    acc = await make_account()
    events = PriceEventsManager("BTC/USDT", acc.clock)
    acc.trader.price_events_for = lambda symbol: events
    order = await acc.trader.create_order(
        "limit", "buy", "BTC/USDT", "1", "95", price_trigger=PriceTrigger("98", above=False)
    )
    assert not order.is_active and await acc.connector.fetch_open_orders() == []
    assert acc.asset("USDT") == (D(10000), D(10000))
    events.on_price(D("99"))
    await asyncio.sleep(0)
    assert not order.is_active
    events.on_price(D("97.5"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order.is_active and order.status is OrderStatus.OPEN
    assert acc.asset("USDT") == (D(10000), D(9905))
    await acc.trader.stop()


async def test_self_managed_stop_for_a_venue_without_stops():
    acc = await make_account({"BTC": "1"})
    events = PriceEventsManager("BTC/USDT", acc.clock)
    acc.trader.price_events_for = lambda symbol: events
    acc.trader.supported_order_types = frozenset({OrderType.MARKET, OrderType.LIMIT})
    stop = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", "1", trigger_price="90")
    assert stop.self_managed and not stop.is_active
    assert await acc.connector.fetch_open_orders() == []
    acc.prices["BTC/USDT"] = D("89.5")
    events.on_price(D("89.5"))
    for _ in range(3):
        await asyncio.sleep(0)
    assert stop.status is OrderStatus.CLOSED and stop.average_price == D("89.5")
    await acc.exchange_matches_portfolio()
    await acc.trader.stop()


async def test_order_safety_rules():
    safety = OrderSafetyConfig(
        max_price_deviation_percent="5",
        max_open_orders_per_symbol=2,
        max_position_value="500",
        max_price_age_seconds=60,
    )
    acc = await make_account(safety=safety)
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "106")  # 6 % above mark 100
    assert info.value.rule == "max_price_deviation_percent"
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "6", "99")  # 594 > 500
    assert info.value.rule == "max_position_value"
    await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "95")
    await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "94")
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "93")
    assert info.value.rule == "max_open_orders_per_symbol"
    acc.trader.safety.price_time_of = lambda symbol: acc.clock.now_ms() - 61_000
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.create_order("market", "buy", "ETH/USDT", "1")
    assert info.value.rule == "max_price_age_seconds"
    acc.trader.safety.price_time_of = None
    acc.trader.safety.spread_of = lambda symbol: D(6)
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.create_order("market", "buy", "ETH/USDT", "1")
    assert info.value.rule == "max_spread_percent"


async def test_edit_order_applies_order_safety_to_the_new_price_and_amount_before_any_change():
    safety = OrderSafetyConfig(max_price_deviation_percent="5", max_position_value="500")
    acc = await make_account(safety=safety)
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "95")
    waiting = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90", chained_to=order)
    before = await _state(acc)
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.edit_order(order, price="106")  # 6 % above the mark 100
    assert info.value.rule == "max_price_deviation_percent"
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.edit_order(order, amount="6")  # 6 * 95 = 570 > 500
    assert info.value.rule == "max_position_value"
    with pytest.raises(OrderSafetyError) as info:
        await acc.trader.edit_order(waiting, price="150")  # an inactive order too
    assert info.value.rule == "max_price_deviation_percent"
    assert await _state(acc) == before
    assert (order.amount, order.price, waiting.price) == (D(1), D(95), D(90))
    await acc.trader.edit_order(order, amount="2", price="104")  # within the rules
    assert (order.amount, order.price) == (D(2), D(104))
    await acc.exchange_matches_portfolio()


class _LostReplyConnector(SimulatedConnector):
    """Places the order, then loses the reply (as a timed-out HTTP call would)."""

    lose_next = True

    async def create_order(self, *args, **kwargs):
        result = await super().create_order(*args, **kwargs)
        if self.lose_next:
            self.lose_next = False
            raise RequestTimeout("reply lost")
        return result


async def test_ambiguous_outcome_keeps_order_in_flight_and_resolves_by_client_id():
    acc = await make_account()
    lossy = _LostReplyConnector(
        acc.clock,
        markets=acc.connector.markets,
        starting_balances={"USDT": "10000"},
        fees=acc.connector.fees,
        price_source=acc.prices.get,
    )
    acc.trader.connector = acc.connector = lossy

    async def apply_update(view: ExchangeOrder, trades: list[ExchangeTrade]) -> None:
        await acc.personal.orders_manager.apply_exchange_update(view, trades)

    lossy.set_order_update_listener(apply_update)
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    assert order.status is OrderStatus.PENDING_CREATION and order.is_active
    assert acc.personal.orders_manager.in_flight() == [order]
    assert acc.asset("USDT") == (D(10000), D(9910))  # funds stay reserved while in flight
    assert len(await lossy.fetch_open_orders()) == 1  # placed once, never re-sent
    await acc.trader.resolve_in_flight()
    assert order.status is OrderStatus.OPEN and order.exchange_order_id == "sim-1"
    assert acc.personal.orders_manager.in_flight() == []
    await acc.exchange_matches_portfolio()


async def test_balanced_exits_when_the_stop_fills_first_shrinks_the_target():
    acc = await make_account(partial_fill_fraction="0.25")
    entry = await acc.trader.create_order(
        "market", "buy", "BTC/USDT", "1", stop_loss_price="80", take_profit_price="120"
    )
    stop, target = entry.chained_orders
    await acc.candle("100", "101", "79", "90", volume="2")  # the stop fills 0.5
    assert stop.filled == D("0.5") and target.amount == D("0.498")
    await acc.exchange_matches_portfolio()
    await acc.candle("90", "125", "89", "110", volume="100")  # the target fills its 0.498... or the stop
    assert {stop.status, target.status} == {OrderStatus.CLOSED, OrderStatus.CANCELED}
    assert acc.asset("BTC") == (D(0), D(0))
    await acc.exchange_matches_portfolio()


async def test_sub_portfolio_orders_reserve_and_settle_in_both():
    acc = await make_account({"USDT": "1000"})
    pm = acc.personal.portfolio_manager
    grid = pm.create_sub_portfolio("grid", {"USDT": "300"})
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "2", "100", sub_portfolio="grid")
    assert grid.snapshot()["USDT"] == (D(300), D(100))
    assert acc.asset("USDT") == (D(1000), D(800))
    before = await _state(acc)
    with pytest.raises(InsufficientFunds):  # the grid has 100 left; the account has more, but not for it
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "2", "99", sub_portfolio="grid")
    with pytest.raises(InsufficientFunds):  # the free part cannot spend the grid's funds
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "8", "99")
    assert await _state(acc) == before
    await acc.candle("100", "101", "99", "100")
    assert order.status is OrderStatus.CLOSED
    assert grid.snapshot() == {"USDT": (D(100), D(100)), "BTC": (D("1.998"), D("1.998"))}
    assert acc.asset("BTC") == (D("1.998"), D("1.998"))
    await acc.exchange_matches_portfolio()


async def test_self_managed_trailing_stop_follows_price_events():
    acc = await make_account({"BTC": "1"})
    events = PriceEventsManager("BTC/USDT", acc.clock)
    acc.trader.price_events_for = lambda symbol: events
    acc.trader.supported_order_types = frozenset({OrderType.MARKET, OrderType.LIMIT})
    order = await acc.trader.create_order("trailing_stop", "sell", "BTC/USDT", "1", trailing_percent="10")
    assert order.self_managed and order.trigger_price == D(90)
    for price in ("105", "120", "119", "110"):  # peak 120 -> stop 108
        events.on_price(D(price))
    await asyncio.sleep(0)
    assert order.trigger_price == D(108) and not order.is_active
    acc.prices["BTC/USDT"] = D("107.5")
    events.on_price(D("107.5"))
    for _ in range(3):
        await asyncio.sleep(0)
    assert order.status is OrderStatus.CLOSED and order.average_price == D("107.5")
    await acc.exchange_matches_portfolio()
    await acc.trader.stop()


async def test_canceled_price_triggered_order_never_fires():
    acc = await make_account()
    events = PriceEventsManager("BTC/USDT", acc.clock)
    acc.trader.price_events_for = lambda symbol: events
    order = await acc.trader.create_order(
        "limit", "buy", "BTC/USDT", "1", "95", price_trigger=PriceTrigger("98", above=False)
    )
    await acc.trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED and events.pending == 0
    events.on_price(D("90"))
    await asyncio.sleep(0)
    assert order.status is OrderStatus.CANCELED and await acc.connector.fetch_open_orders() == []
    assert acc.asset("USDT") == (D(10000), D(10000))
    await acc.trader.stop()


async def test_price_trigger_without_event_source_is_refused_before_any_change():
    acc = await make_account()
    before = await _state(acc)
    with pytest.raises(InvalidOrder) as info:
        await acc.trader.create_order(
            "limit", "buy", "BTC/USDT", "1", "95", price_trigger=PriceTrigger("98", above=False)
        )
    assert info.value.limit == "price_trigger"
    assert await _state(acc) == before


async def test_refused_chained_order_does_not_break_the_parent_fill():
    acc = await make_account({"USDT": "100"})
    entry = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    # a chained buy the account cannot afford once the entry has spent the funds
    child = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "80", chained_to=entry)
    await acc.candle("100", "101", "89", "95")
    assert entry.status is OrderStatus.CLOSED  # the fill was applied
    assert child.status in (OrderStatus.REJECTED, OrderStatus.CANCELED) and not child.reserved_amount
    assert acc.asset("USDT") == (D(10), D(10))
    await acc.exchange_matches_portfolio()


async def test_editing_a_stop_limit_means_the_same_on_both_sides():
    """``price`` is the limit and ``trigger_price`` the trigger, in the trader and the engine."""
    acc = await make_account({"BTC": "1", "USDT": "0"})
    await acc.candle("100", "100", "100", "100")
    order = await acc.trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "1", "89", trigger_price="90")
    assert order.exchange_order_id is not None
    await acc.trader.edit_order(order, price="80")
    venue = await acc.connector.fetch_order(order.exchange_order_id, "BTC/USDT")
    assert (order.trigger_price, order.price) == (venue.trigger_price, venue.price) == (D(90), D(80))
    await acc.trader.edit_order(order, trigger_price="85")
    venue = await acc.connector.fetch_order(order.exchange_order_id, "BTC/USDT")
    assert (order.trigger_price, order.price) == (venue.trigger_price, venue.price) == (D(85), D(80))
    await acc.candle("100", "100", "86", "86")  # above the new trigger: nothing happens
    assert order.status is OrderStatus.OPEN
    await acc.candle("86", "86", "79", "80")
    assert order.status is OrderStatus.CLOSED and order.average_price == D(80)
    await acc.exchange_matches_portfolio()
    limit = await acc.trader.create_order("limit", "buy", "BTC/USDT", "0.1", "50")
    with pytest.raises(InvalidOrder, match="no trigger price"):
        await acc.trader.edit_order(limit, trigger_price="60")
