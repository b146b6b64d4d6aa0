"""REST updaters: poll the connector and feed the market-data hub.

* :class:`RestCandlesUpdater` loads the history of every symbol / time frame at start (not
  published: strategies read it from the buffers), then wakes at each candle close (on the
  clock, in phase with the venue's own candles, plus ``close_delay`` seconds to settle),
  fetches everything after the last stored candle and publishes the closed candles, oldest
  first. So a missed wake, a disconnection or a slow venue never loses a closed candle: the
  next fetch backfills the gap (paging until it reaches the expected candle). A candle still
  missing at close is retried ``late_retries`` times with growing delays, then counted in
  ``late`` and picked up at the next close. The candle still in construction, when the venue
  returns it, is published on the Kline channel.
* :class:`RestTickerUpdater`, :class:`RestOrderBookUpdater`, :class:`RestTradesUpdater`,
  :class:`RestFundingUpdater` poll every symbol, then sleep a refresh period that grows with the
  number of pairs (``base + per_pair * (pairs - 1)``; see :func:`polling_period`).

Errors of one request are logged and counted; the loop goes on (network errors are already
retried by the connector). A connector that does not support funding is polled no more.
"""

from __future__ import annotations

from collections.abc import Iterable

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import NotSupported
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.updaters.base import MarketDataUpdater, polling_period
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import Candle

__all__ = [
    "RestCandlesUpdater",
    "RestFundingUpdater",
    "RestOrderBookUpdater",
    "RestTickerUpdater",
    "RestTradesUpdater",
]

MAX_BACKFILL_PAGES = 20


