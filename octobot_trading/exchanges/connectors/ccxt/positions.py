"""Futures calls of the ccxt connector (mixed into ``CCXTConnector``).

* Reads: ``fetch_positions`` (open positions only), ``fetch_funding_rate``,
  ``fetch_funding_rate_history``, ``fetch_mark_price``, ``fetch_mark_ohlcv`` (ccxt's
  ``fetch_ohlcv(..., params={"price": "mark"})``), ``fetch_funding_history`` (the account's funding
  payments) and ``fetch_my_liquidations``. Retried like every read; parsed by
  :mod:`.futures_parsing`.
* Settings: ``set_leverage``, ``set_margin_mode``, ``set_position_mode``. They are idempotent, so
  a transport failure is retried like a read. A venue answer meaning "already so" (Binance -4046
  "No need to change margin type", -4059 "No need to change position side") is success. A refusal
  because of open positions or orders (Binance -4047, -4048, -4067, -4068, -4161) raises
  ``OpenPositionsError``; a leverage the venue refuses raises ``ConfigurationError(field="leverage")``.
* ``fetch_contract_settings``: the venue's leverage and margin mode of each symbol (ccxt's
  ``fetch_leverages``, else ``fetch_leverage`` per symbol; the margin mode from the same reply,
  else ``fetch_margin_modes`` / ``fetch_margin_mode``) and its position mode
  (``fetch_position_mode``, read once on venues where it is per account); a part the venue lacks
  (``NotSupported``) is None. Every settings error names the symbol.
* Balances of a contract account: :func:`.futures_account.wallet_balances` (total = wallet
  balance, no unrealized PnL; the simulated venue's rule).
* Leverage reaches ccxt as an ``int`` when it is whole (what venues take) and as its exact text
  otherwise, never as a float. A venue whose position reports carry no leverage (Binance's v3
  position risk) gets the leverage this connector last set for the symbol, else the venue's
  setting read once with ccxt's ``fetch_leverages``.
* Contract orders: :func:`contract_order_params` turns the trader's ``reduceOnly`` /
  ``positionSide`` parameters into ccxt's unified ones (``reduceOnly``, and for a hedge-mode
  ``positionSide`` ccxt's ``hedged`` flag with ``reduceOnly`` marking the closing side, which ccxt
  sends to Binance as ``positionSide=LONG|SHORT`` without ``reduceOnly``).

Every call on a symbol first checks it is a contract market of this connector (``UnknownSymbol``
otherwise); a spot connector raises ``NotSupported``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarginMode, MarketType, OrderSide, PositionMode, TimeFrame
from octobot_trading.errors import (
    ConfigurationError,
    ExchangeError,
    InvalidOrder,
    NetworkError,
    NotSupported,
    OpenPositionsError,
)
from octobot_trading.exchanges.connectors.ccxt.adapter import to_dec
from octobot_trading.exchanges.connectors.ccxt.futures_account import (
    settings_leverage,
    settings_margin_mode,
    wallet_balances,
)
from octobot_trading.exchanges.connectors.ccxt.futures_parsing import (
    parse_funding_payment,
    parse_funding_rate,
    parse_funding_rate_history,
    parse_liquidation,
    parse_mark_price,
    parse_position,
)
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ContractSettings,
    ExchangeLiquidation,
    ExchangePosition,
    FundingPayment,
    FundingRate,
    MarketInfo,
    MarkPrice,
)
from octobot_trading.util.contract_spec import settle_currency
from octobot_trading.util.decimals import decimal_to_str, to_decimal
from octobot_trading.util.logging import get_logger

__all__ = ["CCXTFuturesMixin", "contract_order_params", "leverage_argument"]

T = TypeVar("T")

_CONTRACTS = (MarketType.LINEAR, MarketType.INVERSE)
#: Venue answers meaning the setting already has the asked value.
_NO_CHANGE_MARKERS = ("-4046", "-4059", "No need to change")
#: Venue refusals because the symbol has open positions or orders.
_OPEN_POSITION_MARKERS = ("-4047", "-4048", "-4067", "-4068", "-4161")
_LEVERAGE_MARKERS = ("-4028", "leverage", "Leverage")
#: ccxt ids of venues whose position mode is one setting of the whole account.
_ACCOUNT_POSITION_MODE = frozenset({"binance", "binanceusdm", "binancecoinm"})


def leverage_argument(leverage: Decimal) -> int | str:
    """ccxt's leverage argument: an ``int`` for a whole leverage, else its exact text (never a float)."""
    if leverage == leverage.to_integral_value():
        return int(leverage)
    return decimal_to_str(leverage)


