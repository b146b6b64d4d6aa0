"""Domain enums and the ccxt string parsers."""

import pytest

import octobot_trading as ot
from octobot_trading.enums import parse_order_side
from octobot_trading.errors import BadExchangeResponse, ConfigurationError


def test_api_members_exist():
    for name in (
        "MARKET",
        "LIMIT",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
        "TRAILING_STOP",
        "TRAILING_STOP_LIMIT",
    ):
        assert isinstance(getattr(ot.OrderType, name), ot.OrderType)
    for name in ("PENDING_CREATION", "OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELED", "CLOSED", "EXPIRED", "REJECTED"):
        assert isinstance(getattr(ot.OrderStatus, name), ot.OrderStatus)
    assert ot.OrderSide.BUY.opposite is ot.OrderSide.SELL
    assert ot.OrderType.LIMIT == "limit"


def test_time_frame_ms():
    assert ot.TimeFrame("1m").ms == 60_000
    assert ot.TimeFrame.H1.ms == 3_600_000
    assert ot.TimeFrame.D1.seconds == 86_400
    assert ot.TimeFrame.parse("5m") is ot.TimeFrame.M5
    with pytest.raises(ConfigurationError, match="unknown time frame"):
        ot.TimeFrame.parse("7m")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("limit", ot.OrderType.LIMIT),
        ("MARKET", ot.OrderType.MARKET),
        ("stop_loss_limit", ot.OrderType.STOP_LOSS_LIMIT),
        ("STOP_LOSS", ot.OrderType.STOP_LOSS),
        ("take_profit", ot.OrderType.TAKE_PROFIT),
        ("limit_maker", ot.OrderType.LIMIT),
        ("trailing-stop", ot.OrderType.TRAILING_STOP),
    ],
)
def test_parse_order_type(raw, expected):
    assert ot.parse_order_type(raw) is expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("open", ot.OrderStatus.OPEN),
        ("closed", ot.OrderStatus.FILLED),
        ("canceled", ot.OrderStatus.CANCELED),
        ("CANCELLED", ot.OrderStatus.CANCELED),
        ("expired", ot.OrderStatus.EXPIRED),
        ("rejected", ot.OrderStatus.REJECTED),
        ("NEW", ot.OrderStatus.OPEN),
    ],
)
def test_parse_order_status(raw, expected):
    assert ot.parse_order_status(raw) is expected


@pytest.mark.parametrize("parser", [ot.parse_order_type, ot.parse_order_status, parse_order_side])
@pytest.mark.parametrize("raw", ["bogus", None, 3, ""])
def test_unknown_values_are_errors(parser, raw):
    with pytest.raises(BadExchangeResponse):
        parser(raw)


def test_market_type_future():
    assert ot.MarketType.LINEAR.is_future and not ot.MarketType.SPOT.is_future
    assert ot.OrderStatus.CANCELED.is_final and not ot.OrderStatus.OPEN.is_final
