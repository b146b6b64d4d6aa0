"""Turn ccxt's futures structures into typed results: positions, funding, mark prices, liquidations.

Plain functions used by the ccxt connector's futures calls (:mod:`.positions`) and its private
streams. Each takes the connector's :class:`~.adapter.CCXTAdapter` (its ``fix_position`` /
``fix_funding_rate`` hooks repair a venue's quirks first) and applies the adapter's number rule:
ccxt text becomes ``Decimal`` exactly, a JSON number goes through its shortest repr. Anything
unusable raises ``BadExchangeResponse`` naming the field.

Rules: a position's size is never negative (its direction is ``side``); a flat one-way position
(no side, 0 contracts) has side ``"both"``; zero entry, mark, leverage and liquidation prices
(what venues send for "none") become None; ccxt's ``"crossed"`` margin mode is ``"cross"``.
A negative contract count, entry, mark or liquidation price, leverage, initial or maintenance
margin is refused (``BadExchangeResponse`` naming the field): the direction comes from ``side``
(ccxt already turns a one-way position's signed amount into a side and a positive count).

Inverse contracts: ccxt derives a Binance COIN-M position's initial margin from its notional at
the mark price over the leverage, rounded to 8 decimals; the margin a position holds is the
documented rule at its entry price, ``contracts x contract size / (entry x leverage)`` in the base
coin, so that is what an inverse position's ``initial_margin`` is whenever the entry price,
leverage and contract size are known (each quotient rounded once to 1e-18, as the accounting).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.errors import BadExchangeResponse, ConfigurationError
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter, to_dec
from octobot_trading.exchanges.types import (
    ExchangeLiquidation,
    ExchangePosition,
    FundingPayment,
    FundingRate,
    MarkPrice,
)
from octobot_trading.util.contract_spec import contract_kind
from octobot_trading.util.decimals import ZERO, divide_to_step

__all__ = [
    "parse_funding_payment",
    "parse_funding_rate",
    "parse_funding_rate_history",
    "parse_liquidation",
    "parse_mark_price",
    "parse_position",
]

_SIDES = {"long": "long", "short": "short", "both": "both", "buy": "long", "sell": "short"}
_MARGIN_MODES = {"cross": "cross", "crossed": "cross", "isolated": "isolated"}
#: Rounding step of an inverse position's initial margin (the accounting's).
_MARGIN_STEP = Decimal("1e-18")


def _mapping(raw: Any, what: str, exchange: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise BadExchangeResponse(f"expected a {what} object, got {type(raw).__name__}", exchange=exchange)
    return dict(raw)


def _positive(value: Any, field: str) -> Decimal | None:
    """An optional price or ratio where 0 means "none"; a negative one is refused."""
    number = _not_negative(value, field)
    return None if number is None or number == 0 else number


def _not_negative(value: Any, field: str, *, required: bool = False) -> Decimal | None:
    number = to_dec(value, field, required=required)
    if number is not None and number < 0:
        raise BadExchangeResponse(f"{field}: {value!r} is negative")
    return number


def _timestamp(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        result = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadExchangeResponse(f"{field}: {value!r} is not an integer") from None
    return result or None


def _info(data: Mapping[str, Any]) -> Mapping[str, Any]:
    info = data.get("info")
    return info if isinstance(info, Mapping) else {}


def _symbol(raw: Mapping[str, Any], what: str, exchange: str, default: str | None = None) -> str:
    symbol = raw.get("symbol") or default
    if not symbol:
        raise BadExchangeResponse(f"missing symbol in the {what} reply", exchange=exchange)
    return str(symbol)


def parse_position(adapter: CCXTAdapter, raw: Any) -> ExchangePosition:
    """Parse a ccxt position structure (REST or stream); see the module docstring for the rules."""
    exchange = adapter.exchange
    data = adapter.fix_position(_mapping(raw, "position", exchange))
    symbol = _symbol(data, "position", exchange)
    contracts = _not_negative(data.get("contracts"), f"{symbol} position.contracts", required=True)
    assert contracts is not None
    side_text = str(data.get("side") or "").lower()
    side = _SIDES.get(side_text)
    if side is None:
        if contracts != 0:
            raise BadExchangeResponse(
                f"{symbol} position of {contracts} contracts has no side ({data.get('side')!r})",
                exchange=exchange,
                symbol=symbol,
            )
        side = "both"
    hedged = data.get("hedged")
    margin_mode = data.get("marginMode")
    entry = _positive(data.get("entryPrice"), f"{symbol} position.entryPrice")
    leverage = _positive(data.get("leverage"), f"{symbol} position.leverage")
    initial_margin = _not_negative(data.get("initialMargin"), f"{symbol} position.initialMargin")
    if entry is not None and leverage is not None and contracts and _is_inverse(symbol):
        size = _positive(data.get("contractSize"), f"{symbol} position.contractSize")
        if size is not None:
            initial_margin = divide_to_step(contracts * size, entry * leverage, _MARGIN_STEP)
    return ExchangePosition(
        symbol=symbol,
        side=side,
        contracts=contracts,
        entry_price=entry,
        mark_price=_positive(data.get("markPrice"), f"{symbol} position.markPrice"),
        unrealized_pnl=to_dec(data.get("unrealizedPnl"), f"{symbol} position.unrealizedPnl", required=False),
        leverage=leverage,
        margin_mode=_MARGIN_MODES.get(str(margin_mode).lower()) if margin_mode else None,
        liquidation_price=_positive(data.get("liquidationPrice"), f"{symbol} position.liquidationPrice"),
        timestamp=_timestamp(data.get("timestamp"), f"{symbol} position.timestamp"),
        hedged=hedged if isinstance(hedged, bool) else None,
        initial_margin=initial_margin,
        maintenance_margin=_maintenance_margin(data, symbol),
        realized_pnl=to_dec(data.get("realizedPnl"), f"{symbol} position.realizedPnl", required=False),
    )


def _maintenance_margin(data: Mapping[str, Any], symbol: str) -> Decimal | None:
    """The venue's own maintenance margin when its reply carries one (Binance ``maintMargin``:
    notional x rate - the bracket's ``cum`` offset), else ccxt's ``maintenanceMargin`` (for Binance
    ccxt multiplies the bracket rate by the notional and leaves the offset out)."""
    info = data.get("info")
    if isinstance(info, Mapping) and info.get("maintMargin") is not None:
        return _not_negative(info.get("maintMargin"), f"{symbol} position.info.maintMargin")
    return _not_negative(data.get("maintenanceMargin"), f"{symbol} position.maintenanceMargin")


def _is_inverse(symbol: str) -> bool:
    try:
        return contract_kind(symbol) == "inverse"
    except ConfigurationError:
        return False


def parse_funding_rate(adapter: CCXTAdapter, raw: Any, symbol: str, now_ms: int) -> FundingRate:
    """Parse ccxt's current funding rate; a missing timestamp is ``now_ms`` (time of receipt).

    ``next_funding_timestamp`` is when the rate is next applied (ccxt ``fundingTimestamp``, else
    ``nextFundingTimestamp``).
    """
    exchange = adapter.exchange
    data = adapter.fix_funding_rate(_mapping(raw, "funding rate", exchange))
    symbol = _symbol(data, "funding rate", exchange, symbol)
    rate = to_dec(data.get("fundingRate"), f"{symbol} fundingRate")
    assert rate is not None
    next_time = _timestamp(data.get("fundingTimestamp"), f"{symbol} fundingTimestamp")
    if next_time is None:
        next_time = _timestamp(data.get("nextFundingTimestamp"), f"{symbol} nextFundingTimestamp")
    return FundingRate(
        symbol=symbol,
        rate=rate,
        timestamp=_timestamp(data.get("timestamp"), f"{symbol} funding.timestamp") or now_ms,
        next_funding_timestamp=next_time,
        mark_price=_positive(data.get("markPrice"), f"{symbol} funding.markPrice"),
    )


def parse_funding_rate_history(adapter: CCXTAdapter, raw: Any, symbol: str) -> FundingRate:
    """Parse one past funding event (ccxt funding rate history: ``fundingRate`` at ``timestamp``)."""
    data = _mapping(raw, "funding rate history", adapter.exchange)
    symbol = _symbol(data, "funding rate history", adapter.exchange, symbol)
    rate = to_dec(data.get("fundingRate"), f"{symbol} fundingRate")
    timestamp = _timestamp(data.get("timestamp"), f"{symbol} funding.timestamp")
    if rate is None or timestamp is None:
        raise BadExchangeResponse(f"{symbol} funding history entry without a time", exchange=adapter.exchange)
    return FundingRate(symbol=symbol, rate=rate, timestamp=timestamp)


def parse_mark_price(adapter: CCXTAdapter, raw: Any, symbol: str, now_ms: int) -> MarkPrice:
    """Parse a mark price from ccxt's mark-price ticker or funding structure (``markPrice``)."""
    data = _mapping(raw, "mark price", adapter.exchange)
    symbol = _symbol(data, "mark price", adapter.exchange, symbol)
    info = _info(data)
    mark = _positive(data.get("markPrice") or info.get("markPrice"), f"{symbol} markPrice")
    if mark is None:
        raise BadExchangeResponse(f"{symbol}: the reply has no mark price", exchange=adapter.exchange, symbol=symbol)
    return MarkPrice(
        symbol=symbol,
        mark_price=mark,
        timestamp=_timestamp(data.get("timestamp"), f"{symbol} markPrice.timestamp") or now_ms,
        index_price=_positive(data.get("indexPrice") or info.get("indexPrice"), f"{symbol} indexPrice"),
    )


