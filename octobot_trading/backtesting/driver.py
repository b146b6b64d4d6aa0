"""The backtest driver: the simulator's market-data updater, replaying candles in time order.

For every candle, in the order below, the driver

1. moves the :class:`~octobot_trading.clock.SimulatedClock` to the candle's **close** time;
2. for a symbol's *base* series (its shortest time frame in the data) gives the candle to the
   matching engine (``engine.on_candle(symbol, close_ms, open, high, low, close)``; the candle's
   volume too, only when the engine fills partially), which fills resting orders along the
   documented price path (docs/trading.md), fills reaching the portfolio through the orders manager;
3. writes the candle into the symbol's candle buffer and publishes it on the OHLCV channel
   (``ExchangeMarketData.on_closed_candle``, the same entry point live updaters use), so trading
   modes react and the orders they create are created at the close time;
4. submits, awaited in turn, the orders whose price trigger fired on that candle (the trader's
   ``due_triggers`` queue), still at the close time.

**End of a close** (several streams): once every candle closing at a time was replayed (and its
fired triggers submitted), before the clock moves on (before the evaluations timed at or after
that close, and once after the last close), the engine's ``end_close(close_ms)`` runs what waited
for the whole close (the futures cross checks waiting for a symbol without a candle then), then
``close_done(close_ms)`` (``run_backtest``'s equity sample of that close, so it shows every
symbol at that close and the close's liquidations). One stream has one candle per close: both
are left to the candle's own events there (the equity sampler then reads its OHLCV channel).

**Evaluations** (``evaluations``, sorted by time, and ``publish_evaluation``): before the clock
moves to a close time, every evaluation timed before it is published, in order, with the clock
set to the evaluation's time (then fired price triggers are submitted); the rest after the last
candle. An evaluation timed at a close time is thus delivered after every candle closing then.
Without evaluations the per-candle cost is one integer comparison.

**Deterministic multi-symbol / multi-time-frame order.** Candles are replayed sorted by
``(close time, symbol, time frame length)``: at one close time, symbols in the order of
:attr:`BacktestDriver.symbols` (sorted by name unless given), and for one symbol the shortest
time frame first, so a 1h candle closing at 10:00 is published right after the 5m candle closing
at 10:00 of the same symbol, and both after everything closing before 10:00. Only base series
feed the matching engine (a longer candle's path is already covered by the shorter ones).
Gaps in the data are not filled: the clock jumps over them.

The replay runs in chunks (numpy -> Python lists of 4096 rows) so no Python object is kept per
candle and memory stays flat whatever the length of the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from octobot_trading.backtesting.candle_data import CandleData, CandleSeries
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.payloads import CandleUpdate
from octobot_trading.exchange_data.symbol_data import ClosedCandleParts

__all__ = ["BacktestDriver", "CandleMatcher"]

CHUNK = 4096
#: "no evaluation left": later than any time (an int, so the per-candle check compares two ints)
_NEVER = 2**62


class CandleMatcher(Protocol):
    """What the driver needs from the matching engine.

    ``on_candle`` returns None when nothing can trigger (the cheap common case) or an awaitable
    that walks the candle's price path and applies the fills.
    """

    def on_candle(
        self, symbol: str, time_ms: int, open: float, high: float, low: float, close: float, volume: float | None = None
    ) -> Awaitable[None] | None:
        """Match resting orders of ``symbol`` against one candle's price path."""


def _no_writer_yet(timestamp: int, open: float, high: float, low: float, close: float, volume: float) -> bool:
    raise AssertionError("a stream's candle writer is used only after its first candle")


