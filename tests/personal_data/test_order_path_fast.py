"""The order path's fast forms behave exactly like the plain ones they replace.

Covers ``Portfolio.apply_deltas`` (tuple form of ``apply``), the order ids drawn straight from
``os.urandom``, identity-based ``is_open`` / ``is_done``, the string-keyed transition table and
the enum fast paths of order construction.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.constants import CLIENT_ORDER_ID_PREFIX
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import InvalidOrder, InvalidOrderState, PortfolioNegativeBalance
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.orders.states import TRANSITIONS, check_transition
from octobot_trading.personal_data.portfolios import BalanceChange, Portfolio

D = Decimal


def _clock() -> SimulatedClock:
    return SimulatedClock(1_700_000_000_000)


def test_apply_deltas_matches_apply_with_balance_changes() -> None:
    by_changes = Portfolio({"USDT": "1000", "BTC": "2"})
    by_deltas = Portfolio({"USDT": "1000", "BTC": "2"})
    by_changes.apply(
        [
            BalanceChange("USDT", total=D("-100.5"), available=D("-150.5")),
            BalanceChange("BTC", total=D("0.25"), available=D("0.25")),
            BalanceChange("BTC", total=D("-0.00025"), available=D("-0.00025")),
        ]
    )
    by_deltas.apply_deltas(
        [("USDT", D("-100.5"), D("-150.5")), ("BTC", D("0.25"), D("0.25")), ("BTC", D("-0.00025"), D("-0.00025"))]
    )
    assert (
        by_deltas.snapshot()
        == by_changes.snapshot()
        == {"USDT": (D("899.5"), D("849.5")), "BTC": (D("2.24975"), D("2.24975"))}
    )


def test_apply_deltas_is_atomic_and_refuses_negative_or_over_available() -> None:
    portfolio = Portfolio({"USDT": "100", "BTC": "1"})
    before = portfolio.snapshot()
    with pytest.raises(PortfolioNegativeBalance):
        portfolio.apply_deltas([("BTC", D("-0.5"), D("-0.5")), ("USDT", D("-101"), D("-101"))])
    with pytest.raises(PortfolioNegativeBalance):
        portfolio.apply_deltas([("USDT", D(0), D(1))])  # available above total
    assert portfolio.snapshot() == before


def test_apply_deltas_on_a_sub_portfolio_changes_both_or_neither() -> None:
    parent = Portfolio({"USDT": "1000"})
    sub = Portfolio({"USDT": "100"}, name="mode", parent=parent)
    sub.apply_deltas([("USDT", D(0), D("-60"))])
    assert (parent.available("USDT"), sub.available("USDT")) == (D("940"), D("40"))
    with pytest.raises(PortfolioNegativeBalance):
        sub.apply_deltas([("USDT", D(0), D("-41"))])  # the sub-portfolio would go negative
    assert (parent.available("USDT"), sub.available("USDT")) == (D("940"), D("40"))


def test_order_ids_are_random_v4_uuids_and_client_ids_share_their_digits() -> None:
    orders = [
        create_order_instance(OrderType.MARKET, OrderSide.BUY, "BTC/USDT", "1", clock=_clock()) for _ in range(2000)
    ]
    ids = {order.id for order in orders}
    assert len(ids) == len(orders)
    for order in orders:
        parsed = uuid.UUID(order.id)
        assert str(parsed) == order.id
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert order.client_order_id == f"{CLIENT_ORDER_ID_PREFIX}-{parsed.hex[:28]}"
    given = create_order_instance("limit", "sell", "BTC/USDT", "1", "10", clock=_clock(), client_order_id="mine-1")
    assert given.client_order_id == "mine-1"


def test_sides_and_types_given_as_text_are_parsed_and_bad_ones_refused() -> None:
    order = create_order_instance("limit", "sell", "BTC/USDT", "1", "10", clock=_clock())
    assert order.side is OrderSide.SELL and order.order_type is OrderType.LIMIT
    with pytest.raises(InvalidOrder) as side_error:
        create_order_instance(OrderType.LIMIT, "sideways", "BTC/USDT", "1", "10", clock=_clock())
    assert side_error.value.limit == "side"
    with pytest.raises(InvalidOrder) as type_error:
        create_order_instance("iceberg", OrderSide.BUY, "BTC/USDT", "1", "10", clock=_clock())
    assert type_error.value.limit == "type"


@pytest.mark.parametrize("status", list(OrderStatus))
def test_is_open_and_is_done_follow_the_status_definitions(status: OrderStatus) -> None:
    order = create_order_instance(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", "1", "10", clock=_clock())
    order.status = status
    assert order.is_open == (status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELING))
    assert order.is_done == (status.is_final or status is OrderStatus.FILLED)


@pytest.mark.parametrize("current", list(OrderStatus))
def test_transition_check_agrees_with_the_public_table(current: OrderStatus) -> None:
    for new in OrderStatus:
        if new in TRANSITIONS[current]:
            check_transition(current, new)
        else:
            with pytest.raises(InvalidOrderState):
                check_transition(current, new, order_id="o-1", symbol="BTC/USDT")
