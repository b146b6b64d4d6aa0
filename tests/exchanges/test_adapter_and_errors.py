"""The ccxt adapter (missing fields, bad replies) and the ccxt -> ot.errors mapping table."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import ccxt
import pytest

from octobot_trading import errors
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType, OrderStatus, OrderType, PrecisionMode
from octobot_trading.exchanges.connectors.ccxt import CCXTAdapter, map_ccxt_error
from octobot_trading.exchanges.connectors.ccxt.client import create_ccxt_client
from octobot_trading.exchanges.connectors.ccxt.screening import screen_reply
from octobot_trading.util.logging import register_secret

ADAPTER = CCXTAdapter("binance")


def _order(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "1",
        "symbol": "BTC/USDT",
        "type": "limit",
        "side": "buy",
        "status": "open",
        "price": "100",
        "amount": "2",
        "filled": None,
        "remaining": None,
    }
    base.update(fields)
    return base


def test_order_missing_fields_are_derived_explicitly() -> None:
    assert ADAPTER.parse_order(_order()).filled == 0
    partial = ADAPTER.parse_order(_order(remaining="0.5"))
    assert (partial.filled, partial.status) == (Decimal("1.5"), OrderStatus.PARTIALLY_FILLED)
    filled = ADAPTER.parse_order(_order(status="closed"))
    assert (filled.filled, filled.remaining, filled.status) == (Decimal("2"), Decimal("0"), OrderStatus.FILLED)
    stop = ADAPTER.parse_order(_order(stopLossPrice="90", triggerPrice="90"))
    assert stop.type is OrderType.STOP_LOSS_LIMIT and stop.trigger_price == Decimal("90")
    fees = ADAPTER.parse_order(_order(fees=[{"cost": "0.1", "currency": "BTC"}, {"cost": "0.2", "currency": "BTC"}]))
    assert (fees.fee, fees.fee_currency) == (Decimal("0.3"), "BTC")


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": None},
        {"amount": "abc"},
        {"price": "NaN"},
        {"status": "weird"},
        {"side": "up"},
        {"id": None},
        {"fees": [{"cost": "1", "currency": "BTC"}, {"cost": "1", "currency": "USDT"}]},
    ],
)
def test_unparseable_orders_are_bad_exchange_responses(fields: dict[str, object]) -> None:
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_order(_order(**fields))


def test_numbers_never_go_through_float_unless_ccxt_sent_one() -> None:
    ticker = ADAPTER.parse_ticker(
        {"symbol": "BTC/USDT", "timestamp": None, "last": "0.1", "bid": 0.1}, "BTC/USDT", now_ms=42
    )
    assert ticker.last == Decimal("0.1") and ticker.bid == Decimal("0.1") and ticker.timestamp == 42
    candle = ADAPTER.parse_candle([1, "1.1", "1.2", "1.0", "1.15"])
    assert candle.volume == 0
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_candle([1, "1.1", None, "1.0", "1.15", "3"])
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_order_book({"bids": None, "asks": []}, "BTC/USDT")


def test_balances_derive_missing_totals() -> None:
    parsed = ADAPTER.parse_balance(
        {
            "info": {},
            "free": {},
            "BTC": {"free": "1", "used": "0.5", "total": None},
            "ETH": {"free": "2", "used": None, "total": "3"},
        }
    )
    assert parsed["BTC"].total == Decimal("1.5") and parsed["ETH"].used == Decimal("1")
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_balance({"XRP": {"free": None, "used": None, "total": None}})


def test_markets_precision_modes_and_types() -> None:
    raw = {
        "symbol": "BTC/USDT:USDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "type": "swap",
        "linear": True,
        "precision": {"price": "2", "amount": "3"},
        "limits": {"amount": {"min": "0.001"}},
        "contractSize": "1",
        "id": "BTCUSDT",
    }
    linear = CCXTAdapter("x", precision_mode=2).parse_market(raw)
    assert linear.market_type is MarketType.LINEAR and linear.spec.price_tick == Decimal("0.01")
    assert linear.spec.amount_step == Decimal("0.001") and linear.spec.precision_mode is PrecisionMode.DECIMAL_PLACES
    inverse = CCXTAdapter("x").parse_market({**raw, "linear": False, "inverse": True, "precision": {}})
    assert inverse.market_type is MarketType.INVERSE and inverse.spec.price_tick == Decimal("0.00000001")
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_market({**raw, "type": "weird"})


@pytest.mark.parametrize(
    ("ccxt_error", "expected"),
    [
        (ccxt.InvalidNonce, errors.AuthenticationError),
        (ccxt.DDoSProtection, errors.RateLimitExceeded),
        (ccxt.RateLimitExceeded, errors.RateLimitExceeded),
        (ccxt.RequestTimeout, errors.RequestTimeout),
        (ccxt.ExchangeNotAvailable, errors.ExchangeUnavailable),
        (ccxt.OnMaintenance, errors.ExchangeUnavailable),
        (ccxt.NetworkError, errors.NetworkError),
        (ccxt.PermissionDenied, errors.PermissionDenied),
        (ccxt.AuthenticationError, errors.AuthenticationError),
        (ccxt.AccountSuspended, errors.AuthenticationError),
        (ccxt.InsufficientFunds, errors.InsufficientFunds),
        (ccxt.OrderNotFound, errors.OrderNotFound),
        (ccxt.InvalidOrder, errors.InvalidOrder),
        (ccxt.BadSymbol, errors.UnknownSymbol),
        (ccxt.NotSupported, errors.NotSupported),
        (ccxt.BadResponse, errors.BadExchangeResponse),
        (ccxt.NullResponse, errors.BadExchangeResponse),
        (ccxt.OperationFailed, errors.ExchangeUnavailable),
        (ccxt.BadRequest, errors.ExchangeError),
        (ccxt.ExchangeError, errors.ExchangeError),
    ],
)
def test_error_mapping_table(ccxt_error: type[Exception], expected: type[Exception]) -> None:
    mapped = map_ccxt_error(ccxt_error("boom"), exchange="binance", symbol="BTC/USDT", order_id="7")
    assert type(mapped) is expected
    assert (mapped.exchange, mapped.symbol, mapped.order_id) == ("binance", "BTC/USDT", "7")


def test_context_dependent_mappings_and_redaction() -> None:
    assert type(map_ccxt_error(ccxt.BadRequest("x"), placing_order=True)) is errors.InvalidOrder
    cut = ccxt.ExchangeError("binance POST /order")
    cut.__cause__ = aiohttp.ClientPayloadError("cut")
    assert type(map_ccxt_error(cut)) is errors.NetworkError
    register_secret("topsecret-abc-123")
    assert "topsecret-abc-123" not in str(map_ccxt_error(ccxt.AuthenticationError("bad topsecret-abc-123")))


def _trade(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "t1",
        "order": "1",
        "symbol": "BTC/USDT",
        "side": "buy",
        "price": "100",
        "amount": "0.5",
        "timestamp": 1_700_000_000_000,
        "fee": {"cost": "0.0005", "currency": "BTC"},
    }
    base.update(fields)
    return base


@pytest.mark.parametrize("fields", [{"price": "-5"}, {"price": "0"}, {"amount": "0"}, {"amount": "-1"}])
def test_trades_with_non_positive_price_or_amount_are_bad_responses(fields: dict[str, object]) -> None:
    assert ADAPTER.parse_trade(_trade()).amount == Decimal("0.5")
    with pytest.raises(errors.BadExchangeResponse, match="must be positive"):
        ADAPTER.parse_trade(_trade(**fields))


def test_infinite_timestamp_is_a_bad_response_not_an_overflow() -> None:
    with pytest.raises(errors.BadExchangeResponse, match="timestamp"):
        ADAPTER.parse_trade(_trade(timestamp=float("inf")))


def test_market_fee_side_defaults_like_ccxt() -> None:
    raw = {
        "id": "BTCUSDT",
        "symbol": "BTC/USDT",
        "base": "BTC",
        "quote": "USDT",
        "type": "spot",
        "spot": True,
        "active": True,
        "precision": {"amount": "0.0001", "price": "0.01"},
        "limits": {},
    }
    assert ADAPTER.parse_market(raw).fee_side == "quote"
    assert ADAPTER.parse_market({**raw, "feeSide": "get"}).fee_side == "get"


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("order", {"filled": "1e999999999"}),
        ("order", {"price": "1E+25"}),
        ("order", {"amount": "1e-999999999"}),
        ("trade", {"amount": "1E+999999999"}),
        ("trade", {"price": "1" * 101}),
        ("trade", {"price": 10**30}),
    ],
)
def test_venue_numbers_outside_the_money_bounds_are_bad_responses(kind: str, fields: dict[str, object]) -> None:
    parse = ADAPTER.parse_order if kind == "order" else ADAPTER.parse_trade
    raw = _order(**fields) if kind == "order" else _trade(**fields)
    with pytest.raises(errors.BadExchangeResponse, match=r"too (large|small|long)"):
        parse(raw)


@pytest.mark.parametrize(
    "body",
    [
        '{"balances": [{"asset": "BTC", "free": "1e999999999", "locked": "0"}]}',
        '[{"p": "0.' + "0" * 150 + '1"}]',
    ],
    ids=["huge_exponent", "overlong_text"],
)
def test_every_ccxt_client_refuses_a_reply_with_an_absurd_number_before_parsing_it(body: str) -> None:
    config = ExchangeConfig(exchange="binance")
    for pro in (False, True):
        client = create_ccxt_client(config, pro=pro)
        with pytest.raises(ccxt.BadResponse, match="out of bounds"):
            client.parse_json(body)
        assert client.parse_json('{"free": "1.5e-8", "id": "12e3", "name": "' + "x" * 200 + '"}')["free"] == "1.5e-8"
    assert isinstance(map_ccxt_error(ccxt.BadResponse("x")), errors.BadExchangeResponse)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**400, {"1e999999": "1"}, ["1", ["-2e-999999"]]])
def test_decoded_websocket_messages_with_absurd_numbers_are_refused(value: object) -> None:
    with pytest.raises(ccxt.BadResponse, match="binance websocket message"):
        screen_reply({"e": "executionReport", "x": value}, exchange="binance", what="websocket message")
    screen_reply({"e": "executionReport", "x": ["1e-8", 12, 0.5, "e", "1e", None, True]}, exchange="binance")