class RestCandlesUpdater(MarketDataUpdater):
    """Closed candles by REST, waking at each candle close (see the module docstring).

    Parameters
    ----------
    time_frames:
        Time frames to follow (one task each).
    history:
        Candles loaded per symbol / time frame at start (default: the buffer capacity).
    close_delay:
        Seconds waited after a close before fetching.
    late_retries, late_retry_delay:
        Retries (after ``late_retry_delay * n`` seconds) when the closed candle is not there yet.
    """

    name = "rest_candles"
    #: most candles asked in one request (Binance serves at most 1000)
    page_size = 1000

    def __init__(
        self,
        market_data: ExchangeMarketData,
        connector: ExchangeConnector,
        symbols: Iterable[str],
        time_frames: Iterable[TimeFrame | str],
        *,
        history: int | None = None,
        close_delay: float = 1.0,
        late_retries: int = 3,
        late_retry_delay: float = 2.0,
    ) -> None:
        super().__init__(market_data, connector, symbols)
        self.time_frames = [TimeFrame.parse(tf) for tf in time_frames]
        self.history = history
        self.close_delay = close_delay
        self.late_retries = late_retries
        self.late_retry_delay = late_retry_delay
        #: closes after which the expected candle was still missing
        self.late = 0

    def _start_tasks(self) -> None:
        for tf in self.time_frames:
            self._spawn(self._run(tf), str(tf))

    async def _run(self, tf: TimeFrame) -> None:
        for symbol in self.symbols:
            await self._guard(f"candle history {symbol} {tf}", self.load_history(symbol, tf))
        while True:
            now = self.clock.now_ms()
            next_close = self.next_close(tf, now)
            await self.clock.sleep((next_close - now) / 1000 + self.close_delay)
            for symbol in self.symbols:
                await self.fetch_closed(symbol, tf, next_close - tf.ms)

    def next_close(self, tf: TimeFrame, now: int) -> int:
        """The next candle close after ``now``, in phase with the stored candles.

        Venues align candles their own way (Binance weeks open on Mondays, months vary), so the
        phase comes from the newest stored open time; without candles, from the epoch.
        """
        lasts = [
            t
            for s in self.symbols
            if (t := self.market_data.symbols_data.get(s).candles(tf).last_timestamp) is not None
        ]
        base = max(lasts) if lasts else 0
        if now < base + 2 * tf.ms:
            return base + 2 * tf.ms
        return base + ((now - base) // tf.ms + 1) * tf.ms

    async def load_history(self, symbol: str, tf: TimeFrame) -> int:
        """Fetch and store (without publishing) the last closed candles; return how many."""
        data = self.market_data.symbols_data.get(symbol)
        limit = self.history or data.candle_capacity
        candles = await self.connector.fetch_ohlcv(symbol, tf, limit=min(limit, self.page_size))
        while candles and len(candles) < limit:  # page backwards: venues cap one request
            need = min(self.page_size, limit - len(candles))
            first = candles[0].timestamp
            page = await self.connector.fetch_ohlcv(symbol, tf, since=first - need * tf.ms, limit=need)
            page = [c for c in page if c.timestamp < first]
            if not page:
                break
            candles = page + candles
        closed, current = self._split(candles, tf)
        added = await self.market_data.load_history(symbol, tf, closed)
        if current is not None:
            await self.market_data.on_kline(symbol, tf, current)
        return added

    def _split(self, candles: list[Candle], tf: TimeFrame) -> tuple[list[Candle], Candle | None]:
        now = self.clock.now_ms()
        closed = [c for c in candles if c.timestamp + tf.ms <= now]
        current = next((c for c in reversed(candles) if c.timestamp + tf.ms > now), None)
        return closed, current

    async def fetch_new(self, symbol: str, tf: TimeFrame) -> int:
        """Fetch candles after the last stored one, publish the closed ones; return how many."""
        buffer = self.market_data.symbols_data.get(symbol).candles(tf)
        published = 0
        for _ in range(MAX_BACKFILL_PAGES):
            last = buffer.last_timestamp
            since = None if last is None else last + tf.ms
            candles = await self.connector.fetch_ohlcv(symbol, tf, since=since)
            closed, current = self._split(candles, tf)
            count = await self.market_data.on_candles(symbol, tf, closed)
            published += count
            if current is not None:
                await self.market_data.on_kline(symbol, tf, current)
            if count == 0 or current is not None or len(candles) < 2:
                break
        return published

    async def fetch_closed(self, symbol: str, tf: TimeFrame, expected_open: int) -> int:
        """Fetch until the candle opened at ``expected_open`` is stored (bounded retries).

        Errors of each attempt are logged and counted, then retried like a late candle.
        """
        buffer = self.market_data.symbols_data.get(symbol).candles(tf)
        published = 0
        for attempt in range(self.late_retries + 1):
            published += await self._guard(f"candles {symbol} {tf}", self.fetch_new(symbol, tf)) or 0
            last = buffer.last_timestamp
            if last is not None and last >= expected_open:
                return published
            if attempt < self.late_retries:
                await self.clock.sleep(self.late_retry_delay * (attempt + 1))
        self.late += 1
        self._log.warning(
            "%s %s: candle %d still missing after %d retries", symbol, tf, expected_open, self.late_retries
        )
        return published


class _RestPoller(MarketDataUpdater):
    """Polls every symbol, then sleeps a period growing with the number of pairs."""

    base_period = 2.0
    per_pair_period = 0.5

    def __init__(
        self,
        market_data: ExchangeMarketData,
        connector: ExchangeConnector,
        symbols: Iterable[str],
        *,
        base_period: float | None = None,
        per_pair_period: float | None = None,
    ) -> None:
        super().__init__(market_data, connector, symbols)
        self.period = polling_period(
            self.base_period if base_period is None else base_period,
            self.per_pair_period if per_pair_period is None else per_pair_period,
            len(self.symbols),
        )
        self._disabled: set[str] = set()
        #: completed polling rounds
        self.rounds = 0

    def _start_tasks(self) -> None:
        self._spawn(self._loop(), "poll")

    async def _loop(self) -> None:
        while True:
            await self.poll_all()
            await self.clock.sleep(self.period)

    async def poll_all(self) -> None:
        """Poll every symbol once."""
        for symbol in self.symbols:
            if symbol not in self._disabled:
                await self._guard(f"{self.name} {symbol}", self._poll_symbol(symbol))
        self.rounds += 1

    async def _poll_symbol(self, symbol: str) -> None:
        try:
            await self.poll(symbol)
        except NotSupported:
            self._disabled.add(symbol)
            self._log.info("%s not supported by %s for %s: not polled", self.name, self.connector.name, symbol)

    async def poll(self, symbol: str) -> None:
        """Fetch one symbol's data and feed the hub."""
        raise NotImplementedError


class RestTickerUpdater(_RestPoller):
    """Tickers by REST."""

    name = "rest_ticker"

    async def poll(self, symbol: str) -> None:
        """Fetch and feed the ticker of ``symbol``."""
        await self.market_data.on_ticker(await self.connector.fetch_ticker(symbol))


class RestOrderBookUpdater(_RestPoller):
    """Order-book snapshots by REST (``limit`` levels per side)."""

    name = "rest_order_book"
    limit: int | None = 100

    async def poll(self, symbol: str) -> None:
        """Fetch and feed the order book of ``symbol``."""
        await self.market_data.on_order_book(await self.connector.fetch_order_book(symbol, self.limit))


class RestTradesUpdater(_RestPoller):
    """Recent public trades by REST (re-delivered trades are skipped by the manager)."""

    name = "rest_trades"
    base_period = 5.0
    per_pair_period = 1.0

    async def poll(self, symbol: str) -> None:
        """Fetch and feed the recent trades of ``symbol``."""
        await self.market_data.on_trades(symbol, await self.connector.fetch_recent_trades(symbol))


class RestFundingUpdater(_RestPoller):
    """Funding rates of perpetuals by REST."""

    name = "rest_funding"
    base_period = 60.0
    per_pair_period = 5.0

    async def poll(self, symbol: str) -> None:
        """Fetch and feed the funding of ``symbol``."""
        await self.market_data.on_funding(await self.connector.fetch_funding_rate(symbol))
