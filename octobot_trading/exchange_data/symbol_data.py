"""Per-symbol market data: the managers of one symbol, and the set of them for one exchange.

``manager.exchange_symbols_data.get("BTC/USDT")`` returns an :class:`ExchangeSymbolData` with
``candles("5m")`` (a :class:`~octobot_trading.exchange_data.candles.CandlesManager`),
``mark_price``, ``ticker``, ``order_book``, ``recent_trades``, ``funding``, ``kline`` and
``price_events``. Its ``add_closed_candle`` / ``update_*`` methods write state only (no
publishing); :class:`~octobot_trading.exchange_data.market_data.ExchangeMarketData` pairs them
with the channels for updaters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from octobot_trading.clock import Clock
from octobot_trading.constants import DEFAULT_CANDLE_BUFFER_SIZE
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data.candles import CandlesManager
from octobot_trading.exchange_data.managers import (
    DEFAULT_RECENT_TRADES,
    FundingManager,
    KlineManager,
    RecentTradesManager,
    TickerManager,
)
from octobot_trading.exchange_data.order_book import OrderBookManager
from octobot_trading.exchange_data.price_events import DEFAULT_HISTORY, PriceEventsManager
from octobot_trading.exchange_data.prices import PricesManager, PriceSource
from octobot_trading.exchanges.types import Candle, FundingRate, OrderBook, PublicTrade, Ticker
from octobot_trading.util.symbols import parse_symbol

__all__ = ["CandleWriter", "ClosedCandleParts", "ExchangeSymbolData", "ExchangeSymbolsData"]

#: ``write(timestamp, open, high, low, close, volume) -> bool`` (see ``closed_candle_writer``)
CandleWriter = Callable[[int, float, float, float, float, float], bool]


class ClosedCandleParts(NamedTuple):
    """The state one closed-candle write touches (:meth:`ExchangeSymbolData.closed_candle_parts`).

    A newer candle (``timestamp > buffer._last_ts``, an int) with room left (``buffer._end !=
    alloc``) is written at index ``end = buffer._end``: the six ``columns`` (memoryviews: times,
    opens, highs, lows, closes, volumes) at ``end``, then ``buffer._end = end + 1``,
    ``buffer._start += 1`` when ``end - buffer._start >= capacity``, ``buffer._last_ts``; then the
    price events: ``events._last = close``, ``remember((timestamp + tf_ms, low, high))`` when not
    None, ``events._fire_above(high)`` when ``high >= events._lowest_above`` and
    ``events._fire_below(low)`` when ``low <= events._highest_below``. Any other candle goes
    through ``add`` (``add_closed_candle`` of the time frame).
    """

    buffer: CandlesManager
    columns: tuple[Any, ...]
    alloc: int
    capacity: int
    events: PriceEventsManager
    remember: Callable[[tuple[int, float, float]], None] | None
    tf_ms: int
    add: CandleWriter


class ExchangeSymbolData:
    """Market data of one symbol (see the module docstring)."""

    def __init__(
        self,
        symbol: str,
        clock: Clock,
        *,
        candle_capacity: int = DEFAULT_CANDLE_BUFFER_SIZE,
        price_validity_ms: Mapping[PriceSource, int] | None = None,
        recent_trades: int = DEFAULT_RECENT_TRADES,
        price_history: int = DEFAULT_HISTORY,
    ) -> None:
        self.symbol = symbol
        self.clock = clock
        self.candle_capacity = candle_capacity
        self._candles: dict[TimeFrame, CandlesManager] = {}
        self._tf_ms: dict[TimeFrame, int] = {}
        self.kline = KlineManager(symbol)
        self.ticker_manager = TickerManager(symbol)
        self.order_book = OrderBookManager(symbol)
        self.recent_trades = RecentTradesManager(symbol, recent_trades)
        self.funding_manager = FundingManager(symbol)
        self.prices = PricesManager(symbol, clock, price_validity_ms)
        self.price_events = PriceEventsManager(symbol, clock, price_history)

    # -- reading ----------------------------------------------------------------------------
    def candles(self, time_frame: TimeFrame | str) -> CandlesManager:
        """The closed-candle buffer of ``time_frame`` (created empty on first use)."""
        tf = TimeFrame.parse(time_frame)
        buffer = self._candles.get(tf)
        if buffer is None:
            buffer = self._candles[tf] = CandlesManager(self.symbol, tf, self.candle_capacity)
            self._tf_ms[tf] = tf.ms
            self.prices.add_candle_source(buffer)
        return buffer

    @property
    def time_frames(self) -> list[TimeFrame]:
        """Time frames that have a candle buffer."""
        return list(self._candles)

    @property
    def mark_price(self) -> Decimal | None:
        """The current mark price (see :mod:`~octobot_trading.exchange_data.prices`), or None."""
        return self.prices.mark_price

    @property
    def ticker(self) -> Ticker | None:
        """The last ticker, or None."""
        return self.ticker_manager.ticker

    @property
    def funding(self) -> FundingRate | None:
        """The last funding information, or None."""
        return self.funding_manager.funding

    # -- writing (no publishing) ------------------------------------------------------------
    def add_closed_candle(
        self, time_frame: TimeFrame, timestamp: int, open: float, high: float, low: float, close: float, volume: float
    ) -> bool:
        """Write one closed candle and check price events (the candle price source reads the buffer).

        The hot path of backtests; ``time_frame`` must be a :class:`TimeFrame`. Returns False
        when the candle was older than the last stored one (ignored).
        """
        buffer = self._candles.get(time_frame)
        if buffer is None:
            buffer = self.candles(time_frame)
        if not buffer.add_candle(timestamp, open, high, low, close, volume):
            return False
        self.price_events.on_price_range(low, high, close, timestamp + self._tf_ms[time_frame])
        return True

    def closed_candle_parts(self, time_frame: TimeFrame) -> ClosedCandleParts:
        """What :meth:`closed_candle_writer`'s write binds, for a caller that inlines it (the
        backtest driver, whose timestamps are always ints): see :class:`ClosedCandleParts`.
        Creates the buffer like :meth:`candles`."""
        buffer = self.candles(time_frame)
        events = self.price_events
        tf_ms = self._tf_ms[time_frame]
        history = events._history
        add = self.add_closed_candle

        def fallback(timestamp: int, open: float, high: float, low: float, close: float, volume: float) -> bool:
            return add(time_frame, timestamp, open, high, low, close, volume)

        # the buffer's arrays and the events' history are fixed for their lifetime (the buffer
        # compacts in place), so they are bound once; the moving state is read at each write
        return ClosedCandleParts(
            buffer,
            buffer._w,
            buffer.alloc,
            buffer.capacity,
            events,
            None if history is None else history.append,
            tf_ms,
            fallback,
        )

    def closed_candle_writer(self, time_frame: TimeFrame) -> CandleWriter:
        """Return ``write(timestamp, open, high, low, close, volume) -> bool``: :meth:`add_closed_candle`
        for ``time_frame`` in one call (the backtest driver's per-candle path).

        Same effects and result as ``add_closed_candle(time_frame, ...)``: the common case (a newer
        candle with room left in the buffer) writes the buffer and checks price events inline; any
        other (a corrected or older candle, a full buffer to compact, a timestamp that is not an
        int) goes through :meth:`add_closed_candle`. Creates the buffer like :meth:`candles`.
        """
        buffer, columns, alloc, capacity, events, remember, tf_ms, _ = self.closed_candle_parts(time_frame)
        times, opens, highs, lows, closes, volumes = columns
        add = self.add_closed_candle

        def write(timestamp: int, open: float, high: float, low: float, close: float, volume: float) -> bool:
            end = buffer._end
            if timestamp <= buffer._last_ts or end == alloc:
                return add(time_frame, timestamp, open, high, low, close, volume)
            try:
                times[end] = timestamp
            except TypeError:  # not an int: the buffer's own assignment converts it
                return add(time_frame, timestamp, open, high, low, close, volume)
            buffer._end = end + 1
            if end - buffer._start >= capacity:
                buffer._start += 1
            buffer._last_ts = timestamp
            opens[end] = open
            highs[end] = high
            lows[end] = low
            closes[end] = close
            volumes[end] = volume
            # -- events.on_price_range(low, high, close, close time), inlined --
            events._last = close
            if remember is not None:
                remember((timestamp + tf_ms, low, high))
            if high >= events._lowest_above:
                events._fire_above(high)
            if low <= events._highest_below:
                events._fire_below(low)
            return True

        return write

    def add_candle(self, time_frame: TimeFrame | str, candle: Candle) -> bool:
        """Write one typed closed candle (see :meth:`add_closed_candle`)."""
        return self.add_closed_candle(
            TimeFrame.parse(time_frame),
            candle.timestamp,
            float(candle.open),
            float(candle.high),
            float(candle.low),
            float(candle.close),
            float(candle.volume),
        )

    def load_candles(self, time_frame: TimeFrame | str, candles: list[Candle]) -> int:
        """Append history (oldest first) without price-event checks; return the number added."""
        tf = TimeFrame.parse(time_frame)
        added = self.candles(tf).extend_candles(candles)
        if added:
            self.price_events.on_price(candles[-1].close)
        return added

    def update_ticker(self, ticker: Ticker) -> bool:
        """Store a ticker; its last price feeds the TICKER source and price events."""
        if not self.ticker_manager.update(ticker):
            return False
        if ticker.last is not None:
            self.prices.set_price(PriceSource.TICKER, ticker.last)
            self.price_events.on_price(ticker.last)
        return True

    def update_trades(self, trades: list[PublicTrade]) -> list[PublicTrade]:
        """Store public trades; return the new ones (each checks price events)."""
        added = self.recent_trades.add(trades)
        if added:
            for trade in added:
                self.price_events.on_price(trade.price)
            self.prices.set_price(PriceSource.RECENT_TRADES, added[-1].price)
        return added

    def update_order_book(self, book: OrderBook) -> None:
        """Replace the order book with a snapshot."""
        self.order_book.apply_order_book(book)

    def update_mark_price(self, price: Decimal) -> None:
        """Store the exchange's mark price."""
        self.prices.set_price(PriceSource.MARK_PRICE, price)
        self.price_events.on_price(price)

    def update_funding(self, funding: FundingRate) -> None:
        """Store funding information (its mark price, if any, feeds the MARK_PRICE source)."""
        self.funding_manager.update(funding)
        if funding.mark_price is not None:
            self.update_mark_price(funding.mark_price)

    def __repr__(self) -> str:
        return f"ExchangeSymbolData({self.symbol}, time_frames={[str(t) for t in self._candles]})"


class ExchangeSymbolsData:
    """The :class:`ExchangeSymbolData` of every symbol of one exchange.

    Parameters
    ----------
    clock:
        Time source given to every symbol's managers.
    candle_capacity:
        Candles kept per symbol and time frame.
    price_validity_ms:
        Per-source mark-price validity windows.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        candle_capacity: int = DEFAULT_CANDLE_BUFFER_SIZE,
        price_validity_ms: Mapping[PriceSource, int] | None = None,
        recent_trades: int = DEFAULT_RECENT_TRADES,
        price_history: int = DEFAULT_HISTORY,
    ) -> None:
        self.clock = clock
        self._options = {
            "candle_capacity": candle_capacity,
            "price_validity_ms": price_validity_ms,
            "recent_trades": recent_trades,
            "price_history": price_history,
        }
        self._symbols: dict[str, ExchangeSymbolData] = {}

    def get(self, symbol: str) -> ExchangeSymbolData:
        """The data of ``symbol`` (created empty on first use; ``InvalidSymbol`` if malformed)."""
        data = self._symbols.get(symbol)
        if data is None:
            parse_symbol(symbol)
            data = self._symbols[symbol] = ExchangeSymbolData(symbol, self.clock, **self._options)  # type: ignore[arg-type]
        return data

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._symbols

    def __iter__(self) -> Iterator[ExchangeSymbolData]:
        return iter(list(self._symbols.values()))

    def __len__(self) -> int:
        return len(self._symbols)

    @property
    def symbols(self) -> list[str]:
        """Symbols that have data."""
        return list(self._symbols)