def parse_funding_payment(adapter: CCXTAdapter, raw: Any) -> FundingPayment:
    """Parse one funding payment of the account (ccxt funding history: ``id``, ``code``, ``amount``)."""
    data = _mapping(raw, "funding payment", adapter.exchange)
    symbol = _symbol(data, "funding payment", adapter.exchange)
    amount = to_dec(data.get("amount"), f"{symbol} funding.amount")
    timestamp = _timestamp(data.get("timestamp"), f"{symbol} funding.timestamp")
    currency = data.get("code") or data.get("currency")
    if amount is None or timestamp is None or not currency:
        raise BadExchangeResponse(f"{symbol} funding payment without currency or time", exchange=adapter.exchange)
    payment_id = data.get("id") or f"{symbol}:{timestamp}"
    return FundingPayment(id=str(payment_id), symbol=symbol, currency=str(currency), amount=amount, timestamp=timestamp)


def parse_liquidation(adapter: CCXTAdapter, raw: Any) -> ExchangeLiquidation:
    """Parse one of the account's liquidations (ccxt liquidation structure).

    The venue reports the closing order's side; the liquidated position's side is its opposite.
    The id is the closing order's id when the venue sends one, else ``symbol:timestamp``.
    """
    data = _mapping(raw, "liquidation", adapter.exchange)
    symbol = _symbol(data, "liquidation", adapter.exchange)
    contracts = to_dec(data.get("contracts"), f"{symbol} liquidation.contracts")
    price = to_dec(data.get("price"), f"{symbol} liquidation.price")
    timestamp = _timestamp(data.get("timestamp"), f"{symbol} liquidation.timestamp")
    order_side = str(data.get("side") or "").lower()
    if contracts is None or price is None or timestamp is None or order_side not in ("buy", "sell", "long", "short"):
        raise BadExchangeResponse(f"{symbol} liquidation without side or time", exchange=adapter.exchange)
    if contracts <= ZERO or price <= ZERO:
        raise BadExchangeResponse(f"{symbol} liquidation of {contracts} at {price}", exchange=adapter.exchange)
    side = {"sell": "long", "buy": "short"}.get(order_side, order_side)
    info = _info(data)
    liquidation_id = data.get("id") or info.get("orderId") or f"{symbol}:{timestamp}"
    return ExchangeLiquidation(
        id=str(liquidation_id),
        symbol=symbol,
        side=side,
        contracts=contracts,
        price=price,
        timestamp=timestamp,
        quote_value=to_dec(data.get("quoteValue"), f"{symbol} liquidation.quoteValue", required=False),
    )
