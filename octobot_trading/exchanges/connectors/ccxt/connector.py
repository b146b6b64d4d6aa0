"""``CCXTConnector``: the :class:`~octobot_trading.exchanges.connector.ExchangeConnector` over ccxt.

* The client is a ``ccxt.async_support`` class configured from an
  :class:`~octobot_trading.config.ExchangeConfig` (:mod:`.client`): credentials from
  ``SecretStr``, the market type as ccxt's ``defaultType``, ``ccxt_options`` deep-merged, sandbox
  mode, then the client hook (custom urls, proxies, a local test server) — all before markets
  load. The client runs with ``number = str`` so prices and amounts reach the adapter as text.
* Every ccxt call goes through :meth:`CCXTConnector._call`: a per-connector concurrency bound
  (``asyncio.Semaphore``) on top of ccxt's own rate limiter, and the one place where ccxt
  exceptions become library errors (:func:`.errors.map_ccxt_error`, chained with ``from``).
* Reads are retried with exponential backoff and jitter (:mod:`octobot_trading.exchanges.retry`)
  on the injected clock. Order placement is never retried: on an ambiguous failure (timeout,
  dropped connection, HTTP 5xx) the order is looked up by its client order id (twice, a backoff
  apart); it is returned when found. When it is not found, ``AmbiguousOrderOutcome`` is raised:
  a timed-out request may still be processed, and a 5xx means "execution status unknown" (the
  venue may have placed it). Only a refusal before processing (rate limit, HTTP 429 / 418) or a
  connection that could not be made raises the original (retryable) error: nothing was placed.
  The lookup failing itself also gives ``AmbiguousOrderOutcome``.
  Building the order request and settling its outcome: :mod:`.order_placement`.
* Markets are cached process-wide with a TTL (:mod:`.markets_cache`). An unknown symbol raises
  ``UnknownSymbol`` before any request for it is sent.

* The websocket watchers (``watch_*``) use a separate ``ccxt.pro`` client created on first use
  from the same configuration and hook (:mod:`.websocket`); ``reset_websockets()`` reconnects.
  The account's private streams run on another one (:mod:`.private_streams`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType, OrderSide, OrderStatus, OrderType, TimeFrame
from octobot_trading.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidSymbol,
    NetworkError,
    NotSupported,
    OctoBotTradingError,
    OrderNotFound,
    RateLimitExceeded,
    UnknownSymbol,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.exchanges.connectors.ccxt.client import ClientHook, create_ccxt_client, feed_rate_gate
from octobot_trading.exchanges.connectors.ccxt.errors import map_ccxt_error
from octobot_trading.exchanges.connectors.ccxt.markets_cache import MarketsEntry, markets_cache
from octobot_trading.exchanges.connectors.ccxt.order_placement import (
    build_venue_order,
    is_clock_skew,
    never_sent,
    parse_placed_order,
    resolve_ambiguous,
)
from octobot_trading.exchanges.connectors.ccxt.positions import CCXTFuturesMixin, contract_order_params
from octobot_trading.exchanges.connectors.ccxt.private_streams import CCXTPrivateStreamsMixin
from octobot_trading.exchanges.connectors.ccxt.transfers import CCXTTransfersMixin
from octobot_trading.exchanges.connectors.ccxt.websocket import (
    CCXTWebsocketFeeds,
    check_websockets,
    supports_websockets,
)
from octobot_trading.exchanges.rate_limit import venue_rate_gate
from octobot_trading.exchanges.retry import RetryPolicy, retry_read
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangeTrade,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.logging import get_logger
from octobot_trading.util.symbols import parse_symbol

__all__ = ["CCXTConnector", "ClientHook", "create_ccxt_client"]

T = TypeVar("T")


class CCXTConnector(CCXTPrivateStreamsMixin, CCXTTransfersMixin, CCXTFuturesMixin, ExchangeConnector):
    """The ccxt-backed connector; see the module docstring.

    Parameters
    ----------
    config:
        Validated exchange configuration.
    clock:
        Time source for retry sleeps, the markets TTL and missing timestamps.
    client_hook:
        ``fn(client)`` run on the raw ccxt client before markets load.
    adapter:
        Parser of ccxt structures (an exchange subclass may pass its own).
    adapter_class:
        Class of that parser, built with the client's precision mode when ``adapter`` is not
        given (a venue's ``RestExchange.ccxt_adapter_class``); default :class:`CCXTAdapter`.
    retry_policy:
        Retries of reads (default :class:`RetryPolicy()`).
    max_concurrency:
        Most ccxt requests in flight at once for this connector.
    markets_ttl:
        Seconds a process-wide markets entry stays valid.
    """

    def __init__(
        self,
        config: ExchangeConfig,
        clock: Clock,
        *,
        client_hook: ClientHook | None = None,
        adapter: CCXTAdapter | None = None,
        adapter_class: type[CCXTAdapter] | None = None,
        retry_policy: RetryPolicy | None = None,
        max_concurrency: int = 8,
        markets_ttl: float = 3600.0,
    ) -> None:
        super().__init__(clock)
        self.config = config
        self.name = config.exchange
        self.market_type = config.market_type
        self.client = create_ccxt_client(config, client_hook)
        self._client_hook = client_hook
        self._ws: CCXTWebsocketFeeds | None = None
        self.adapter = adapter or (adapter_class or CCXTAdapter)(
            config.exchange, int(getattr(self.client, "precisionMode", 4))
        )
        self.retry_policy = retry_policy or RetryPolicy()
        self.markets_ttl = markets_ttl
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._markets: dict[str, MarketInfo] = {}
        self._markets_loaded_at: float | None = None
        self._leverages: dict[str, Decimal] = {}
        self._closed = False
        self._log = get_logger(f"octobot_trading.exchanges.ccxt.{config.exchange}")
        #: The back-off shared by every connector on this venue (429 / 418 and their Retry-After).
        self.rate_gate = venue_rate_gate.get(self.name, self._cache_key()[3])
        self._watch_rate_limits()

    def _watch_rate_limits(self) -> None:
        """Feed every 429 / 418 answer of the client (and its ``Retry-After``) to the venue's gate."""
        feed_rate_gate(self.client, self.rate_gate, self.clock)

    def __repr__(self) -> str:
        return (
            f"CCXTConnector(exchange={self.name!r}, market_type={self.market_type.value!r}, "
            f"sandboxed={self.config.sandboxed})"
        )

    # -- the boundary ---------------------------------------------------------------------
    async def _call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        symbol: str | None = None,
        order_id: str | None = None,
        placing_order: bool = False,
    ) -> T:
        await self.rate_gate.before_request(self.clock, exchange=self.name)
        async with self._semaphore:
            try:
                return await fn()
            except ccxt.BaseError as exc:
                error = map_ccxt_error(
                    exc, exchange=self.name, symbol=symbol, order_id=order_id, placing_order=placing_order
                )
                if isinstance(error, RateLimitExceeded):
                    now = self.clock.now_ms()
                    wait_ms = max(self.rate_gate.cool_until_ms, self.rate_gate.banned_until_ms) - now
                    error.retry_after = max(0, wait_ms) / 1000 if wait_ms > 0 else None
                raise error from exc

    async def _read(
        self, what: str, fn: Callable[[], Awaitable[T]], *, symbol: str | None = None, order_id: str | None = None
    ) -> T:
        async def attempt() -> T:
            return await retry_read(
                lambda: self._call(fn, symbol=symbol, order_id=order_id),
                policy=self.retry_policy,
                clock=self.clock,
                what=f"{self.name} {what}",
            )

        try:
            return await attempt()
        except AuthenticationError as exc:
            if not is_clock_skew(exc) or what == "load_time_difference":
                raise
            await self.resync_clock(exc)
            return await attempt()  # a read is retried once after the re-sync (an order never is)

    async def resync_clock(self, cause: BaseException | None = None) -> None:
        """Measure the venue's clock offset again (after a timestamp refusal such as Binance -1021).

        Signed requests then carry the venue's time; the offset is kept by the ccxt client.
        """
        self._log.warning(
            "%s refused a request's timestamp (%s); re-syncing with the venue clock",
            self.name,
            type(cause).__name__ if cause is not None else "requested",
        )
        await self._call(self.client.load_time_difference)

    # -- markets --------------------------------------------------------------------------
    def _cache_key(self) -> tuple[str, str, bool, str]:
        api = self.client.urls.get("api")
        if isinstance(api, dict) and isinstance(api.get("public"), str):
            where = api["public"]
        else:  # other venues nest their urls: the whole (sorted) mapping identifies the endpoint
            where = json.dumps(api, sort_keys=True, default=str)
        return (self.name, self.market_type.value, self.config.sandboxed, where)

    def _wanted(self, raw: Mapping[str, Any]) -> bool:
        kind = raw.get("type")
        if self.market_type is MarketType.SPOT:
            return kind == "spot"
        if self.market_type is MarketType.MARGIN:
            return kind == "spot" and bool(raw.get("margin"))
        if self.market_type is MarketType.OPTION:
            return kind == "option"
        linear = bool(raw.get("linear")) if raw.get("linear") is not None else not raw.get("inverse")
        return kind in ("swap", "future") and linear == (self.market_type is MarketType.LINEAR)

    async def load_markets(self, reload: bool = False) -> Mapping[str, MarketInfo]:
        """Load (or reuse from the process-wide cache) the markets of this connector's type.

        Raises ``ConfigurationError`` (field ``market_type``) when the venue lists none.
        """
        now = self.clock.monotonic()
        if (
            not reload
            and self._markets
            and self._markets_loaded_at is not None
            and now - self._markets_loaded_at < self.markets_ttl
        ):
            return self._markets
        key = self._cache_key()
        async with markets_cache.lock(key):
            entry = None if reload else markets_cache.get(key, self.clock.monotonic(), self.markets_ttl)
            if entry is None:
                await self._read("load_markets", lambda: self.client.load_markets(True))
                entry = MarketsEntry(
                    dict(self.client.markets or {}), dict(self.client.currencies or {}), self.clock.monotonic()
                )
                markets_cache.put(key, entry)
            else:
                self.client.set_markets(entry.markets, entry.currencies or None)
                if self.client.options.get("adjustForTimeDifference"):
                    # ccxt measures the venue's clock offset while loading markets; a cache hit skips
                    # that load, so measure it here or every signed call of this client may be refused
                    await self._read("load_time_difference", self.client.load_time_difference)
        parsed = {
            symbol: self.adapter.parse_market(dict(raw))
            for symbol, raw in entry.markets.items()
            if isinstance(raw, Mapping) and self._wanted(raw)
        }
        if not parsed:
            raise ConfigurationError(
                f"{self.name} lists no {self.market_type.value} markets", field="market_type", exchange=self.name
            )
        self._markets = parsed
        self._markets_loaded_at = entry.loaded_at
        return self._markets

    async def market(self, symbol: str) -> MarketInfo:
        """The market of ``symbol``; ``UnknownSymbol`` (before any request for it) when not listed."""
        try:
            parse_symbol(symbol)
        except InvalidSymbol as exc:
            raise UnknownSymbol(str(exc), exchange=self.name, symbol=str(symbol)) from exc
        markets = await self.load_markets()
        info = markets.get(symbol)
        if info is None:
            raise UnknownSymbol(
                f"{symbol} is not a {self.market_type.value} market of {self.name}", exchange=self.name, symbol=symbol
            )
        return info

    # -- market data ----------------------------------------------------------------------
    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the ticker of ``symbol``."""
        await self.market(symbol)
        raw = await self._read("fetch_ticker", lambda: self.client.fetch_ticker(symbol), symbol=symbol)
        return self.adapter.parse_ticker(raw, symbol, self.clock.now_ms())

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Return tickers by symbol (one request when the venue supports it)."""
        for symbol in symbols or []:
            await self.market(symbol)
        if not self.client.has.get("fetchTickers"):
            return await super().fetch_tickers(symbols)
        raw = await self._read("fetch_tickers", lambda: self.client.fetch_tickers(symbols))
        wanted = set(symbols) if symbols else set(await self.load_markets())
        now = self.clock.now_ms()
        return {s: self.adapter.parse_ticker(t, s, now) for s, t in raw.items() if s in wanted}

    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return candles oldest first; ``NotSupported`` for a time frame the venue lacks."""
        await self.market(symbol)
        tf = TimeFrame.parse(time_frame)
        timeframes = getattr(self.client, "timeframes", None) or {}
        if timeframes and tf.value not in timeframes:
            raise NotSupported(f"{self.name} has no {tf.value} candles", exchange=self.name, symbol=symbol)
        rows = await self._read(
            "fetch_ohlcv", lambda: self.client.fetch_ohlcv(symbol, tf.value, since, limit), symbol=symbol
        )
        candles = [self.adapter.parse_candle(row) for row in rows]
        candles.sort(key=lambda c: c.timestamp)
        return candles

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Return an order-book snapshot."""
        await self.market(symbol)
        raw = await self._read("fetch_order_book", lambda: self.client.fetch_order_book(symbol, limit), symbol=symbol)
        return self.adapter.parse_order_book(raw, symbol)

    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Return the latest public trades, oldest first."""
        await self.market(symbol)
        rows = await self._read("fetch_trades", lambda: self.client.fetch_trades(symbol, None, limit), symbol=symbol)
        trades = [self.adapter.parse_public_trade(row, symbol) for row in rows]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    # -- account --------------------------------------------------------------------------
    async def fetch_balance(self) -> dict[str, Balance]:
        """Return balances by currency (a contract account's settle currencies: total = wallet balance)."""
        raw = await self._read("fetch_balance", lambda: self.client.fetch_balance())
        return await self._wallet_balances(raw, self.adapter.parse_balance(raw))

    async def create_order(
        self,
        order_type: OrderType,
        side: OrderSide,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        trigger_price: Decimal | None = None,
        params: dict[str, Any] | None = None,
    ) -> ExchangeOrder:
        """Place an order; amounts round down to the step, prices to the tick in the safe direction.

        Raises ``InvalidOrder`` naming the limit when the adapted order breaks a market limit
        (nothing is sent). Never retried; see the module docstring for ambiguous outcomes.
        """
        info = await self.market(symbol)
        if params and ("reduceOnly" in params or "positionSide" in params):
            params = contract_order_params(dict(params), OrderSide(side), info)
        order = build_venue_order(
            info, order_type, side, symbol, amount, price, client_order_id, trigger_price, params, self.name
        )
        try:
            raw = await self._call(
                lambda: self.client.create_order(
                    symbol, order.ccxt_type, order.side, order.amount, order.price, order.params
                ),
                symbol=symbol,
                placing_order=True,
            )
        except NetworkError as exc:
            if isinstance(exc, RateLimitExceeded) or never_sent(exc):
                exc.not_processed = True  # refused before processing, or never reached: nothing placed
                raise
            return await resolve_ambiguous(
                self.fetch_order_by_client_id, client_order_id, symbol, exc, self.name, self.clock, self.retry_policy
            )
        except AuthenticationError as exc:
            if is_clock_skew(exc):  # refused, so never re-sent; the next request is signed right
                try:
                    await self.resync_clock(exc)
                except OctoBotTradingError as resync_error:
                    self._log.warning("%s clock re-sync failed: %s", self.name, resync_error)
            raise
        return parse_placed_order(self.adapter, raw, client_order_id, exchange=self.name, symbol=symbol)

    async def fetch_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Return one order by exchange id, or raise ``OrderNotFound``."""
        await self.market(symbol)
        raw = await self._read(
            "fetch_order", lambda: self.client.fetch_order(order_id, symbol), symbol=symbol, order_id=order_id
        )
        return self.adapter.parse_order(raw)

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None:
        """Return the order placed with ``client_order_id``, or None when the exchange has none."""
        await self.market(symbol)
        try:
            raw = await self._read(
                "fetch_order_by_client_id",
                lambda: self.client.fetch_order(None, symbol, {"clientOrderId": client_order_id}),
                symbol=symbol,
                order_id=client_order_id,
            )
        except OrderNotFound:
            return None
        return self.adapter.parse_order(raw)

    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel an open order (never re-sent: an ambiguous failure is settled by a lookup)."""
        await self.market(symbol)
        try:
            raw = await self._call(lambda: self.client.cancel_order(order_id, symbol), symbol=symbol, order_id=order_id)
        except NetworkError as exc:
            if isinstance(exc, RateLimitExceeded):
                raise
            order = await self.fetch_order(order_id, symbol)
            if order.status.is_final:
                return order
            raise
        return self.adapter.parse_order(raw)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return open orders (of every symbol when ``symbol`` is None)."""
        if symbol is not None:
            await self.market(symbol)
        rows = await self._read("fetch_open_orders", lambda: self.client.fetch_open_orders(symbol), symbol=symbol)
        return [self.adapter.parse_order(row) for row in rows]

    def _symbols_for(self, symbol: str | None, what: str) -> list[str]:
        if symbol is not None:
            return [symbol]
        if not self.config.symbols:
            raise NotSupported(f"{what} without a symbol needs configured symbols on {self.name}", exchange=self.name)
        return list(self.config.symbols)

    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeOrder]:
        """Return filled, canceled and expired orders (per configured symbol when ``symbol`` is None).

        ccxt's ``fetch_closed_orders`` keeps only filled orders, so when the venue can list every
        order (``fetchOrders``) that list is used and the orders still open are left out.
        """
        every = bool(self.client.has.get("fetchOrders"))
        result: list[ExchangeOrder] = []
        for sym in self._symbols_for(symbol, "fetch_closed_orders"):
            await self.market(sym)
            fetch = self.client.fetch_orders if every else self.client.fetch_closed_orders
            rows = await self._read(
                "fetch_closed_orders",
                lambda s=sym, f=fetch: f(s, since, limit),  # type: ignore[misc]
                symbol=sym,
            )
            orders = [self.adapter.parse_order(row) for row in rows]
            result.extend(o for o in orders if o.status.is_final or o.status is OrderStatus.FILLED)
        return result

    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTrade]:
        """Return the account's fills, oldest first (per configured symbol when ``symbol`` is None)."""
        result: list[ExchangeTrade] = []
        for sym in self._symbols_for(symbol, "fetch_my_trades"):
            await self.market(sym)
            rows = await self._read(
                "fetch_my_trades",
                lambda s=sym: self.client.fetch_my_trades(s, since, limit),  # type: ignore[misc]
                symbol=sym,
            )
            result.extend(self.adapter.parse_trade(row) for row in rows)
        result.sort(key=lambda t: (t.timestamp, t.id))
        return result

    # -- websockets (ccxt.pro, see .websocket) ---------------------------------------------
    @property
    def supports_websockets(self) -> bool:
        """True when ccxt.pro has this venue."""
        return supports_websockets(self.name)

    def _websockets(self) -> CCXTWebsocketFeeds:
        if self._ws is None:
            check_websockets(self.config)
            self._ws = CCXTWebsocketFeeds(
                self.config,
                self.clock,
                self.adapter,
                lambda: create_ccxt_client(self.config, self._client_hook, pro=True),
                rate_gate=self.rate_gate,
                prepare_client=self._prepare_ws_client,
            )
        return self._ws

    async def watch_ohlcv(self, symbol: str, time_frame: TimeFrame | str) -> list[Candle]:
        """Wait for the next candle update(s) of ``symbol`` (websocket)."""
        await self.market(symbol)
        return await self._websockets().watch_ohlcv(symbol, time_frame)

    async def watch_ticker(self, symbol: str) -> Ticker:
        """Wait for the next ticker of ``symbol`` (websocket)."""
        await self.market(symbol)
        return await self._websockets().watch_ticker(symbol)

    async def watch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Wait for the next order-book state of ``symbol`` (websocket)."""
        await self.market(symbol)
        return await self._websockets().watch_order_book(symbol, limit)

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for the next public trades of ``symbol`` (websocket)."""
        await self.market(symbol)
        return await self._websockets().watch_trades(symbol)

    async def reset_websockets(self) -> None:
        """Close the websocket connection; the next watch reconnects and resubscribes."""
        if self._ws is not None:
            await self._ws.reset()

    async def close(self) -> None:
        """Close the ccxt client's HTTP session (and websockets). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for feeds in (self._ws, self._private_ws):
            try:
                if feeds is not None:
                    await feeds.close()
            except OctoBotTradingError as exc:
                self._log.warning("closing %s websockets failed: %s", self.name, exc)
        try:
            await self.client.close()
        except ccxt.BaseError as exc:  # pragma: no cover - closing a session does not talk to the venue
            self._log.warning("closing %s client failed: %s", self.name, exc)
