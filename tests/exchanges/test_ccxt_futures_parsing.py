"""ccxt futures structures (as ccxt's binanceusdm hands them over with ``number = str``) become
exact typed results; unusable replies raise ``BadExchangeResponse``; contract order parameters
and futures refusals map to the library's terms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from octobot_trading import errors
from octobot_trading.enums import MarketType, OrderSide, OrderType
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.exchanges.connectors.ccxt.errors import map_ccxt_error
from octobot_trading.exchanges.connectors.ccxt.futures_parsing import (
    parse_funding_payment,
    parse_funding_rate,
    parse_funding_rate_history,
    parse_liquidation,
    parse_mark_price,
    parse_position,
)
from octobot_trading.exchanges.connectors.ccxt.positions import contract_order_params, leverage_argument
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.market_spec import MarketSpec

D = Decimal
ADAPTER = CCXTAdapter("binanceusdm")

#: ccxt's position structure of a Binance v3 position-risk row (one-way long, cross margin).
POSITION_RISK = {
    "info": {"symbol": "BTCUSDT", "positionSide": "BOTH", "positionAmt": "0.010", "entryPrice": "43000.1"},
    "id": None,
    "symbol": "BTC/USDT:USDT",
    "contracts": "0.010",
    "contractSize": "1",
    "unrealizedPnl": "1.23450000",
    "leverage": None,
    "liquidationPrice": None,
    "collateral": "0",
    "notional": "431.23450000",
    "markPrice": "43123.45000000",
    "entryPrice": "43000.1",
    "timestamp": 1722062678998,
    "initialMargin": "43.12345000",
    "maintenanceMargin": "1.72493800",
    "marginMode": "cross",
    "side": "long",
    "hedged": False,
}

#: ccxt's parse of a user-data stream ACCOUNT_UPDATE position (hedge-mode short, isolated).
WS_POSITION = {
    "info": {"s": "BTCUSDT", "pa": "-0.005", "ep": "42000.5", "up": "-0.2", "mt": "isolated", "ps": "SHORT"},
    "symbol": "BTC/USDT:USDT",
    "contracts": 0.005,
    "entryPrice": 42000.5,
    "unrealizedPnl": -0.2,
    "marginMode": "isolated",
    "side": "short",
    "hedged": True,
    "timestamp": 1722062679000,
    "markPrice": None,
    "leverage": None,
    "liquidationPrice": None,
}


def _position(**changes: Any) -> dict[str, Any]:
    return {**POSITION_RISK, **changes}


def test_position_risk_becomes_an_exact_typed_position() -> None:
    pos = parse_position(ADAPTER, POSITION_RISK)
    assert (pos.symbol, pos.side, pos.contracts, pos.hedged) == ("BTC/USDT:USDT", "long", D("0.010"), False)
    assert (pos.entry_price, pos.mark_price, pos.unrealized_pnl) == (D("43000.1"), D("43123.45"), D("1.2345"))
    assert (pos.initial_margin, pos.maintenance_margin) == (D("43.12345"), D("1.724938"))
    assert (pos.leverage, pos.liquidation_price, pos.margin_mode, pos.timestamp) == (None, None, "cross", 1722062678998)
    local = Position.from_exchange(pos)
    assert local.size == D("0.010") and local.side.value == "long"


def test_stream_position_with_json_numbers_uses_their_shortest_text() -> None:
    pos = parse_position(ADAPTER, WS_POSITION)
    assert (pos.side, pos.contracts, pos.entry_price, pos.unrealized_pnl) == (
        "short",
        D("0.005"),
        D("42000.5"),
        D("-0.2"),
    )
    assert (pos.hedged, pos.margin_mode, pos.mark_price) == (True, "isolated", None)


def test_flat_one_way_position_has_side_both_and_zero_prices_are_none() -> None:
    flat = _position(contracts="0", side=None, entryPrice="0.0", markPrice="0", leverage="0", liquidationPrice="0")
    pos = parse_position(ADAPTER, flat)
    assert (pos.side, pos.contracts, pos.entry_price, pos.mark_price, pos.leverage) == ("both", D(0), None, None, None)


def test_crossed_margin_mode_reads_as_cross() -> None:
    pos = parse_position(ADAPTER, _position(marginMode="CROSSED", contracts="0.5", side="short", leverage="20"))
    assert (pos.margin_mode, pos.contracts, pos.leverage) == ("cross", D("0.5"), D(20))


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("contracts", {"contracts": "-0.5", "side": "short"}),
        ("contracts", {"contracts": "-0.5", "side": "long"}),
        ("leverage", {"leverage": "-20"}),
        ("entryPrice", {"entryPrice": "-43000"}),
        ("markPrice", {"markPrice": "-1"}),
        ("liquidationPrice", {"liquidationPrice": "-5"}),
        ("initialMargin", {"initialMargin": "-43.1"}),
        ("maintenanceMargin", {"maintenanceMargin": "-1.7"}),
    ],
)
def test_a_position_with_a_negative_size_price_leverage_or_margin_is_refused_naming_the_field(
    field: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(errors.BadExchangeResponse) as refused:
        parse_position(ADAPTER, _position(**changes))
    assert f"position.{field}" in str(refused.value)


def test_a_position_losing_money_keeps_its_negative_unrealized_and_realized_pnl() -> None:
    pos = parse_position(ADAPTER, _position(unrealizedPnl="-3.5", realizedPnl="-1.25"))
    assert (pos.unrealized_pnl, pos.realized_pnl) == (D("-3.5"), D("-1.25"))


@pytest.mark.parametrize(
    "changes",
    [
        {"contracts": None},
        {"contracts": "abc"},
        {"contracts": "0.01", "side": None},
        {"contracts": "0.01", "side": "sideways"},
        {"symbol": None},
        {"entryPrice": "NaN"},
        {"timestamp": "yesterday"},
    ],
)
def test_unusable_position_replies_raise_bad_exchange_response(changes: dict[str, Any]) -> None:
    with pytest.raises(errors.BadExchangeResponse):
        parse_position(ADAPTER, _position(**changes))
    with pytest.raises(errors.BadExchangeResponse):
        parse_position(ADAPTER, ["not", "a", "position"])


def test_fix_position_hook_repairs_a_venue_quirk_before_parsing() -> None:
    class Venue(CCXTAdapter):
        def fix_position(self, raw: dict[str, Any]) -> dict[str, Any]:
            return {**raw, "side": raw["side"] or "long"}

    pos = parse_position(Venue("venue"), _position(side=None))
    assert pos.side == "long"


def test_funding_rate_reads_the_next_funding_time_and_mark_price() -> None:
    raw = {
        "symbol": "BTC/USDT:USDT",
        "markPrice": "45802.81129892",
        "indexPrice": "45745.47701915",
        "fundingRate": "0.00063521",
        "timestamp": 1621252344001,
        "fundingTimestamp": 1621267200000,
        "nextFundingTimestamp": None,
    }
    rate = parse_funding_rate(ADAPTER, raw, "BTC/USDT:USDT", 5)
    assert (rate.rate, rate.timestamp, rate.next_funding_timestamp) == (D("0.00063521"), 1621252344001, 1621267200000)
    assert rate.mark_price == D("45802.81129892")
    stamped = parse_funding_rate(ADAPTER, {**raw, "timestamp": None, "fundingTimestamp": None}, "BTC/USDT:USDT", 5)
    assert (stamped.timestamp, stamped.next_funding_timestamp) == (5, None)
    with pytest.raises(errors.BadExchangeResponse):
        parse_funding_rate(ADAPTER, {**raw, "fundingRate": None}, "BTC/USDT:USDT", 5)


def test_funding_history_mark_price_payments_and_liquidations_are_exact() -> None:
    past = parse_funding_rate_history(
        ADAPTER, {"symbol": "BTC/USDT:USDT", "fundingRate": "-0.0001", "timestamp": 1621267200000}, "BTC/USDT:USDT"
    )
    assert (past.rate, past.timestamp) == (D("-0.0001"), 1621267200000)
    mark = parse_mark_price(
        ADAPTER,
        {"symbol": "BTC/USDT:USDT", "timestamp": 7, "info": {"markPrice": "1.2345", "indexPrice": "1.2"}},
        "x",
        1,
    )
    assert (mark.mark_price, mark.index_price, mark.timestamp) == (D("1.2345"), D("1.2"), 7)
    with pytest.raises(errors.BadExchangeResponse):
        parse_mark_price(ADAPTER, {"symbol": "BTC/USDT:USDT", "markPrice": "0"}, "BTC/USDT:USDT", 1)
    payment = parse_funding_payment(
        ADAPTER, {"symbol": "BTC/USDT:USDT", "code": "USDT", "timestamp": 9, "id": "77", "amount": "-0.01500000"}
    )
    assert (payment.id, payment.currency, payment.amount) == ("77", "USDT", D("-0.015"))
    liquidation = parse_liquidation(
        ADAPTER,
        {
            "info": {"orderId": "123"},
            "symbol": "BTC/USDT:USDT",
            "contracts": "0.010",
            "price": "39000.5",
            "side": "sell",
            "quoteValue": "390.005",
            "timestamp": 11,
        },
    )
    assert (liquidation.id, liquidation.side, liquidation.contracts, liquidation.price) == (
        "123",
        "long",
        D("0.010"),
        D("39000.5"),
    )
    with pytest.raises(errors.BadExchangeResponse):
        parse_liquidation(ADAPTER, {"symbol": "BTC/USDT:USDT", "contracts": "1", "price": "1", "timestamp": 1})


def _market(market_type: MarketType) -> MarketInfo:
    symbol = "BTC/USDT:USDT" if market_type is MarketType.LINEAR else "BTC/USDT"
    return MarketInfo(symbol, "BTC", "USDT", market_type, MarketSpec())


def test_contract_order_params_map_reduce_only_and_hedge_sides_to_ccxt() -> None:
    linear = _market(MarketType.LINEAR)
    assert contract_order_params({"reduceOnly": True}, OrderSide.SELL, linear) == {"reduceOnly": True}
    assert contract_order_params({"reduceOnly": False, "x": 1}, OrderSide.SELL, linear) == {"x": 1}
    assert contract_order_params({"positionSide": "long"}, OrderSide.BUY, linear) == {"hedged": True}
    closing = contract_order_params({"positionSide": "long"}, OrderSide.SELL, linear)
    assert closing == {"hedged": True, "reduceOnly": True}
    assert contract_order_params({"positionSide": "short"}, OrderSide.BUY, linear) == closing
    assert contract_order_params({"positionSide": "both"}, OrderSide.BUY, linear) == {}


@pytest.mark.parametrize(
    ("params", "side", "market_type", "limit"),
    [
        ({"reduceOnly": True}, OrderSide.SELL, MarketType.SPOT, "reduce_only"),
        ({"positionSide": "long"}, OrderSide.BUY, MarketType.SPOT, "position_side"),
        ({"positionSide": "up"}, OrderSide.BUY, MarketType.LINEAR, "position_side"),
        ({"positionSide": "long", "reduceOnly": True}, OrderSide.BUY, MarketType.LINEAR, "reduce_only"),
    ],
)
def test_contract_order_params_refuse_what_cannot_be_sent(
    params: dict[str, Any], side: OrderSide, market_type: MarketType, limit: str
) -> None:
    with pytest.raises(errors.InvalidOrder) as caught:
        contract_order_params(params, side, _market(market_type))
    assert caught.value.limit == limit


def test_leverage_reaches_ccxt_as_an_int_or_exact_text_never_a_float() -> None:
    assert leverage_argument(D("20")) == 20 and isinstance(leverage_argument(D("20.0")), int)
    assert leverage_argument(D("2.5")) == "2.5"


@pytest.mark.parametrize(
    ("exc", "expected", "limit"),
    [
        (
            ccxt.InvalidOrder('binanceusdm {"code":-2022,"msg":"ReduceOnly Order is rejected."}'),
            errors.InvalidOrder,
            "reduce_only",
        ),
        (
            ccxt.ExchangeError(
                'binanceusdm {"code":-4061,"msg":"Order\'s position side does not match user\'s setting."}'
            ),
            errors.InvalidOrder,
            "position_side",
        ),
        (
            ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}'),
            errors.InsufficientFunds,
            None,
        ),
    ],
)
def test_futures_order_refusals_map_to_typed_errors(
    exc: BaseException, expected: type[errors.ExchangeError], limit: str | None
) -> None:
    error = map_ccxt_error(exc, exchange="binanceusdm", symbol="BTC/USDT:USDT", placing_order=True)
    assert type(error) is expected
    if limit is not None:
        assert isinstance(error, errors.InvalidOrder) and error.limit == limit


def test_orders_the_venue_places_to_close_positions_read_as_market_orders() -> None:
    raw = {
        "id": "8000000002",
        "clientOrderId": "autoclose-1",
        "symbol": "XRP/USDT:USDT",
        "type": "liquidation",
        "side": "sell",
        "status": "closed",
        "price": "0.8875",
        "amount": "60",
        "filled": "60",
        "remaining": "0",
    }
    for kind in ("liquidation", "LIQUIDATION", "adl"):
        order = ADAPTER.parse_order({**raw, "type": kind})
        assert (order.type, order.filled, order.client_order_id) == (OrderType.MARKET, D(60), "autoclose-1")
    with pytest.raises(errors.BadExchangeResponse):
        ADAPTER.parse_order({**raw, "type": "mystery"})
