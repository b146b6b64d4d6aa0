"""The group rule as actions, order terms changed only through ``Order.amend``, the shared
reservation-price rule and client-order-id generator, and the trader's public restore methods."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus, OrderType
from octobot_trading.errors import InvalidOrder, InvalidOrderState
from octobot_trading.exchanges.rest_exchange import new_client_order_id as exchange_client_order_id
from octobot_trading.personal_data.orders.groups import CancelOrder, GroupKind, OrderGroup, ResizeOrder
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.price_triggers import PriceTrigger
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.ids import new_client_order_id
from octobot_trading.util.reservation import reserve_price
from tests.personal_data.helpers import make_account

D = Decimal
CLOCK = SimulatedClock(1_700_000_000_000)


def _sell(amount: str, price: str):
    return create_order_instance("limit", "sell", "BTC/USDT", D(amount), D(price), clock=CLOCK)


def _filled(order, amount: str) -> None:
    order.mark_open("x-" + order.id)
    order.apply_fill(D(amount), order.price)


def test_oco_fill_asks_to_cancel_every_sibling_not_done():
    group = OrderGroup(GroupKind.OCO)
    first, second, third = _sell("1", "110"), _sell("1", "120"), _sell("1", "130")
    for order in (first, second, third):
        group.add(order)
    third.mark_open("x-3")
    third.apply_fill(D("1"), D("130"))  # already done: no action for it
    _filled(first, "0.25")
    assert group.on_fill(first) == [CancelOrder(second)]


def test_balanced_partial_fill_asks_to_resize_siblings_to_the_remaining_amount():
    group = OrderGroup(GroupKind.BALANCED)
    take_profit, stop, smaller = _sell("1", "110"), _sell("1", "90"), _sell("0.5", "95")
    for order in (take_profit, stop, smaller):
        group.add(order)
    _filled(take_profit, "0.4")
    # the stop covers 1 > 0.6 remaining: resized; the smaller one already covers less: untouched
    assert group.on_fill(take_profit) == [ResizeOrder(stop, D("0.6"))]
    take_profit.apply_fill(D("0.6"), D("110"))
    assert group.on_fill(take_profit) == [CancelOrder(stop), CancelOrder(smaller)]


def test_amend_refuses_bad_terms_and_changes_nothing():
    order = _sell("1", "110")
    _filled(order, "0.4")
    before = order.terms
    for terms in ({"amount": D("0.3")}, {"amount": D("0")}, {"price": D("0")}, {"trigger_price": D("-1")}):
        with pytest.raises(InvalidOrder):
            order.amend(**terms)
        assert order.terms == before
    previous = order.amend(amount=D("0.8"), price=D("111"))
    assert previous == before and (order.amount, order.price) == (D("0.8"), D("111"))
    order.restore_terms(previous)
    assert order.terms == before


def test_one_client_order_id_generator_within_the_venue_limit():
    for make in (new_client_order_id, exchange_client_order_id):
        ids = {make() for _ in range(50)}
        assert len(ids) == 50 and all(i.startswith("ot-") and len(i) == 31 for i in ids)
    assert new_client_order_id(20).startswith("ot-") and len(new_client_order_id(20)) == 20
    assert new_client_order_id(random="ab" * 16) == "ot-" + ("ab" * 16)[:28]


def test_reservation_price_rule_per_order_type():
    price, trigger, offset = D("100"), D("95"), D("2")

    def market() -> Decimal:
        return D("101")

    expected = {
        OrderType.MARKET: D("101"),
        OrderType.LIMIT: price,
        OrderType.STOP_LOSS_LIMIT: price,
        OrderType.TAKE_PROFIT_LIMIT: price,
        OrderType.STOP_LOSS: trigger,
        OrderType.TAKE_PROFIT: trigger,
        OrderType.TRAILING_STOP: trigger,
        OrderType.TRAILING_STOP_LIMIT: trigger + offset,
    }
    for order_type, unit in expected.items():
        assert reserve_price(order_type, price, trigger, offset, market_price=market) == unit
    assert reserve_price(OrderType.TRAILING_STOP_LIMIT, None, None, offset, market_price=market) is None


async def test_trader_and_simulated_venue_reserve_a_market_buy_alike():
    acc = await make_account(prices={"BTC/USDT": "100"}, slippage_percent="1")
    order = create_order_instance("market", "buy", "BTC/USDT", D("1"), clock=acc.clock)
    assert acc.trader.funds.reserve_price(order) == D("101")  # last price plus the venue's slippage
    placed = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    assert placed.reserved_amount == D("90")
    await acc.exchange_matches_portfolio()


async def test_rearm_needs_a_trigger_and_price_trigger_of_reports_it():
    acc = await make_account(prices={"BTC/USDT": "100"})
    registered: list[Event] = []

    class Event:
        def __init__(self, threshold: Decimal, crossing: str) -> None:
            self.threshold, self.crossing = threshold, crossing

        def cancel(self) -> None:
            registered.remove(self)

    class Events:
        def register(self, threshold: Decimal, crossing: str, _callback) -> Event:
            event = Event(threshold, crossing)
            registered.append(event)
            return event

    acc.trader.price_events_for = lambda symbol: Events()
    waiting = create_order_instance("limit", "buy", "BTC/USDT", D("0.1"), D("90"), clock=acc.clock)
    waiting.is_active = False
    with pytest.raises(InvalidOrder):
        acc.trader.rearm(waiting)  # neither self-managed nor given a trigger
    assert acc.trader.price_trigger_of(waiting) is None
    acc.trader.rearm(waiting, PriceTrigger("92", above=False))
    trigger = acc.trader.price_trigger_of(waiting)
    assert trigger is not None and (trigger.threshold, trigger.above) == (D("92"), False)
    await acc.trader.cancel_order(waiting)
    assert acc.trader.price_trigger_of(waiting) is None and not registered


async def test_restored_simulated_venue_continues_ids_after_the_stored_ones():
    acc = await make_account(prices={"BTC/USDT": "100"})
    acc.connector.restore_account({"USDT": D("500"), "BTC": D("1")}, known_ids=["sim-7", "sim-t-12", None, "x-99"])
    balances = await acc.connector.fetch_balance()
    assert (balances["USDT"].total, balances["BTC"].free) == (D("500"), D("1"))
    order = await acc.trader.create_order("market", "buy", "BTC/USDT", "0.1")
    trades = await acc.connector.fetch_my_trades("BTC/USDT")
    assert order.exchange_order_id == "sim-13" and trades[-1].id == "sim-t-13"


def test_trader_has_no_mixins():
    assert Trader.__bases__ == (object,)


def test_only_a_rejected_order_is_reopened_for_the_venue_showing_it_after_all():
    order = _sell("1", "110")
    with pytest.raises(InvalidOrderState):
        order.reopen_given_up()  # pending creation: nothing to reopen
    order.transition(OrderStatus.REJECTED)
    order.reopen_given_up()
    assert order.status is OrderStatus.PENDING_CREATION


def test_correct_fill_moves_the_cost_and_adds_the_fee_without_changing_the_amount():
    order = _sell("1", "110")
    _filled(order, "0.5")
    order.correct_fill(D("-0.5"), D("0.01"), "USDT")
    assert (order.filled, order.filled_cost, order.fees) == (D("0.5"), D("54.5"), {"USDT": D("0.01")})


def test_only_order_methods_change_what_an_order_asks_for_and_its_fill_progress():
    """Outside ``orders/order.py``, the trading core and storage never assign these order fields."""
    import ast
    from pathlib import Path

    import octobot_trading

    guarded = {"amount", "price", "trigger_price", "filled", "filled_cost", "fees", "status"}
    root = Path(octobot_trading.__file__).parent
    offenders = []
    for path in [*root.glob("personal_data/**/*.py"), *root.glob("storage/*.py")]:
        if path.name == "order.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign | ast.AnnAssign)
                else []
            )
            for target in targets:
                for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if (
                        isinstance(item, ast.Attribute)
                        and item.attr in guarded
                        and not (isinstance(item.value, ast.Name) and item.value.id == "self")
                    ):
                        offenders.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}: .{item.attr}")
    assert offenders == []