class _Publisher:
    """One stream's way into the market-data hub.

    ``full`` is ``ExchangeMarketData.on_closed_candle`` (write, readiness, OHLCV publish, mark
    price publish). After a stream's first candle has gone through it (so its readiness topics
    are marked), the driver takes the equivalent direct path the hub documents for backtests:
    ``add`` (``ExchangeSymbolData.closed_candle_writer``: ``add_closed_candle`` of the stream's
    time frame in one call: buffer, candle price, price events) then the OHLCV consumers of
    ``callbacks`` (the channel's live route list) in priority order.
    Whenever something watches the mark price (``mark_callbacks`` non-empty) the full path is
    used, so observers see exactly what a live updater would publish.
    """

    __slots__ = ("_symbol_data", "_time_frame", "add", "callbacks", "full", "mark_callbacks")

    def __init__(self, market_data: Any, symbol: str, tf: TimeFrame) -> None:
        channels = market_data.channels
        self.full = market_data.on_closed_candle
        self.add: Callable[[int, float, float, float, float, float], bool] | None = None
        self._symbol_data = market_data.symbols_data.get(symbol)
        self._time_frame = tf
        self.callbacks = channels.ohlcv.callbacks_for(symbol, tf)
        self.mark_callbacks = channels.mark_price.callbacks_for(symbol)

    def parts(self) -> ClosedCandleParts:
        """What the stream's candle write touches, for the driver's inlined write (after the
        stream's first candle, like :meth:`writer`)."""
        parts: ClosedCandleParts = self._symbol_data.closed_candle_parts(self._time_frame)
        return parts

    def writer(self) -> Callable[[int, float, float, float, float, float], bool]:
        """The stream's one-call candle write (built on first use: after its first candle, so the
        buffer exists as the full path created it)."""
        add = self.add
        if add is None:
            add = self.add = self._symbol_data.closed_candle_writer(self._time_frame)
        return add


@dataclass(frozen=True, slots=True)
class _Stream:
    series: CandleSeries
    symbol: str
    time_frame: TimeFrame
    is_base: bool


