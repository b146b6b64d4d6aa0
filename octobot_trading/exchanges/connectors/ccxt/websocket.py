"""Websocket feeds of the ccxt connector: ``ccxt.pro`` watchers behind the connector contract.

:class:`CCXTWebsocketFeeds` owns one ``ccxt.pro`` client, created on the first ``watch_*`` call
from the same configuration and client hook as the connector's REST client. It is a plain
``ccxt.pro`` class: its order book merges float deltas, so every number that comes out of it
goes through the connector's adapter, which turns JSON numbers into Decimals through their
shortest text form (the rule for numbers that arrive as floats). ccxt exceptions are mapped at
this boundary like the REST ones. :meth:`CCXTWebsocketFeeds.reset` closes the connection so the
next watch opens a fresh one (used to resubscribe after a stall).

The account's private streams (``watch_orders``, ``watch_my_trades``, ``watch_balance``) use
ccxt.pro's unified private calls on a client of their own (the connector keeps a second
instance), so reconnecting them never disturbs the market-data streams.
:meth:`CCXTWebsocketFeeds.subscribe_private` returns once the venue confirmed the account's
subscription (ccxt's ``authenticate``; Binance spot: the WebSocket API's
``userDataStream.subscribe.signature``). With ccxt's ``newUpdates`` each watch returns only
what changed since the previous call.

Each new client passes the venue's rate gate first (no connection during a 418 ban), reports its
own 429 / 418 answers to it, and is given the connector's loaded markets (a reconnection
downloads no ``exchangeInfo``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
import ccxt.pro as ccxt_pro

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import NetworkError, NotSupported
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter, to_dec
from octobot_trading.exchanges.connectors.ccxt.client import feed_rate_gate
from octobot_trading.exchanges.connectors.ccxt.errors import map_ccxt_error
from octobot_trading.exchanges.connectors.ccxt.futures_parsing import parse_position
from octobot_trading.exchanges.rate_limit import VenueRateGate, parse_retry_after
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.decimals import ZERO

__all__ = ["CCXTWebsocketFeeds", "supports_websockets"]

T = TypeVar("T")
ClientFactory = Callable[[], Any]


def supports_websockets(exchange_id: str) -> bool:
    """True when ``ccxt.pro`` has a class for ``exchange_id``."""
    return exchange_id in getattr(ccxt_pro, "exchanges", ()) and isinstance(getattr(ccxt_pro, exchange_id, None), type)


class CCXTWebsocketFeeds:
    """Public websocket streams of one venue (see the module docstring).

    Parameters
    ----------
    config:
        The connector's validated configuration.
    clock:
        Time source (a ticker without timestamp is dated on receipt).
    adapter:
        The connector's adapter (typed results, Decimal money).
    make_client:
        Builds the ``ccxt.pro`` client (the connector passes one using its client factory).
    rate_gate:
        The venue's shared back-off: a new connection (and a subscription) waits out a 429 and is
        refused with ``RateLimitExceeded`` during a 418 ban without contacting the venue, and the
        client's own 429 / 418 answers (HTTP requests, refused websocket handshakes) are reported
        to it.
    prepare_client:
        Awaited with each new client before its first use (the connector gives it its loaded
        markets, so a reconnection downloads nothing).
    """

    def __init__(
        self,
        config: ExchangeConfig,
        clock: Clock,
        adapter: CCXTAdapter,
        make_client: ClientFactory,
        *,
        rate_gate: VenueRateGate | None = None,
        prepare_client: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.name = config.exchange
        self.clock = clock
        self.adapter = adapter
        self.rate_gate = rate_gate
        self._make_client = make_client
        self._prepare_client = prepare_client
        self._client: Any = None
        self._lock = asyncio.Lock()
        #: per symbol: the parsed levels of the last book watched (see ``watch_order_book``)
        self._book_levels: dict[str, dict[Any, tuple[Decimal, Decimal]]] = {}

    async def _before_request(self) -> None:
        if self.rate_gate is not None:
            await self.rate_gate.before_request(self.clock, exchange=self.name)

    async def _ensure(self) -> Any:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    await self._before_request()
                    client = self._make_client()
                    if self.rate_gate is not None:
                        feed_rate_gate(client, self.rate_gate, self.clock)
                    if self._prepare_client is not None:
                        try:
                            await self._prepare_client(client)
                        except BaseException:
                            with contextlib.suppress(Exception):
                                await client.close()
                            raise
                    self._client = client
        return self._client

    def _note_rate_limit(self, exc: BaseException) -> None:
        """Report a 429 / 418 that refused a websocket handshake (ccxt wraps aiohttp's error)."""
        if self.rate_gate is None:
            return
        for cause in (*exc.args, exc.__cause__, exc.__context__):
            status = getattr(cause, "status", None)
            if status in (418, 429):
                headers = getattr(cause, "headers", None)
                self.rate_gate.note(int(status), parse_retry_after(headers), self.clock.now_ms())
                return

    async def _call(self, fn: Callable[[Any], Awaitable[T]], symbol: str | None) -> T:
        client = await self._ensure()
        try:
            return await fn(client)
        except ccxt.BaseError as exc:
            self._note_rate_limit(exc)
            raise map_ccxt_error(exc, exchange=self.name, symbol=symbol) from exc
        except (KeyError, AttributeError, TypeError, IndexError) as exc:
            # ccxt.pro's bookkeeping can fail while it handles a venue's refusal (Binance: a
            # refused user-data subscription ends in KeyError 'spot'): the refusal is the error
            refusal = exc.__context__
            if not isinstance(refusal, ccxt.BaseError):
                raise
            self._note_rate_limit(refusal)
            raise map_ccxt_error(refusal, exchange=self.name, symbol=symbol) from refusal
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # ccxt cancels the futures of a connection closed under them: a transport failure
            raise NetworkError(
                "websocket connection closed while watching", exchange=self.name, symbol=symbol
            ) from None

    async def watch_ohlcv(self, symbol: str, time_frame: TimeFrame | str) -> list[Candle]:
        """Wait for the next kline update; return the cached candles, oldest first."""
        tf = TimeFrame.parse(time_frame)
        rows = await self._call(lambda c: c.watch_ohlcv(symbol, tf.value), symbol)
        candles = [self.adapter.parse_candle(list(row)) for row in rows]
        candles.sort(key=lambda c: c.timestamp)
        return candles

    async def watch_ticker(self, symbol: str) -> Ticker:
        """Wait for the next ticker of ``symbol``."""
        raw = await self._call(lambda c: c.watch_ticker(symbol), symbol)
        return self.adapter.parse_ticker(raw, symbol, self.clock.now_ms())

    async def watch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Wait for the next state of the book ccxt maintains from the diff stream.

        Only the levels that changed since the previous book of ``symbol`` are parsed again (a
        diff touches a few of a deep book's levels; parsing all of them took milliseconds)."""
        raw = await self._call(lambda c: c.watch_order_book(symbol, limit), symbol)
        seen: dict[Any, tuple[Decimal, Decimal]] = {}
        book = self.adapter.parse_order_book(
            {
                "bids": [list(level[:2]) for level in raw["bids"]],
                "asks": [list(level[:2]) for level in raw["asks"]],
                "timestamp": raw.get("timestamp"),
                "nonce": raw.get("nonce"),
                "symbol": symbol,
            },
            symbol,
            previous=self._book_levels.get(symbol),
            seen=seen,
        )
        self._book_levels[symbol] = seen
        return book

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for new public trades; return the cached ones, oldest first."""
        rows = await self._call(lambda c: c.watch_trades(symbol), symbol)
        return [self.adapter.parse_public_trade(row, symbol) for row in rows]

    # -- private streams ---------------------------------------------------------------------
    async def subscribe_private(self) -> None:
        """Subscribe the account's streams; return once the venue confirmed the subscription.

        During a 418 ban it raises ``RateLimitExceeded`` without contacting the venue."""
        await self._before_request()

        async def subscribe(client: Any) -> None:
            if client.markets is None:
                await client.load_markets()
            authenticate = getattr(client, "authenticate", None)
            if authenticate is None:
                raise NotSupported(f"{self.name} has no private websocket streams in ccxt.pro", exchange=self.name)
            await authenticate()

        await self._call(subscribe, None)

    async def _private(self, what: str, fn: Callable[[Any], Awaitable[T]], symbol: str | None) -> T:
        client = await self._ensure()
        if not client.has.get(what):
            raise NotSupported(f"{self.name} has no {what} websocket stream in ccxt.pro", exchange=self.name)
        return await self._call(fn, symbol)

    async def watch_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Wait for the next order update(s); return the orders that changed."""
        rows = await self._private("watchOrders", lambda c: c.watch_orders(symbol), symbol)
        return [self.adapter.parse_order(row) for row in rows]

    async def watch_my_trades(self, symbol: str | None = None) -> list[ExchangeTrade]:
        """Wait for the account's next fill(s); return the new ones, oldest first."""
        rows = await self._private("watchMyTrades", lambda c: c.watch_my_trades(symbol), symbol)
        trades = [self.adapter.parse_trade(row) for row in rows]
        trades.sort(key=lambda t: (t.timestamp, t.id))
        return trades

    async def watch_balance(self) -> dict[str, Balance]:
        """Wait for the next balance update; return the currencies it carries. A wallet-only entry,
        as Binance futures' ``ACCOUNT_UPDATE`` sends (free and used unknown, the total is the wallet
        balance, not the margin balance), is returned with ``wallet_only`` set (free 0, used = total)."""
        raw = await self._private("watchBalance", lambda c: c.watch_balance(), None)
        wallets: dict[str, Balance] = {}
        if isinstance(raw, dict):
            full = {}
            for key, value in raw.items():
                if not isinstance(value, dict) or value.get("free") is not None or value.get("used") is not None:
                    full[key] = value
                elif value.get("total") is not None:
                    total = to_dec(value.get("total"), f"{key}.total")
                    if total is not None and total >= 0:
                        wallets[key] = Balance(ZERO, total, total, wallet_only=True)
            raw = full
        return {**wallets, **self.adapter.parse_balance(raw)}

    async def watch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Wait for the next position update(s); return the positions that changed (0 contracts:
        closed; a flat one-way position has side ``"both"``)."""
        rows = await self._private("watchPositions", lambda c: c.watch_positions(symbols), None)
        return [parse_position(self.adapter, row) for row in rows]

    async def reset(self) -> None:
        """Close the websocket client; the next watch connects and subscribes again."""
        client, self._client = self._client, None
        self._book_levels.clear()
        if client is not None:
            try:
                await client.close()
            except ccxt.BaseError as exc:  # closing a broken connection: nothing left to release
                raise map_ccxt_error(exc, exchange=self.name) from exc

    async def close(self) -> None:
        """Release the websocket client (idempotent)."""
        await self.reset()


def check_websockets(config: ExchangeConfig) -> None:
    """Raise ``NotSupported`` when the venue has no ``ccxt.pro`` class."""
    if not supports_websockets(config.exchange):
        raise NotSupported(f"{config.exchange} has no websocket feeds in ccxt.pro", exchange=config.exchange)