def contract_order_params(params: dict[str, Any], side: OrderSide, info: MarketInfo) -> dict[str, Any]:
    """Translate the trader's contract order parameters to ccxt's (see the module docstring).

    ``reduceOnly`` / ``positionSide`` on a spot market raise ``InvalidOrder``; a ``positionSide``
    other than long / short, or a reduce-only order that would open its hedge-mode side, too.
    """
    reduce_only = params.get("reduceOnly")
    position_side = params.get("positionSide")
    if position_side is not None and str(position_side).lower() == "both":
        position_side = None  # one-way mode's side: nothing to send
    if not reduce_only and position_side is None:
        return {k: v for k, v in params.items() if k not in ("reduceOnly", "positionSide")}
    if info.market_type not in _CONTRACTS:
        limit = "reduce_only" if reduce_only else "position_side"
        raise InvalidOrder(f"{limit} applies to contract markets, not {info.symbol}", limit=limit, symbol=info.symbol)
    result = {k: v for k, v in params.items() if k not in ("reduceOnly", "positionSide")}
    if position_side is None:
        result["reduceOnly"] = True
        return result
    held = str(position_side).lower()
    if held not in ("long", "short"):
        raise InvalidOrder(f"unknown position side {position_side!r}", limit="position_side", symbol=info.symbol)
    closing = (side is OrderSide.SELL) == (held == "long")
    if reduce_only and not closing:
        raise InvalidOrder(
            f"a reduce-only {side.value} cannot open the {held} side of {info.symbol}",
            limit="reduce_only",
            symbol=info.symbol,
        )
    result["hedged"] = True
    if closing:
        result["reduceOnly"] = True
    return result


def _says(error: BaseException, markers: tuple[str, ...]) -> bool:
    text = f"{error} {error.__cause__ or ''}"
    return any(marker in text for marker in markers)


