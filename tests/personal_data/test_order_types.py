"""One class per order type: identity, parameters, validation."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import InvalidNumber, InvalidOrder
from octobot_trading.personal_data.orders import ORDER_CLASSES, TrailingStopLimitOrder, create_order_instance

CLOCK = SimulatedClock(1234)


def test_one_class_per_type_never_per_side():
    assert set(ORDER_CLASSES) == set(OrderType)
    assert len(set(ORDER_CLASSES.values())) == len(OrderType)
    for cls in ORDER_CLASSES.values():
        assert "Buy" not in cls.__name__ and "Sell" not in cls.__name__


def test_identity_and_times():
    a = create_order_instance("limit", "buy", "BTC/USDT", "1", "10", clock=CLOCK)
    b = create_order_instance("limit", "sell", "BTC/USDT", "1", "10", clock=CLOCK)
    assert uuid.UUID(a.id) and a.id != b.id
    assert a.client_order_id.startswith("ot-") and a.client_order_id != b.client_order_id
    assert len(a.client_order_id) <= 36
    assert a.exchange_order_id is None and a.status is OrderStatus.PENDING_CREATION
    assert a.created_at == a.updated_at == 1234
    assert a.side is OrderSide.BUY and b.side is OrderSide.SELL
    assert a.amount == Decimal(1) and a.price == Decimal(10)


@pytest.mark.parametrize(
    ("order_type", "kwargs", "missing"),
    [
        ("limit", {}, "price"),
        ("stop_loss", {}, "trigger_price"),
        ("take_profit", {}, "trigger_price"),
        ("stop_loss_limit", {"price": "10"}, "trigger_price"),
        ("stop_loss_limit", {"trigger_price": "10"}, "price"),
        ("take_profit_limit", {"trigger_price": "10"}, "price"),
        ("trailing_stop", {}, "trailing"),
        ("trailing_stop_limit", {"trailing_percent": "1", "trailing_offset": "2"}, "trailing"),
    ],
)
def test_missing_parameters_are_named(order_type, kwargs, missing):
    price = kwargs.pop("price", None)
    with pytest.raises(InvalidOrder) as info:
        create_order_instance(order_type, "sell", "BTC/USDT", "1", price, clock=CLOCK, **kwargs)
    assert info.value.limit == missing


def test_stop_price_given_as_price_becomes_the_trigger():
    order = create_order_instance("stop_loss", "sell", "BTC/USDT", "1", "90", clock=CLOCK)
    assert order.trigger_price == Decimal(90) and order.price is None


def test_trailing_stop_limit_price_follows_the_stop():
    order = create_order_instance(
        "trailing_stop_limit", "sell", "BTC/USDT", "1", clock=CLOCK, trailing_percent="10", limit_offset="1"
    )
    assert isinstance(order, TrailingStopLimitOrder)
    assert order.stop_from(Decimal(200)) == Decimal(180)
    assert order.limit_price_for(Decimal(180)) == Decimal(179)


@pytest.mark.parametrize("amount", [0.1, 1.0])
def test_float_amount_is_a_type_error(amount):
    with pytest.raises(TypeError):
        create_order_instance("limit", "buy", "BTC/USDT", amount, "10", clock=CLOCK)


def test_float_price_is_a_type_error():
    with pytest.raises(TypeError):
        create_order_instance("limit", "buy", "BTC/USDT", "1", 10.5, clock=CLOCK)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["0", "-1", -3])
def test_non_positive_amount(amount):
    with pytest.raises(InvalidOrder) as info:
        create_order_instance("market", "buy", "BTC/USDT", amount, clock=CLOCK)
    assert info.value.limit == "amount"


@pytest.mark.parametrize("price", ["NaN", "inf", "-inf", "abc"])
def test_non_finite_price(price):
    with pytest.raises(InvalidNumber):
        create_order_instance("limit", "buy", "BTC/USDT", "1", price, clock=CLOCK)


def test_unknown_type_and_side():
    with pytest.raises(InvalidOrder):
        create_order_instance("iceberg", "buy", "BTC/USDT", "1", clock=CLOCK)
    with pytest.raises(InvalidOrder):
        create_order_instance("limit", "hold", "BTC/USDT", "1", "1", clock=CLOCK)
