"""Websocket updaters: ``watch_*`` loops with reconnect, a staleness watchdog and REST fallback.

A :class:`WebsocketUpdater` runs one watch loop per stream (a symbol, or a symbol and time frame)
plus one watchdog task:

* **reconnect**: a failed watch (dropped connection, exchange error) marks the stream down and is
  retried after an exponential backoff with jitter (``backoff_base * 2**n``, capped at
  ``backoff_max``, times a random factor in ``[1 - jitter, 1]``), slept on the clock;
* **watchdog**: every ``expected_interval`` seconds it checks each stream; one without an update
  for ``stale_after * expected_interval`` seconds is *stale*: the connection is reset
  (``connector.reset_websockets()``, the next watch resubscribes) and counted in ``stalls``;
* **fallback**: while any stream is down or stale, the matching REST updater runs (so data keeps
  flowing); it is stopped once every stream has delivered again;
* **backfill** (candles): history is loaded by REST at start, and every time a stream recovers,
  or a closed candle arrives after a gap, the candles after the last stored one are fetched by
  REST and published first, so no closed candle is lost while disconnected.

A candle from the stream is *closed* when its close time has passed on the clock; otherwise it
is published on the Kline channel.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import perpetual_symbols
from octobot_trading.exchange_data.updaters.base import MarketDataUpdater
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
    RestTradesUpdater,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import Candle

__all__ = ["WebsocketUpdater", "websocket_updaters"]

StreamKey = tuple[str, TimeFrame | None]

#: Per-stream defaults of :func:`websocket_updaters`: venues push klines, tickers and book diffs
#: every few seconds at most; public trades can pause for minutes on quiet markets.
DEFAULT_EXPECTED_INTERVALS: dict[str, dict[str, Any]] = {
    "ohlcv": {"expected_interval": 5.0, "stale_after": 6},
    "ticker": {"expected_interval": 5.0, "stale_after": 6},
    "order_book": {"expected_interval": 5.0, "stale_after": 6},
    "trades": {"expected_interval": 60.0, "stale_after": 10},
}


class WebsocketUpdater(MarketDataUpdater):
    """Watch one kind of stream for every symbol (see the module docstring).

    Parameters
    ----------
    kind:
        ``"ohlcv"``, ``"ticker"``, ``"order_book"`` or ``"trades"``.
    fallback:
        The REST updater run while streams are down or stale.
    time_frames:
        For ``"ohlcv"``: the time frames watched.
    expected_interval:
        Seconds between two updates of a healthy stream.
    stale_after:
        Missed intervals before a stream counts as stale.
    backoff_base, backoff_max, jitter:
        Reconnection delays (seconds).
    """

    def __init__(
        self,
        kind: str,
        market_data: ExchangeMarketData,
        connector: ExchangeConnector,
        symbols: Iterable[str],
        fallback: MarketDataUpdater,
        *,
        time_frames: Iterable[TimeFrame | str] = (),
        expected_interval: float = 5.0,
        stale_after: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if kind not in ("ohlcv", "ticker", "order_book", "trades"):
            raise ValueError(f"unknown websocket stream kind {kind!r}")
        self.name = f"ws_{kind}"
        super().__init__(market_data, connector, symbols)
        self.kind = kind
        self.fallback = fallback
        self.time_frames = [TimeFrame.parse(tf) for tf in time_frames]
        self.expected_interval = expected_interval
        self.stale_after = stale_after
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.rng = rng or random.Random()
        keys: list[StreamKey] = (
            [(s, tf) for s in self.symbols for tf in self.time_frames]
            if kind == "ohlcv"
            else [(s, None) for s in self.symbols]
        )
        self.keys = keys
        self.last_update: dict[StreamKey, int] = {}
        self.unhealthy: set[StreamKey] = set()
        #: counters for health checks and tests
        self.updates = 0
        self.disconnects = 0
        self.stalls = 0
        self.backfilled = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def _start_tasks(self) -> None:
        now = self.clock.now_ms()
        for key in self.keys:
            self.last_update[key] = now
            self._spawn(self._watch_loop(key), f"{key[0]}:{key[1] or ''}")
        self._spawn(self._watchdog(), "watchdog")

    async def start(self) -> None:
        """Load candle history by REST (for ``"ohlcv"``), then spawn the watch loops."""
        if self.kind == "ohlcv" and isinstance(self.fallback, RestCandlesUpdater):
            for symbol, tf in self.keys:
                assert tf is not None
                await self._guard(f"candle history {symbol} {tf}", self.fallback.load_history(symbol, tf))
        await super().start()

    async def stop(self) -> None:
        """Stop the watch loops, the watchdog and the fallback."""
        await super().stop()
        await self.fallback.stop()

    @property
    def fallback_running(self) -> bool:
        """True while the REST fallback runs."""
        return self.fallback.is_running

    # -- watching -------------------------------------------------------------------------------
    async def _watch(self, key: StreamKey) -> Any:
        symbol, tf = key
        if self.kind == "ohlcv":
            return await self.connector.watch_ohlcv(symbol, tf)  # type: ignore[arg-type]
        if self.kind == "ticker":
            return await self.connector.watch_ticker(symbol)
        if self.kind == "order_book":
            return await self.connector.watch_order_book(symbol)
        return await self.connector.watch_trades(symbol)

    def backoff(self, attempt: int) -> float:
        """Seconds before reconnection attempt ``attempt`` (0-based), jittered."""
        raw = min(self.backoff_max, self.backoff_base * (2**attempt))
        return raw * (1 - self.jitter * self.rng.random())

    async def _watch_loop(self, key: StreamKey) -> None:
        attempt = 0
        while True:
            try:
                result = await self._watch(key)
            except asyncio.CancelledError:
                raise
            except OctoBotTradingError as exc:
                self.errors += 1
                self.disconnects += 1
                self._log.warning("%s %s: stream failed (%s); reconnecting", self.name, key[0], exc)
                await self._set_unhealthy(key)
                await self.clock.sleep(self.backoff(attempt))
                attempt += 1
                continue
            attempt = 0
            self.last_update[key] = self.clock.now_ms()
            self.updates += 1
            recovered = key in self.unhealthy
            await self._guard(f"{self.name} {key[0]}", self._handle(key, result, recovered))
            if recovered:
                await self._set_healthy(key)

    async def _handle(self, key: StreamKey, result: Any, recovered: bool) -> None:
        symbol, tf = key
        md = self.market_data
        if self.kind == "ticker":
            await md.on_ticker(result)
        elif self.kind == "order_book":
            await md.on_order_book(result)
        elif self.kind == "trades":
            await md.on_trades(symbol, result)
        else:
            assert tf is not None
            await self._handle_candles(symbol, tf, result, recovered)

    async def _handle_candles(self, symbol: str, tf: TimeFrame, candles: list[Candle], recovered: bool) -> None:
        md = self.market_data
        now = self.clock.now_ms()
        closed = [c for c in candles if c.timestamp + tf.ms <= now]
        buffer = md.symbols_data.get(symbol).candles(tf)
        last = buffer.last_timestamp
        newer = [c for c in closed if last is None or c.timestamp > last]
        gap = bool(newer) and last is not None and newer[0].timestamp > last + tf.ms
        if (recovered or gap) and isinstance(self.fallback, RestCandlesUpdater):
            self.backfilled += await self.fallback.fetch_new(symbol, tf)
        await md.on_candles(symbol, tf, closed)
        current = next((c for c in reversed(candles) if c.timestamp + tf.ms > now), None)
        if current is not None:
            await md.on_kline(symbol, tf, current)

    # -- health -------------------------------------------------------------------------------
    async def _set_unhealthy(self, key: StreamKey) -> None:
        self.unhealthy.add(key)
        if not self.fallback.is_running:
            self._log.info("%s: REST fallback on while %s is unhealthy", self.name, key[0])
            await self.fallback.start()

    async def _set_healthy(self, key: StreamKey) -> None:
        self.unhealthy.discard(key)
        if not self.unhealthy and self.fallback.is_running:
            self._log.info("%s: streams healthy again, REST fallback off", self.name)
            await self.fallback.stop()

    async def _watchdog(self) -> None:
        limit_ms = self.stale_after * self.expected_interval * 1000
        while True:
            await self.clock.sleep(self.expected_interval)
            now = self.clock.now_ms()
            stale = [k for k in self.keys if now - self.last_update[k] >= limit_ms and k not in self.unhealthy]
            if not stale:
                continue
            self.stalls += 1
            self._log.warning(
                "%s: no update for %.1fs on %s; resubscribing",
                self.name,
                limit_ms / 1000,
                ", ".join(k[0] for k in stale),
            )
            for key in stale:
                self.last_update[key] = now
                await self._set_unhealthy(key)
            reset = getattr(self.connector, "reset_websockets", None)
            if reset is not None:
                await self._guard(f"{self.name} reset", reset())


def websocket_updaters(
    market_data: ExchangeMarketData,
    connector: ExchangeConnector,
    symbols: Iterable[str],
    time_frames: Iterable[TimeFrame | str],
    *,
    is_future: bool = False,
    **options: Any,
) -> list[MarketDataUpdater]:
    """The standard websocket set: candles, ticker, order book, trades (+ REST funding for futures).

    ``options`` go to every :class:`WebsocketUpdater` (``expected_interval``, ``stale_after``, ...).
    """
    symbols = list(symbols)
    time_frames = [TimeFrame.parse(tf) for tf in time_frames]
    md = market_data

    def opts(kind: str) -> dict[str, Any]:
        return {**DEFAULT_EXPECTED_INTERVALS.get(kind, {}), **options}

    updaters: list[MarketDataUpdater] = []
    if time_frames:
        updaters.append(
            WebsocketUpdater(
                "ohlcv",
                md,
                connector,
                symbols,
                RestCandlesUpdater(md, connector, symbols, time_frames),
                time_frames=time_frames,
                **opts("ohlcv"),
            )
        )
    updaters += [
        WebsocketUpdater("ticker", md, connector, symbols, RestTickerUpdater(md, connector, symbols), **opts("ticker")),
        WebsocketUpdater(
            "order_book", md, connector, symbols, RestOrderBookUpdater(md, connector, symbols), **opts("order_book")
        ),
        WebsocketUpdater("trades", md, connector, symbols, RestTradesUpdater(md, connector, symbols), **opts("trades")),
    ]
    perpetuals = perpetual_symbols(symbols) if is_future else []
    if perpetuals:  # dated futures have no funding
        updaters.append(RestFundingUpdater(md, connector, perpetuals))
    return updaters
