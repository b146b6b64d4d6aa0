"""Turn ccxt's unified dicts into the library's typed results (``exchanges/types.py``).

Each structure goes through two steps: ``fix_<kind>(raw)`` (a hook for a venue's quirks: the
default returns ``raw`` unchanged; an exchange subclass's adapter overrides it) and
``parse_<kind>(raw)``. The connector configures its ccxt client with ``number = str``, so
ccxt hands numbers over as the exchange's own text and they become ``Decimal`` without a
float. A value that still arrives as a JSON number is converted through its shortest repr
(:func:`~octobot_trading.util.decimals.decimal_from_data_float`), the rule used for data files.

Missing fields are handled explicitly and documented per method; anything that cannot be
parsed raises :class:`~octobot_trading.errors.BadExchangeResponse` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from octobot_trading.enums import (
    MarketType,
    OrderStatus,
    OrderType,
    PrecisionMode,
    TradeType,
    parse_order_side,
    parse_order_status,
    parse_order_type,
)
from octobot_trading.errors import BadExchangeResponse, InvalidNumber
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    DepositAddress,
    ExchangeOrder,
    ExchangeTrade,
    ExchangeTransaction,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
    TransferStatus,
)
from octobot_trading.util.decimals import ZERO, decimal_from_data_float, decimal_to_str, to_decimal
from octobot_trading.util.market_spec import DEFAULT_STEP, MarketSpec

__all__ = ["CCXTAdapter", "to_dec"]

_BALANCE_META = {"info", "free", "used", "total", "timestamp", "datetime", "debt"}
#: Order types of the closes a futures venue makes itself (Binance ``LIQUIDATION``, ``ADL``): market orders.
_FORCED_CLOSES = frozenset({"liquidation", "adl"})
#: Types of an order-book level's raw price and amount that can key the previous book's levels.
_LEVEL_KEYS = (float, int, str)


def to_dec(value: Any, field: str, *, required: bool = True, bounded: bool = True) -> Decimal | None:
    """Return ``value`` (ccxt string / int / Decimal / JSON number) as Decimal, or None if absent.

    Raises ``BadExchangeResponse`` naming ``field`` for a required missing value or garbage, and
    for a number outside the library's money bounds (those of
    :func:`~octobot_trading.util.decimals.to_decimal`: below ``1e19``, non-zero ones at least
    ``1e-40``, text of at most 100 characters), so no venue number can cost more than
    microseconds later. ``bounded=False`` keeps a finite value of any size (a market's maximum,
    where a venue writes "no limit" as ``1e30``: :class:`MarketSpec` turns it into no limit).
    """
    if value is None or value == "":
        if required:
            raise BadExchangeResponse(f"missing {field} in exchange reply")
        return None
    try:
        if isinstance(value, float):
            value = decimal_from_data_float(value)
        if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
            if bounded:
                return to_decimal(value, name=field)
            result = Decimal(value)
            if result.is_finite():
                return result
            raise InvalidNumber(f"{field}: {value!r} is not a finite number")
    except InvalidNumber as exc:
        raise BadExchangeResponse(f"exchange reply: {exc}") from None
    except (InvalidOperation, TypeError, ValueError):
        pass
    raise BadExchangeResponse(f"{field}: {value!r} is not a number")


def _req(value: Any, field: str) -> Decimal:
    result = to_dec(value, field)
    assert result is not None
    return result


def _int(value: Any, field: str, *, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise BadExchangeResponse(f"missing {field} in exchange reply")
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float timestamp
        raise BadExchangeResponse(f"{field}: {value!r} is not an integer") from None


def _str(raw: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise BadExchangeResponse(f"missing {key} in exchange reply")
        return None
    return str(value)


def _mapping(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise BadExchangeResponse(f"expected a {what} object, got {type(raw).__name__}")
    return raw


class CCXTAdapter:
    """Parse ccxt structures; subclass and override ``fix_*`` (or ``parse_*``) for a venue.

    Parameters
    ----------
    exchange:
        Name used in error context.
    precision_mode:
        ccxt's ``precisionMode`` of the client (TICK_SIZE=4, DECIMAL_PLACES=2,
        SIGNIFICANT_DIGITS=3).
    """

    def __init__(self, exchange: str, precision_mode: int = 4) -> None:
        self.exchange = exchange
        self.precision_mode = precision_mode

    # -- fix hooks (identity by default) -----------------------------------------------
    def fix_market(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt market dict before parsing."""
        return raw

    def fix_ticker(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt ticker dict before parsing."""
        return raw

    def fix_order(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt order dict before parsing."""
        return raw

    def fix_trade(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt trade dict before parsing."""
        return raw

    def fix_balance(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt balance dict before parsing."""
        return raw

    def fix_position(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt position dict before parsing (:mod:`.futures_parsing`)."""
        return raw

    def fix_funding_rate(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Repair a ccxt funding rate dict before parsing (:mod:`.futures_parsing`)."""
        return raw

    # -- markets -------------------------------------------------------------------------
    def _step(self, value: Any, field: str) -> Decimal:
        """A precision value as a step; missing precision means the default 1e-8 step."""
        number = to_dec(value, field, required=False)
        if number is None:
            return DEFAULT_STEP
        if self.precision_mode == 2:  # DECIMAL_PLACES: number of decimals
            return Decimal((0, (1,), -int(number)))
        return number

    def parse_market(self, raw: dict[str, Any]) -> MarketInfo:
        """Parse a ccxt market. Missing limits are None (not checked); missing precision is 1e-8."""
        raw = self.fix_market(dict(_mapping(raw, "market")))
        symbol = _str(raw, "symbol") or ""
        kind = raw.get("type")
        if kind == "spot":
            market_type = MarketType.SPOT
        elif kind == "margin":
            market_type = MarketType.MARGIN
        elif kind == "option":
            market_type = MarketType.OPTION
        elif kind in ("swap", "future"):
            market_type = MarketType.INVERSE if raw.get("inverse") else MarketType.LINEAR
        else:
            raise BadExchangeResponse(f"market {symbol}: unknown market type {kind!r}", exchange=self.exchange)
        precision = raw.get("precision") or {}
        limits = raw.get("limits") or {}

        def limit(group: str, bound: str) -> Decimal | None:
            raw_limit = (limits.get(group) or {}).get(bound)
            return to_dec(raw_limit, f"{symbol} limits.{group}.{bound}", required=False, bounded=bound != "max")

        significant = self.precision_mode == 3
        amount_precision = precision.get("amount")
        digits = int(_req(amount_precision, f"{symbol} precision.amount")) if significant else None
        spec = MarketSpec(
            price_tick=DEFAULT_STEP if significant else self._step(precision.get("price"), f"{symbol} precision.price"),
            amount_step=DEFAULT_STEP if significant else self._step(amount_precision, f"{symbol} precision.amount"),
            min_amount=limit("amount", "min"),
            max_amount=limit("amount", "max"),
            min_cost=limit("cost", "min"),
            max_cost=limit("cost", "max"),
            min_price=limit("price", "min"),
            max_price=limit("price", "max"),
            contract_size=to_dec(raw.get("contractSize"), f"{symbol} contractSize", required=False) or Decimal(1),
            precision_mode=PrecisionMode.SIGNIFICANT_DIGITS
            if significant
            else (PrecisionMode.DECIMAL_PLACES if self.precision_mode == 2 else PrecisionMode.TICK_SIZE),
            amount_significant_digits=digits,
            symbol=symbol,
        )
        return MarketInfo(
            symbol=symbol,
            base=_str(raw, "base") or "",
            quote=_str(raw, "quote") or "",
            market_type=market_type,
            spec=spec,
            active=raw.get("active") is not False,
            settle=_str(raw, "settle", required=False),
            exchange_symbol=_str(raw, "id", required=False),
            maker_fee=to_dec(raw.get("maker"), f"{symbol} maker", required=False),
            taker_fee=to_dec(raw.get("taker"), f"{symbol} taker", required=False),
            fee_side=str(raw.get("feeSide") or "quote"),  # ccxt's own default when a venue does not say
            extra=_leverage_range(limit("leverage", "min"), limit("leverage", "max")),
        )

    # -- market data ---------------------------------------------------------------------
    def parse_ticker(self, raw: dict[str, Any], symbol: str, now_ms: int) -> Ticker:
        """Parse a ticker; a missing timestamp becomes ``now_ms`` (time of receipt)."""
        raw = self.fix_ticker(dict(_mapping(raw, "ticker")))

        def opt(key: str) -> Decimal | None:
            return to_dec(raw.get(key), f"ticker.{key}", required=False)

        return Ticker(
            symbol=raw.get("symbol") or symbol,
            timestamp=_int(raw.get("timestamp"), "ticker.timestamp", required=False) or now_ms,
            last=opt("last"),
            bid=opt("bid"),
            ask=opt("ask"),
            high=opt("high"),
            low=opt("low"),
            open=opt("open"),
            close=opt("close"),
            base_volume=opt("baseVolume"),
            quote_volume=opt("quoteVolume"),
        )

    def parse_candle(self, raw: Any) -> Candle:
        """Parse ``[ms, open, high, low, close, volume]``; a missing volume is 0."""
        if not isinstance(raw, list | tuple) or len(raw) < 5:
            raise BadExchangeResponse(f"malformed candle {raw!r}", exchange=self.exchange)
        volume = to_dec(raw[5] if len(raw) > 5 else None, "candle.volume", required=False)
        return Candle(
            timestamp=_int(raw[0], "candle.timestamp") or 0,
            open=_req(raw[1], "candle.open"),
            high=_req(raw[2], "candle.high"),
            low=_req(raw[3], "candle.low"),
            close=_req(raw[4], "candle.close"),
            volume=volume if volume is not None else ZERO,
        )

    def parse_order_book(
        self,
        raw: dict[str, Any],
        symbol: str,
        *,
        previous: Mapping[Any, tuple[Decimal, Decimal]] | None = None,
        seen: dict[Any, tuple[Decimal, Decimal]] | None = None,
    ) -> OrderBook:
        """Parse an order book; levels keep the exchange's best-first order.

        A stream's successive books share most of their levels: ``previous`` maps a level's
        ``(side, price, amount)`` as the venue gave them (numbers or text) to its parsed level, from
        the previous book of the same stream, and is used instead of parsing that level again;
        ``seen`` receives this book's levels (so a cache never holds more than one book)."""
        raw = dict(_mapping(raw, "order book"))
        known = previous or {}

        def levels(side: str) -> list[tuple[Decimal, Decimal]]:
            rows = raw.get(side)
            if not isinstance(rows, list):
                raise BadExchangeResponse(f"order book {side} missing", exchange=self.exchange, symbol=symbol)
            if seen is None:
                return [(_req(row[0], f"{side}.price"), _req(row[1], f"{side}.amount")) for row in rows]
            parsed = []
            for row in rows:
                price, amount = row[0], row[1]
                key = (side, price, amount) if type(price) in _LEVEL_KEYS and type(amount) in _LEVEL_KEYS else None
                level = known.get(key) if key is not None else None
                if level is None:
                    level = (_req(price, f"{side}.price"), _req(amount, f"{side}.amount"))
                if key is not None:
                    seen[key] = level
                parsed.append(level)
            return parsed

        return OrderBook(
            symbol=raw.get("symbol") or symbol,
            timestamp=_int(raw.get("timestamp"), "order_book.timestamp", required=False),
            bids=levels("bids"),
            asks=levels("asks"),
            nonce=_int(raw.get("nonce"), "order_book.nonce", required=False),
        )

    def parse_public_trade(self, raw: dict[str, Any], symbol: str) -> PublicTrade:
        """Parse a public trade (side None when the venue does not say)."""
        raw = self.fix_trade(dict(_mapping(raw, "trade")))
        side = raw.get("side")
        return PublicTrade(
            id=_str(raw, "id", required=False),
            symbol=raw.get("symbol") or symbol,
            side=parse_order_side(side) if side else None,
            price=_req(raw.get("price"), "trade.price"),
            amount=_req(raw.get("amount"), "trade.amount"),
            timestamp=_int(raw.get("timestamp"), "trade.timestamp") or 0,
        )

    # -- account -------------------------------------------------------------------------
    def parse_balance(self, raw: dict[str, Any]) -> dict[str, Balance]:
        """Parse balances; a missing ``used`` is ``total - free``, a missing ``total`` is ``free + used``."""
        raw = self.fix_balance(dict(_mapping(raw, "balance")))
        result: dict[str, Balance] = {}
        for currency, entry in raw.items():
            if currency in _BALANCE_META or not isinstance(entry, Mapping):
                continue
            free = to_dec(entry.get("free"), f"{currency}.free", required=False)
            used = to_dec(entry.get("used"), f"{currency}.used", required=False)
            total = to_dec(entry.get("total"), f"{currency}.total", required=False)
            if total is None and free is not None:
                total = free + (used or ZERO)
            if used is None and total is not None and free is not None:
                used = total - free
            if free is None and total is not None:
                free = total - (used or ZERO)
            if free is None or used is None or total is None:
                raise BadExchangeResponse(f"balance of {currency} has no usable amounts", exchange=self.exchange)
            result[currency] = Balance(free=free, used=used, total=total)
        return result

    def parse_order(self, raw: dict[str, Any]) -> ExchangeOrder:
        """Parse an order.

        ccxt ``"open"`` with a non-zero fill becomes PARTIALLY_FILLED; ``"closed"`` is FILLED.
        A missing ``filled`` is ``amount - remaining`` (or 0 while open, ``amount`` once filled);
        a missing ``remaining`` is ``amount - filled``. Fees in the order's currency are summed.
        """
        raw = self.fix_order(dict(_mapping(raw, "order")))
        order_id = _str(raw, "id") or ""
        symbol = _str(raw, "symbol") or ""
        status = parse_order_status(raw.get("status"))
        order_type = self._order_type(raw)
        amount = _req(raw.get("amount"), "order.amount")
        filled = to_dec(raw.get("filled"), "order.filled", required=False)
        remaining = to_dec(raw.get("remaining"), "order.remaining", required=False)
        if filled is None:
            if remaining is not None:
                filled = amount - remaining
            else:
                filled = amount if status is OrderStatus.FILLED else ZERO
        if remaining is None:
            remaining = amount - filled if status in (OrderStatus.OPEN, OrderStatus.FILLED) else ZERO
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        fee, fee_currency = self._fee(raw)
        return ExchangeOrder(
            id=order_id,
            client_order_id=_str(raw, "clientOrderId", required=False),
            symbol=symbol,
            type=order_type,
            side=parse_order_side(raw.get("side")),
            status=status,
            price=to_dec(raw.get("price"), "order.price", required=False),
            amount=amount,
            filled=filled,
            remaining=remaining,
            average=to_dec(raw.get("average"), "order.average", required=False),
            fee=fee,
            timestamp=_int(raw.get("timestamp"), "order.timestamp", required=False),
            fee_currency=fee_currency,
            trigger_price=to_dec(raw.get("triggerPrice"), "order.triggerPrice", required=False),
            last_update_timestamp=_int(raw.get("lastUpdateTimestamp"), "order.lastUpdateTimestamp", required=False),
        )

    def _order_type(self, raw: Mapping[str, Any]) -> OrderType:
        if str(raw.get("type") or "").lower() in _FORCED_CLOSES:
            return OrderType.MARKET  # the venue closing a position itself (liquidation, auto-deleverage)
        order_type = parse_order_type(raw.get("type"))
        if order_type in (OrderType.MARKET, OrderType.LIMIT):
            limit = order_type is OrderType.LIMIT
            if raw.get("stopLossPrice") not in (None, ""):
                return OrderType.STOP_LOSS_LIMIT if limit else OrderType.STOP_LOSS
            if raw.get("takeProfitPrice") not in (None, ""):
                return OrderType.TAKE_PROFIT_LIMIT if limit else OrderType.TAKE_PROFIT
        return order_type

    def _fee(self, raw: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
        fees = [f for f in (raw.get("fees") or []) if isinstance(f, Mapping)]
        if not fees and isinstance(raw.get("fee"), Mapping):
            fees = [raw["fee"]]
        total: Decimal | None = None
        currency: str | None = None
        for entry in fees:
            cost = to_dec(entry.get("cost"), "fee.cost", required=False)
            if cost is None:
                continue
            if currency is not None and entry.get("currency") != currency:
                raise BadExchangeResponse("order fees in several currencies are not supported", exchange=self.exchange)
            currency = entry.get("currency")
            total = cost if total is None else total + cost
        return total, currency

    def parse_trade(self, raw: dict[str, Any]) -> ExchangeTrade:
        """Parse one of the account's fills (``takerOrMaker`` None when the venue does not say)."""
        raw = self.fix_trade(dict(_mapping(raw, "trade")))
        fee, fee_currency = self._fee(raw)
        role = raw.get("takerOrMaker")
        price = _req(raw.get("price"), "trade.price")
        amount = _req(raw.get("amount"), "trade.amount")
        if price <= 0 or amount <= 0:
            raise BadExchangeResponse(f"trade {raw.get('id')!r}: price {price} and amount {amount} must be positive")
        return ExchangeTrade(
            id=_str(raw, "id") or "",
            order_id=_str(raw, "order", required=False),
            symbol=_str(raw, "symbol") or "",
            side=parse_order_side(raw.get("side")),
            price=price,
            amount=amount,
            fee=fee,
            fee_currency=fee_currency,
            timestamp=_int(raw.get("timestamp"), "trade.timestamp") or 0,
            taker_or_maker=TradeType(role) if role in ("maker", "taker") else None,
            realized_pnl=_realized_pnl(raw),
        )

    # -- transfers ---------------------------------------------------------------------------
    def parse_transaction(self, raw: dict[str, Any], kind: str | None = None) -> ExchangeTransaction:
        """Parse a deposit or withdrawal (ccxt transaction structure).

        ``kind`` (``"deposit"`` / ``"withdrawal"``) is used when the structure has no ``type``;
        an unknown status is PENDING (never counted as settled); a missing amount (a
        withdrawal request's reply) raises ``BadExchangeResponse`` unless ``kind`` is given and
        the caller completes it.
        """
        raw = dict(_mapping(raw, "transaction"))
        kind = raw.get("type") or kind
        if kind not in ("deposit", "withdrawal"):
            raise BadExchangeResponse(
                f"transaction {raw.get('id')!r} is neither a deposit nor a withdrawal", exchange=self.exchange
            )
        status_text = str(raw.get("status"))
        status = (
            TransferStatus(status_text) if status_text in TransferStatus._value2member_map_ else TransferStatus.PENDING
        )
        fee = raw.get("fee")
        fee_cost = to_dec(fee.get("cost"), "transaction.fee", required=False) if isinstance(fee, Mapping) else None
        amount = _req(raw.get("amount"), "transaction.amount")
        if amount < 0:
            raise BadExchangeResponse(
                f"transaction {raw.get('id')!r}: negative amount {amount}", exchange=self.exchange
            )
        return ExchangeTransaction(
            id=_str(raw, "id") or "",
            kind=kind,
            currency=_str(raw, "currency") or "",
            amount=amount,
            status=status,
            timestamp=_int(raw.get("timestamp"), "transaction.timestamp", required=False),
            address=_str(raw, "address", required=False),
            tag=_str(raw, "tag", required=False),
            network=_str(raw, "network", required=False),
            txid=_str(raw, "txid", required=False),
            fee=fee_cost,
            updated=_int(raw.get("updated"), "transaction.updated", required=False),
        )

    def parse_deposit_address(self, raw: dict[str, Any]) -> DepositAddress:
        """Parse a deposit address (ccxt address structure)."""
        raw = dict(_mapping(raw, "deposit address"))
        return DepositAddress(
            currency=_str(raw, "currency") or "",
            address=_str(raw, "address") or "",
            tag=_str(raw, "tag", required=False),
            network=_str(raw, "network", required=False),
        )


def _leverage_range(low: Decimal | None, high: Decimal | None) -> dict[str, str]:
    """A contract market's leverage range as the venue states it (ccxt ``limits.leverage``), kept in
    ``MarketInfo.extra`` as ``min_leverage`` / ``max_leverage`` (absent when not stated)."""
    stated = {"min_leverage": low, "max_leverage": high}
    return {name: decimal_to_str(value) for name, value in stated.items() if value is not None and value > 0}


def _realized_pnl(raw: Mapping[str, Any]) -> Decimal | None:
    """A contract fill's realized PnL as the venue reports it (not in ccxt's unified trade: the raw
    reply's ``realizedPnl``, Binance futures); None for a spot fill or when not reported."""
    info = raw.get("info")
    if ":" not in str(raw.get("symbol") or "") or not isinstance(info, Mapping):
        return None
    return to_dec(info.get("realizedPnl"), f"trade {raw.get('id')!r} realizedPnl", required=False)