class CCXTFuturesMixin:
    """The futures methods of the connector contract over a ccxt client."""

    client: Any
    adapter: Any
    config: ExchangeConfig
    name: str
    clock: Any
    #: The leverage last set per symbol (set by the connector's constructor).
    _leverages: dict[str, Decimal]
    #: The settle currencies of the connector's contract markets (read once).
    _settle_currencies: set[str] | None = None

    async def _read(
        self, what: str, fn: Callable[[], Awaitable[T]], *, symbol: str | None = None, order_id: str | None = None
    ) -> T:  # provided by CCXTConnector
        raise NotImplementedError

    async def market(self, symbol: str) -> MarketInfo:  # provided by CCXTConnector
        raise NotImplementedError

    async def load_markets(self, reload: bool = False) -> Any:  # provided by CCXTConnector
        raise NotImplementedError

    async def _contract(self, symbol: str, what: str) -> MarketInfo:
        info = await self.market(symbol)
        if info.market_type not in _CONTRACTS:
            raise NotSupported(f"{what} needs a contract market; {symbol} is {info.market_type.value}", symbol=symbol)
        return info

    def _has(self, capability: str, what: str, symbol: str | None = None) -> None:
        if not self.client.has.get(capability):
            raise NotSupported(f"{self.name} has no {what} in ccxt", exchange=self.name, symbol=symbol)

    # -- positions ----------------------------------------------------------------------------
    async def fetch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Return the open positions (of ``symbols`` when given), zero-size entries left out."""
        self._has("fetchPositions", "positions")
        for symbol in symbols or []:
            await self._contract(symbol, "fetch_positions")
        markets = await self.load_markets()
        wanted = set(symbols) if symbols else set(markets)
        rows = await self._read("fetch_positions", lambda: self.client.fetch_positions(symbols or None))
        positions = [
            p for p in (parse_position(self.adapter, row) for row in rows) if p.contracts and p.symbol in wanted
        ]
        unknown = sorted({p.symbol for p in positions if p.leverage is None and p.symbol not in self._leverages})
        if unknown and self.client.has.get("fetchLeverages"):
            await self._read_leverages(unknown)
        return [self._with_leverage(p) for p in positions]

    async def _read_leverages(self, symbols: list[str]) -> None:
        """Remember the venue's leverage setting of ``symbols`` (for position reports without one)."""
        rows = await self._read("fetch_leverages", lambda: self.client.fetch_leverages(symbols))
        for symbol, raw in (rows or {}).items():
            if symbol in symbols and isinstance(raw, dict):
                value = to_dec(
                    raw.get("longLeverage") or raw.get("shortLeverage"), f"{symbol} leverage", required=False
                )
                if value is not None and value > 0:
                    self._leverages[symbol] = value

    def _with_leverage(self, position: ExchangePosition) -> ExchangePosition:
        known = self._leverages.get(position.symbol)
        if position.leverage is not None or known is None:
            return position
        return replace(position, leverage=known)

    # -- settings -----------------------------------------------------------------------------
    async def _setting(self, what: str, symbol: str, fn: Callable[[], Awaitable[Any]], field: str) -> None:
        try:
            await self._read(what, fn, symbol=symbol)
        except NetworkError:
            raise
        except ExchangeError as exc:
            if _says(exc, _NO_CHANGE_MARKERS) or isinstance(exc.__cause__, ccxt.NoChange):
                return  # already so
            if _says(exc, _OPEN_POSITION_MARKERS):
                raise OpenPositionsError(
                    f"{self.name} refused to change the {field} of {symbol} with open positions or orders: {exc}",
                    field=field,
                    symbol=symbol,
                ) from exc
            if field == "leverage" and (isinstance(exc.__cause__, ccxt.BadRequest) or _says(exc, _LEVERAGE_MARKERS)):
                raise ConfigurationError(
                    f"{self.name} refused the leverage of {symbol}: {exc}", field=field, symbol=symbol
                ) from exc
            raise

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set the leverage of a contract (``ConfigurationError(field="leverage")`` when refused)."""
        value = to_decimal(leverage, name="leverage")
        if not value.is_finite() or value <= 0:
            raise ConfigurationError(f"leverage must be positive, got {leverage}", field="leverage", symbol=symbol)
        await self._contract(symbol, "set_leverage")
        self._has("setLeverage", "set_leverage", symbol)
        argument = leverage_argument(value)

        async def call() -> Any:
            try:
                return await self.client.set_leverage(argument, symbol)
            except TypeError as exc:  # a venue comparing the leverage with numbers: whole ones only
                raise ccxt.BadRequest(f"{self.name} takes whole leverages only, not {argument}") from exc

        await self._setting("set_leverage", symbol, call, "leverage")
        self._leverages[symbol] = value

    async def set_margin_mode(self, symbol: str, margin_mode: MarginMode) -> None:
        """Set the margin mode of a contract; asking for the current mode is not an error."""
        try:
            mode = MarginMode(margin_mode)
        except ValueError:
            raise ConfigurationError(
                f"unknown margin mode {margin_mode!r}", field="margin_mode", symbol=symbol
            ) from None
        await self._contract(symbol, "set_margin_mode")
        self._has("setMarginMode", "set_margin_mode", symbol)
        await self._setting(
            "set_margin_mode", symbol, lambda: self.client.set_margin_mode(mode.value, symbol), "margin_mode"
        )

    async def set_position_mode(self, symbol: str, position_mode: PositionMode) -> None:
        """Set one-way or hedge mode (on venues where it is per account, such as Binance, for every
        contract of the account); asking for the current mode is not an error."""
        try:
            mode = PositionMode(position_mode)
        except ValueError:
            raise ConfigurationError(
                f"unknown position mode {position_mode!r}", field="position_mode", symbol=symbol
            ) from None
        await self._contract(symbol, "set_position_mode")
        self._has("setPositionMode", "set_position_mode", symbol)
        hedged = mode is PositionMode.HEDGE
        await self._setting(
            "set_position_mode", symbol, lambda: self.client.set_position_mode(hedged, symbol), "position_mode"
        )

    async def fetch_contract_settings(self, symbols: list[str]) -> list[ContractSettings]:
        """Return the venue's leverage, margin mode and position mode of each of ``symbols``."""
        for symbol in symbols:
            await self._contract(symbol, "fetch_contract_settings")
        leverages = await self._settings_rows(
            ("fetchLeverages", "fetch_leverages"), ("fetchLeverage", "fetch_leverage"), symbols
        )
        modes: dict[str, Any] = {}
        if any(settings_margin_mode(leverages.get(s)) is None for s in symbols):
            modes = await self._settings_rows(
                ("fetchMarginModes", "fetch_margin_modes"), ("fetchMarginMode", "fetch_margin_mode"), symbols
            )
        per_account = self.client.id in _ACCOUNT_POSITION_MODE
        hedged: dict[str, bool | None] = {}
        for symbol in symbols:
            if per_account and hedged:
                hedged[symbol] = next(iter(hedged.values()))
            else:
                hedged[symbol] = await self._hedged(symbol)
        result = []
        for symbol in symbols:
            leverage = settings_leverage(leverages.get(symbol), symbol)
            if leverage is not None:
                self._leverages[symbol] = leverage
            flag = hedged[symbol]
            result.append(
                ContractSettings(
                    symbol=symbol,
                    leverage=leverage,
                    margin_mode=settings_margin_mode(leverages.get(symbol)) or settings_margin_mode(modes.get(symbol)),
                    position_mode=None if flag is None else PositionMode.HEDGE if flag else PositionMode.ONE_WAY,
                    position_mode_per_account=per_account,
                )
            )
        return result

    async def _settings_rows(self, many: tuple[str, str], one: tuple[str, str], symbols: list[str]) -> dict[str, Any]:
        """ccxt's settings structures by symbol: ``many`` = (capability, method) in one call, else
        ``one`` per symbol; {} when the venue has neither."""
        try:
            if self.client.has.get(many[0]):
                method = getattr(self.client, many[1])
                rows = await self._read(many[1], lambda: method(symbols))
                return dict(rows) if isinstance(rows, Mapping) else {}
            if self.client.has.get(one[0]):
                single = getattr(self.client, one[1])
                result: dict[str, Any] = {}
                for symbol in symbols:
                    result[symbol] = await self._read(one[1], functools.partial(single, symbol), symbol=symbol)
                return result
        except NotSupported as exc:
            self._log_settings_gap(many[1], exc)
        return {}

    async def _hedged(self, symbol: str) -> bool | None:
        """True in hedge mode, False in one-way mode, None when the venue does not say."""
        if not self.client.has.get("fetchPositionMode"):
            return None
        try:
            raw = await self._read(
                "fetch_position_mode", lambda: self.client.fetch_position_mode(symbol), symbol=symbol
            )
        except NotSupported as exc:
            self._log_settings_gap("fetch_position_mode", exc)
            return None
        value = raw.get("hedged") if isinstance(raw, Mapping) else None
        return value if isinstance(value, bool) else None

    def _log_settings_gap(self, what: str, exc: BaseException) -> None:
        get_logger("exchanges.ccxt.positions").info("%s: no %s: %s", self.name, what, exc)

    async def _wallet_balances(self, raw: Any, parsed: dict[str, Balance]) -> dict[str, Balance]:
        """A contract connector's balances on the wallet rule (see the module docstring)."""
        if self.config.market_type not in _CONTRACTS:
            return parsed
        if self._settle_currencies is None:
            markets = await self.load_markets()
            self._settle_currencies = {
                settle_currency(symbol) for symbol, info in markets.items() if info.market_type in _CONTRACTS
            }
        return wallet_balances(raw, parsed, self._settle_currencies)

    # -- funding and mark prices ----------------------------------------------------------------
    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """Return the current funding rate of a perpetual (with the mark price when sent)."""
        await self._contract(symbol, "fetch_funding_rate")
        self._has("fetchFundingRate", "funding rates", symbol)
        raw = await self._read("fetch_funding_rate", lambda: self.client.fetch_funding_rate(symbol), symbol=symbol)
        return parse_funding_rate(self.adapter, raw, symbol, self.clock.now_ms())

    async def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRate]:
        """Return past funding events of a perpetual, oldest first (one per time)."""
        await self._contract(symbol, "fetch_funding_rate_history")
        self._has("fetchFundingRateHistory", "funding rate history", symbol)
        rows = await self._read(
            "fetch_funding_rate_history",
            lambda: self.client.fetch_funding_rate_history(symbol, since, limit),
            symbol=symbol,
        )
        events = {r.timestamp: r for r in (parse_funding_rate_history(self.adapter, row, symbol) for row in rows)}
        return [events[t] for t in sorted(t for t in events if t is not None)]

    async def fetch_mark_price(self, symbol: str) -> MarkPrice:
        """Return the mark price of a contract (ccxt ``fetch_mark_price``, else the funding reply)."""
        await self._contract(symbol, "fetch_mark_price")
        if self.client.has.get("fetchMarkPrice"):
            fetch = self.client.fetch_mark_price
        else:
            self._has("fetchFundingRate", "mark prices", symbol)
            fetch = self.client.fetch_funding_rate
        raw = await self._read("fetch_mark_price", lambda: fetch(symbol), symbol=symbol)
        return parse_mark_price(self.adapter, raw, symbol, self.clock.now_ms())

    async def fetch_mark_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return mark-price candles oldest first (volumes as the venue sends them, usually 0)."""
        await self._contract(symbol, "fetch_mark_ohlcv")
        self._has("fetchMarkOHLCV", "mark price candles", symbol)
        tf = TimeFrame.parse(time_frame)
        rows = await self._read(
            "fetch_mark_ohlcv",
            lambda: self.client.fetch_ohlcv(symbol, tf.value, since, limit, {"price": "mark"}),
            symbol=symbol,
        )
        candles = [self.adapter.parse_candle(row) for row in rows]
        candles.sort(key=lambda c: c.timestamp)
        return candles

    # -- the account's funding payments and liquidations -----------------------------------------
    async def fetch_funding_history(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[FundingPayment]:
        """Return the account's funding payments, oldest first, one per id."""
        if symbol is not None:
            await self._contract(symbol, "fetch_funding_history")
        self._has("fetchFundingHistory", "funding history", symbol)
        rows = await self._read(
            "fetch_funding_history", lambda: self.client.fetch_funding_history(symbol, since, limit), symbol=symbol
        )
        unique = {p.id: p for p in (parse_funding_payment(self.adapter, row) for row in rows)}
        return sorted(unique.values(), key=lambda p: (p.timestamp, p.id))

    async def fetch_my_liquidations(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeLiquidation]:
        """Return the account's liquidations, oldest first, one per id."""
        if symbol is not None:
            await self._contract(symbol, "fetch_my_liquidations")
        self._has("fetchMyLiquidations", "liquidation history", symbol)
        rows = await self._read(
            "fetch_my_liquidations", lambda: self.client.fetch_my_liquidations(symbol, since, limit), symbol=symbol
        )
        unique = {x.id: x for x in (parse_liquidation(self.adapter, row) for row in rows)}
        return sorted(unique.values(), key=lambda x: (x.timestamp, x.id))