class BacktestDriver:
    """Replay ``data`` through a market-data hub and a matching engine (see the module docstring).

    Parameters
    ----------
    data
        The candles to replay.
    clock
        The exchange's simulated clock.
    market_data
        The exchange's ``ExchangeMarketData`` (managers + channels + readiness).
    engine
        The matching engine, or None for a replay without orders.
    symbols, time_frames
        What to replay (default: everything in ``data``); ``symbols`` also fixes the order of
        symbols within one close time.
    start_ms, end_ms
        Replay only candles whose open time is in ``[start_ms, end_ms)``.
    progress
        Called as ``progress(done, total)`` every few thousand candles and at the end.
    due_triggers, run_triggers
        The trader's queue of orders whose price trigger fired (``Trader.due_triggers``) and the
        coroutine function that submits them (``Trader.run_due_triggers``): after each candle is
        published, a non-empty queue is awaited directly (no task, no event-loop turn).
    """

    def __init__(
        self,
        data: CandleData,
        *,
        clock: SimulatedClock,
        market_data: Any,
        engine: CandleMatcher | None = None,
        symbols: list[str] | None = None,
        time_frames: list[TimeFrame | str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        due_triggers: list[Any] | None = None,
        run_triggers: Callable[[], Awaitable[None]] | None = None,
        evaluations: list[Any] | None = None,
        publish_evaluation: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.clock = clock
        # evaluations (sorted by time) and where they go: see _deliver_evaluations
        self.evaluations = list(evaluations or ()) if publish_evaluation is not None else []
        self.publish_evaluation = publish_evaluation
        self._next_evaluation = 0
        self.due_triggers = due_triggers if due_triggers is not None and run_triggers is not None else []
        self.run_triggers = run_triggers
        self.market_data = market_data
        self.engine = engine
        self.progress = progress
        self.symbols = list(symbols) if symbols is not None else sorted(data.symbols)
        wanted = [TimeFrame.parse(tf) for tf in time_frames] if time_frames is not None else data.time_frames
        self.time_frames = sorted(set(wanted), key=lambda tf: tf.ms)
        streams: list[_Stream] = []
        for symbol in self.symbols:
            own = [s for s in data if s.symbol == symbol and s.time_frame in self.time_frames]
            if not own:
                raise ConfigurationError(f"no candles for {symbol} in the backtest data", field="symbols")
            own.sort(key=lambda s: s.time_frame.ms)
            for index, series in enumerate(own):
                if start_ms is not None or end_ms is not None:
                    series = series.slice(start_ms, end_ms)
                streams.append(_Stream(series, symbol, series.time_frame, index == 0))
        self._streams = streams
        self.total = sum(len(s.series) for s in streams)
        self.replayed = 0
        #: called as ``close_done(close_ms)`` (returning None or an awaitable) at the end of each
        #: close of a replay of several streams (see the module docstring)
        self.close_done: Callable[[int], Awaitable[None] | None] | None = None

    @property
    def merged(self) -> bool:
        """True when several streams are replayed (a close may hold several candles, and
        :attr:`close_done` is called at the end of each close)."""
        return len(self._streams) > 1

    @property
    def _next_evaluation_ms(self) -> int:
        """Time of the next evaluation to deliver (``_NEVER`` when none is left)."""
        index = self._next_evaluation
        return self.evaluations[index].time_ms if index < len(self.evaluations) else _NEVER

    async def _deliver_evaluations(self, before_ms: int) -> int:
        """Deliver, in order, the evaluations timed before ``before_ms``, each with the clock at its
        time (so after every candle closing at or before that time), then fired price triggers;
        return the time of the next one."""
        evaluations, publish = self.evaluations, self.publish_evaluation
        while self._next_evaluation < len(evaluations) and evaluations[self._next_evaluation].time_ms < before_ms:
            evaluation = evaluations[self._next_evaluation]
            self._next_evaluation += 1
            self.clock.set_time(evaluation.time_ms)
            await publish(evaluation)  # type: ignore[misc]
            if self.due_triggers:
                await self.run_triggers()  # type: ignore[misc]
        return self._next_evaluation_ms

    @property
    def first_close_ms(self) -> int | None:
        """Close time of the first candle replayed (None when there is none)."""
        closes = [int(s.series.times[0]) + s.time_frame.ms for s in self._streams if len(s.series)]
        return min(closes) if closes else None

    async def run(self) -> int:
        """Replay every candle; return how many were published."""
        if len(self._streams) == 1:
            await self._run_single(self._streams[0])
        else:
            await self._run_merged()
        end_replay = getattr(self.engine, "end_replay", None)  # events still waiting (futures cross checks)
        if end_replay is not None:
            await end_replay()
        await self._deliver_evaluations(_NEVER)
        if self.progress is not None:
            self.progress(self.replayed, self.total)
        return self.replayed

    def _engine_call(self) -> Callable[..., Awaitable[None] | None] | None:
        return None if self.engine is None else self.engine.on_candle

    def _with_volume(self) -> bool:
        """True when the engine fills partially: only then is the candle volume passed to it."""
        return self.engine is not None and getattr(self.engine, "partial_fill_fraction", None) is not None

    def _publisher(self, symbol: str, tf: TimeFrame) -> _Publisher:
        return _Publisher(self.market_data, symbol, tf)

    async def _run_single(self, stream: _Stream) -> None:
        series = stream.series
        symbol, tf, tf_ms = stream.symbol, stream.time_frame, stream.time_frame.ms
        set_time = self.clock.set_time
        out = self._publisher(symbol, tf)
        full, callbacks, mark_callbacks = out.full, out.callbacks, out.mark_callbacks
        # fast is False until the stream's first candle; the write's parts are bound right after it
        add: Callable[[int, float, float, float, float, float], bool] = _no_writer_yet
        buffer: Any = None
        events: Any = None
        remember: Callable[[tuple[int, float, float]], None] | None = None
        alloc = capacity = 0
        c_times = c_opens = c_highs = c_lows = c_closes = c_volumes = memoryview(b"")
        match = self._engine_call()
        with_volume = self._with_volume()
        # the matching engine's on_candle inlined (same effects, one call less per candle)
        parts = getattr(self.engine, "replay_parts", None)
        last_close, books, walk_book = parts() if parts is not None else ({}, None, None)
        # the clock move inlined: the common case (forward, no sleeper due) is one assignment;
        # anything else goes through set_time (which raises on a backward move, wakes sleepers)
        clock = self.clock
        sleepers = clock._sleepers
        due, run_triggers = self.due_triggers, self.run_triggers
        progress = self.progress
        fast = False
        new_payload = object.__new__
        next_evaluation = self._next_evaluation_ms
        n = len(series)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            times = series.times[start:stop].tolist()
            opens = series.opens[start:stop].tolist()
            highs = series.highs[start:stop].tolist()
            lows = series.lows[start:stop].tolist()
            closes = series.closes[start:stop].tolist()
            volumes = series.volumes[start:stop].tolist()
            for t, o, h, lo, c, v in zip(times, opens, highs, lows, closes, volumes, strict=True):
                close_ms = t + tf_ms
                if close_ms > next_evaluation:
                    next_evaluation = await self._deliver_evaluations(close_ms)
                if close_ms < clock._now_ms or (sleepers and sleepers[0][0] <= close_ms):
                    set_time(close_ms)
                else:
                    clock._now_ms = close_ms
                if books is not None:
                    last_close[symbol] = c
                    book = books.get(symbol)
                    if book is not None and not (lo > book.lo and h < book.hi):
                        await walk_book(symbol, book, close_ms, o, h, lo, c, v if with_volume else None, None)
                elif match is not None:
                    walk = (
                        match(symbol, close_ms, o, h, lo, c, v) if with_volume else match(symbol, close_ms, o, h, lo, c)
                    )
                    if walk is not None:
                        await walk
                if fast and not mark_callbacks:
                    # -- the stream's closed_candle_writer inlined (ClosedCandleParts: t is an int) --
                    end = buffer._end
                    if t <= buffer._last_ts or end == alloc:
                        written = add(t, o, h, lo, c, v)
                    else:
                        c_times[end] = t
                        buffer._end = end + 1
                        if end - buffer._start >= capacity:
                            buffer._start += 1
                        buffer._last_ts = t
                        c_opens[end] = o
                        c_highs[end] = h
                        c_lows[end] = lo
                        c_closes[end] = c
                        c_volumes[end] = v
                        events._last = c
                        if remember is not None:
                            remember((close_ms, lo, h))
                        if h >= events._lowest_above:
                            events._fire_above(h)
                        if lo <= events._highest_below:
                            events._fire_below(lo)
                        written = True
                    if written:
                        # CandleUpdate(symbol, tf, t, o, h, lo, c, v) built field by field: the
                        # same object without the generated __init__'s Python frame
                        payload = new_payload(CandleUpdate)
                        payload.symbol = symbol
                        payload.time_frame = tf
                        payload.timestamp = t
                        payload.open = o
                        payload.high = h
                        payload.low = lo
                        payload.close = c
                        payload.volume = v
                        for callback in callbacks:
                            pending = callback(payload)
                            if pending is not None:
                                await pending
                else:
                    await full(symbol, tf, t, o, h, lo, c, v)
                    fast = True
                    parts = out.parts()
                    buffer, columns, alloc, capacity, events, remember, _, add = parts
                    c_times, c_opens, c_highs, c_lows, c_closes, c_volumes = columns
                if due:
                    await run_triggers()  # type: ignore[misc]
            self.replayed = stop
            if progress is not None:
                progress(stop, n)

    def _merged_order(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        close_times = []
        stream_ids = []
        rows = []
        for index, stream in enumerate(self._streams):
            size = len(stream.series)
            close_times.append(stream.series.times + stream.time_frame.ms)
            stream_ids.append(np.full(size, index, dtype=np.int64))
            rows.append(np.arange(size, dtype=np.int64))
        close_all = np.concatenate(close_times)
        ids = np.concatenate(stream_ids)
        # streams are listed by symbol order then time-frame length, so the stream index is the
        # secondary key; lexsort is stable, so ties keep that order
        order = np.lexsort((ids, close_all))
        return close_all[order], ids[order], np.concatenate(rows)[order]

    async def _run_merged(self) -> None:
        close_sorted, ids_sorted, rows_sorted = self._merged_order()
        streams = self._streams
        set_time = self.clock.set_time
        match = self._engine_call()
        with_volume = self._with_volume()
        due, run_triggers = self.due_triggers, self.run_triggers
        end_close = getattr(self.engine, "end_close", None)  # what waited for a whole close (futures)
        close_done = self.close_done
        n = len(close_sorted)
        columns = [
            (s.series.times, s.series.opens, s.series.highs, s.series.lows, s.series.closes, s.series.volumes)
            for s in streams
        ]
        meta = [(s.symbol, s.time_frame, s.is_base, self._publisher(s.symbol, s.time_frame), [False]) for s in streams]
        now = -1
        next_evaluation = self._next_evaluation_ms
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            ids = ids_sorted[start:stop]
            rows = rows_sorted[start:stop]
            picked = np.empty((6, stop - start), dtype=np.float64)
            times = np.empty(stop - start, dtype=np.int64)
            for index, cols in enumerate(columns):
                mask = ids == index
                if not mask.any():
                    continue
                sel = rows[mask]
                times[mask] = cols[0][sel]
                for k in range(1, 6):
                    picked[k, mask] = cols[k][sel]
            id_list = ids.tolist()
            time_list = times.tolist()
            close_list = close_sorted[start:stop].tolist()
            opens, highs, lows, closes, volumes = (picked[k].tolist() for k in range(1, 6))
            for j in range(stop - start):
                close_ms = close_list[j]
                if close_ms != now:
                    if now >= 0 and (end_close is not None or close_done is not None):
                        await self._end_of_close(now, end_close, close_done)
                    if close_ms > next_evaluation:
                        next_evaluation = await self._deliver_evaluations(close_ms)
                    set_time(close_ms)
                    now = close_ms
                symbol, tf, is_base, out, seen = meta[id_list[j]]
                if is_base and match is not None:
                    walk = (
                        match(symbol, close_ms, opens[j], highs[j], lows[j], closes[j], volumes[j])
                        if with_volume
                        else match(symbol, close_ms, opens[j], highs[j], lows[j], closes[j])
                    )
                    if walk is not None:
                        await walk
                t = time_list[j]
                if seen[0] and not out.mark_callbacks:
                    if out.writer()(t, opens[j], highs[j], lows[j], closes[j], volumes[j]):
                        payload = CandleUpdate(symbol, tf, t, opens[j], highs[j], lows[j], closes[j], volumes[j])
                        for callback in out.callbacks:
                            pending = callback(payload)
                            if pending is not None:
                                await pending
                else:
                    await out.full(symbol, tf, t, opens[j], highs[j], lows[j], closes[j], volumes[j])
                    seen[0] = True
                if due:
                    await run_triggers()  # type: ignore[misc]
            self.replayed = stop
            if self.progress is not None:
                self.progress(stop, n)
        if now >= 0 and (end_close is not None or close_done is not None):
            await self._end_of_close(now, end_close, close_done)

    @staticmethod
    async def _end_of_close(
        close_ms: int,
        end_close: Callable[[int], Awaitable[None] | None] | None,
        close_done: Callable[[int], Awaitable[None] | None] | None,
    ) -> None:
        """Every candle closing at ``close_ms`` was replayed: the engine's waiting events, then
        :attr:`close_done` (see the module docstring)."""
        for call in (end_close, close_done):
            if call is not None:
                pending = call(close_ms)
                if pending is not None:
                    await pending
