"""The market-data hub of one exchange: managers + channels + readiness behind one write API.

Updaters (REST pollers, websocket watchers) and backtest drivers call the ``on_*`` coroutines of
:class:`ExchangeMarketData`; each writes the new state into the symbol's managers first, marks
the readiness topics, then publishes the typed payload on the matching channel. Consumers cannot
tell which updater fed them.

Backtest drivers with a tight per-candle budget can use :meth:`ExchangeMarketData.on_closed_candle`
(floats, no Decimal, no allocation besides the payload) or go one level lower:
``symbols_data.get(s).add_closed_candle(...)`` then ``channels.ohlcv.callbacks_for(s, tf)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data.channels import ExchangeChannels
from octobot_trading.exchange_data.payloads import (
    CandleUpdate,
    FundingUpdate,
    KlineUpdate,
    MarkPriceUpdate,
    OrderBookUpdate,
    RecentTradesUpdate,
    TickerUpdate,
)
from octobot_trading.exchange_data.readiness import ReadinessTopic, ReadinessTracker, topic
from octobot_trading.exchange_data.symbol_data import ExchangeSymbolData, ExchangeSymbolsData
from octobot_trading.exchanges.types import Candle, FundingRate, OrderBook, PublicTrade, Ticker

__all__ = ["ExchangeMarketData"]

ORDER_BOOK_PUBLISHED_LEVELS = 20


class ExchangeMarketData:
    """Managers, channels and readiness of one exchange.

    Parameters
    ----------
    clock:
        Time source of every manager.
    synchronized:
        True for backtesting channels (direct dispatch).
    exchange_name:
        Used in error messages.
    symbols_data, channels, readiness:
        Existing parts to use instead of new ones.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        synchronized: bool,
        exchange_name: str = "",
        symbols_data: ExchangeSymbolsData | None = None,
        channels: ExchangeChannels | None = None,
        readiness: ReadinessTracker | None = None,
    ) -> None:
        self.clock = clock
        self.exchange_name = exchange_name
        self.symbols_data = symbols_data if symbols_data is not None else ExchangeSymbolsData(clock)
        self.channels = channels if channels is not None else ExchangeChannels(synchronized=synchronized)
        self.readiness = readiness if readiness is not None else ReadinessTracker(clock)
        self._candle_topics: dict[tuple[str, TimeFrame], str] = {}
        self._mark_routes: dict[str, list[Any]] = {}

    async def start(self) -> None:
        """Start the channels' consumer tasks."""
        await self.channels.start()

    async def stop(self) -> None:
        """Stop the channels and cancel pending price events. Idempotent."""
        await self.channels.stop()
        for data in self.symbols_data:
            data.price_events.cancel_all()

    async def wait_ready(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - API name
        """Wait for every required topic (``ReadinessTimeout`` names the missing ones)."""
        await self.readiness.wait_ready(timeout, exchange=self.exchange_name or None)

    # -- helpers ------------------------------------------------------------------------------
    def _candles_seen(self, symbol: str, time_frame: TimeFrame) -> None:
        key = (symbol, time_frame)
        name = self._candle_topics.get(key)
        if name is None:
            name = self._candle_topics[key] = topic(ReadinessTopic.CANDLES, symbol, time_frame)
            self.readiness.mark_ready(name)
            self.readiness.mark_ready(topic(ReadinessTopic.PRICE, symbol))

    async def _publish_mark_price(self, data: ExchangeSymbolData) -> None:
        channel = self.channels.mark_price
        if channel.synchronized and not channel.callbacks_for(data.symbol):
            return
        info = data.prices.info()
        if info is not None:
            await channel.publish(MarkPriceUpdate(data.symbol, info.price, info.source, info.received_ms))

    # -- candles ------------------------------------------------------------------------------
    async def on_closed_candle(
        self,
        symbol: str,
        time_frame: TimeFrame,
        timestamp: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> bool:
        """Write one closed candle and publish it on OHLCV (and the mark price when watched).

        Returns False (nothing published) for a candle older than the last stored one.
        """
        data = self.symbols_data.get(symbol)
        if not data.add_closed_candle(time_frame, timestamp, open, high, low, close, volume):
            return False
        if (symbol, time_frame) not in self._candle_topics:
            self._candles_seen(symbol, time_frame)
        await self.channels.ohlcv.publish(CandleUpdate(symbol, time_frame, timestamp, open, high, low, close, volume))
        marks = self._mark_routes.get(symbol)
        if marks is None:
            marks = self._mark_routes[symbol] = self.channels.mark_price.callbacks_for(symbol)
        if marks or not self.channels.synchronized:
            await self._publish_mark_price(data)
        return True

    async def on_candles(self, symbol: str, time_frame: TimeFrame | str, candles: Sequence[Candle]) -> int:
        """Write and publish typed closed candles (oldest first); return how many were new."""
        tf = TimeFrame.parse(time_frame)
        count = 0
        for c in candles:
            if await self.on_closed_candle(
                symbol, tf, c.timestamp, float(c.open), float(c.high), float(c.low), float(c.close), float(c.volume)
            ):
                count += 1
        return count

    async def load_history(self, symbol: str, time_frame: TimeFrame | str, candles: Sequence[Candle]) -> int:
        """Load past candles into the buffer without publishing them; return how many were new."""
        tf = TimeFrame.parse(time_frame)
        data = self.symbols_data.get(symbol)
        added = data.load_candles(tf, list(candles))
        if len(data.candles(tf)):
            self._candles_seen(symbol, tf)
        return added

    async def on_kline(self, symbol: str, time_frame: TimeFrame | str, candle: Candle) -> None:
        """Store and publish the candle in construction."""
        tf = TimeFrame.parse(time_frame)
        values = (float(candle.open), float(candle.high), float(candle.low), float(candle.close), float(candle.volume))
        if self.symbols_data.get(symbol).kline.update(tf, candle.timestamp, *values):
            await self.channels.kline.publish(KlineUpdate(symbol, tf, candle.timestamp, *values))

    # -- other market data ----------------------------------------------------------------------
    async def on_ticker(self, ticker: Ticker) -> None:
        """Store and publish a ticker."""
        data = self.symbols_data.get(ticker.symbol)
        if not data.update_ticker(ticker):
            return
        if ticker.last is not None:
            self.readiness.mark_ready(topic(ReadinessTopic.PRICE, ticker.symbol))
        await self.channels.ticker.publish(TickerUpdate(ticker.symbol, ticker))
        await self._publish_mark_price(data)

    async def on_order_book(self, book: OrderBook) -> None:
        """Replace the book of ``book.symbol`` with a snapshot and publish its top levels."""
        data = self.symbols_data.get(book.symbol)
        data.update_order_book(book)
        await self.channels.order_book.publish(
            OrderBookUpdate(book.symbol, data.order_book.snapshot(ORDER_BOOK_PUBLISHED_LEVELS))
        )

    async def on_order_book_deltas(
        self,
        symbol: str,
        bids: Sequence[tuple[Decimal, Decimal]],
        asks: Sequence[tuple[Decimal, Decimal]],
        *,
        first_seq: int | None = None,
        last_seq: int | None = None,
        timestamp: int | None = None,
    ) -> bool:
        """Apply sequenced deltas; publish on success. False means a gap or a stale update."""
        data = self.symbols_data.get(symbol)
        if not data.order_book.apply_deltas(bids, asks, first_seq=first_seq, last_seq=last_seq, timestamp=timestamp):
            return False
        if self.channels.order_book.callbacks_for(symbol) or not self.channels.synchronized:
            await self.channels.order_book.publish(
                OrderBookUpdate(symbol, data.order_book.snapshot(ORDER_BOOK_PUBLISHED_LEVELS))
            )
        return True

    async def on_trades(self, symbol: str, trades: Sequence[PublicTrade]) -> None:
        """Store public trades and publish the new ones."""
        data = self.symbols_data.get(symbol)
        added = data.update_trades(list(trades))
        if added:
            self.readiness.mark_ready(topic(ReadinessTopic.PRICE, symbol))
            await self.channels.recent_trades.publish(RecentTradesUpdate(symbol, tuple(added)))
            await self._publish_mark_price(data)

    async def on_funding(self, funding: FundingRate) -> None:
        """Store and publish funding information."""
        data = self.symbols_data.get(funding.symbol)
        data.update_funding(funding)
        self.readiness.mark_ready(topic(ReadinessTopic.FUNDING, funding.symbol))
        await self.channels.funding.publish(FundingUpdate(funding.symbol, funding))
        if funding.mark_price is not None:
            self.readiness.mark_ready(topic(ReadinessTopic.PRICE, funding.symbol))
            await self._publish_mark_price(data)

    async def on_mark_price(self, symbol: str, price: Decimal) -> None:
        """Store the exchange's mark price and publish it."""
        data = self.symbols_data.get(symbol)
        data.update_mark_price(price)
        self.readiness.mark_ready(topic(ReadinessTopic.PRICE, symbol))
        await self._publish_mark_price(data)
