"""The order state machine: every valid and every invalid transition."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import InvalidOrderState
from octobot_trading.personal_data.orders import TRANSITIONS, LimitOrder, OrderEvent

S = OrderStatus
VALID = {
    (S.PENDING_CREATION, S.OPEN),
    (S.PENDING_CREATION, S.REJECTED),
    (S.PENDING_CREATION, S.CANCELED),
    (S.OPEN, S.PARTIALLY_FILLED),
    (S.OPEN, S.FILLED),
    (S.OPEN, S.CANCELING),
    (S.OPEN, S.CANCELED),
    (S.OPEN, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELING),
    (S.PARTIALLY_FILLED, S.CANCELED),
    (S.PARTIALLY_FILLED, S.EXPIRED),
    (S.CANCELING, S.CANCELED),
    (S.CANCELING, S.PARTIALLY_FILLED),
    (S.CANCELING, S.FILLED),
    (S.CANCELING, S.OPEN),
    (S.CANCELING, S.EXPIRED),
    (S.FILLED, S.CLOSED),
}
ALL_PAIRS = list(itertools.product(S, S))


def _order_in(status: OrderStatus) -> LimitOrder:
    order = LimitOrder("buy", "BTC/USDT", "1", "100", clock=SimulatedClock(5))
    order.status = status  # put the order directly in the state under test
    return order


def test_table_is_exactly_the_documented_machine():
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == VALID
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "new"), sorted(VALID))
def test_valid_transition(current, new):
    clock = SimulatedClock(5)
    order = LimitOrder("buy", "BTC/USDT", "1", "100", clock=clock)
    order.status = current
    clock.advance(10)
    order.transition(new)
    assert order.status is new
    assert order.updated_at == 15


@pytest.mark.parametrize(("current", "new"), sorted(set(ALL_PAIRS) - VALID))
def test_invalid_transition_raises_and_changes_nothing(current, new):
    order = _order_in(current)
    before = order.to_dict()
    with pytest.raises(InvalidOrderState) as info:
        order.transition(new)
    assert current.value in str(info.value) and new.value in str(info.value)
    assert order.to_dict() == before


def test_final_states_have_no_exit():
    for status in (S.CLOSED, S.CANCELED, S.EXPIRED, S.REJECTED):
        assert TRANSITIONS[status] == frozenset()


def test_fill_progress_and_average_price_are_exact():
    order = _order_in(S.OPEN)
    order.apply_fill(Decimal("0.3"), Decimal("100"), Decimal("0.0003"), "BTC")
    assert order.status is S.PARTIALLY_FILLED and order.remaining == Decimal("0.7")
    order.apply_fill(Decimal("0.7"), Decimal("99"), Decimal("0.0007"), "BTC")
    assert order.status is S.FILLED
    assert order.average_price == (Decimal("30") + Decimal("69.3")) / 1
    assert order.fees == {"BTC": Decimal("0.0010")}


@pytest.mark.parametrize(("amount", "price"), [("0", "1"), ("-1", "1"), ("1.5", "1"), ("0.5", "0")])
def test_bad_fill_changes_nothing(amount, price):
    order = _order_in(S.OPEN)
    before = order.to_dict()
    with pytest.raises(InvalidOrderState):
        order.apply_fill(Decimal(amount), Decimal(price))
    assert order.to_dict() == before


@pytest.mark.parametrize("status", [S.PENDING_CREATION, S.FILLED, S.CLOSED, S.CANCELED, S.REJECTED, S.EXPIRED])
def test_fill_refused_when_order_cannot_fill(status):
    order = _order_in(status)
    with pytest.raises(InvalidOrderState):
        order.apply_fill(Decimal("0.1"), Decimal("100"))
    assert order.filled == 0 and order.status is status


def test_mark_open_requires_exchange_id_and_pending_state():
    order = _order_in(S.PENDING_CREATION)
    with pytest.raises(InvalidOrderState):
        order.mark_open("")
    order.mark_open("x-1")
    assert order.exchange_order_id == "x-1" and order.status is S.OPEN
    with pytest.raises(InvalidOrderState):
        order.mark_open("x-2")
    assert order.exchange_order_id == "x-1"


async def test_hooks_run_in_order_for_their_event():
    order = _order_in(S.OPEN)
    seen: list[str] = []

    async def first(o):
        seen.append(f"first:{o.status.value}")

    async def second(o):
        seen.append("second")

    order.add_hook(OrderEvent.FILL, first)
    order.add_hook(OrderEvent.FILL, second)
    order.add_hook(OrderEvent.CANCEL, second)
    order.apply_fill(Decimal("1"), Decimal("100"))
    await order.emit(OrderEvent.FILL)
    assert seen == ["first:filled", "second"]
