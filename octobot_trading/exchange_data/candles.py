"""Candle buffers: closed candles of one symbol and time frame in preallocated numpy arrays.

:class:`CandlesManager` keeps the last ``capacity`` candles (3,000 by default) in one 2-D
float64 array (open, high, low, close, volume rows) plus one int64 array of open times. The
arrays have ``capacity + slack`` columns (slack = capacity / 8 by default): candles are written
one after the other, and when the end is reached the last ``capacity`` candles are moved back to
the start in one ``memmove``. So the live window is always contiguous and every accessor
(``closes()``, ``highs()``, ...) returns a *view*, oldest first, never a copy; the price is
slack / capacity extra memory (12.5 %) and an amortized copy of ~48 numbers per candle.

No Python object is kept per candle. Views are valid until the next write: copy them
(``np.array(view)``) to keep values across candles.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from octobot_trading.constants import DEFAULT_CANDLE_BUFFER_SIZE
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataError
from octobot_trading.exchanges.types import Candle
from octobot_trading.util.decimals import decimal_from_data_float

__all__ = ["CandlesManager"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_NO_TIME = -(2**62)


class CandlesManager:
    """Closed candles of one symbol / time frame (see the module docstring).

    Parameters
    ----------
    symbol, time_frame:
        What the candles are.
    capacity:
        Number of candles kept (older ones are dropped).
    slack:
        Extra columns allocated to make appends cheap (default ``capacity // 8``).
    """

    __slots__ = (
        "_c",
        "_data",
        "_end",
        "_h",
        "_l",
        "_last_ts",
        "_o",
        "_start",
        "_t",
        "_v",
        "_w",
        "alloc",
        "capacity",
        "symbol",
        "time_frame",
    )

    def __init__(
        self,
        symbol: str,
        time_frame: TimeFrame | str,
        capacity: int = DEFAULT_CANDLE_BUFFER_SIZE,
        *,
        slack: int | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ConfigurationError(
                f"candle buffer capacity must be a positive int, got {capacity!r}", field="candle_buffer_size"
            )
        self.symbol = symbol
        self.time_frame = TimeFrame.parse(time_frame)
        self.capacity = capacity
        slack = max(1, capacity // 8) if slack is None else slack
        if slack < 1:
            raise ConfigurationError("candle buffer slack must be >= 1", field="slack")
        self.alloc = capacity + slack
        self._data: FloatArray = np.zeros((5, self.alloc), dtype=np.float64)
        self._t: IntArray = np.zeros(self.alloc, dtype=np.int64)
        self._o, self._h, self._l, self._c, self._v = self._data
        # memoryviews on the same buffers: writing one Python number through a memoryview takes
        # about half the time of a numpy item assignment (the hot path of backtests)
        # (a timestamp the int64 view refuses, e.g. a float, falls back to numpy's assignment)
        self._w: tuple[Any, ...] = (
            self._t.data,
            memoryview(self._o),
            memoryview(self._h),
            memoryview(self._l),
            memoryview(self._c),
            memoryview(self._v),
        )
        self._start = 0
        self._end = 0
        self._last_ts = _NO_TIME

    # -- writing ----------------------------------------------------------------------------
    def add_candle(self, timestamp: int, open: float, high: float, low: float, close: float, volume: float) -> bool:
        """Append one closed candle (floats; ``timestamp`` = open time in ms).

        A candle with the same open time as the last one overwrites it in place (a corrected
        candle); an older one is ignored. Returns True only when a *new* candle was appended,
        so callers publish each candle once.
        """
        last = self._last_ts
        if timestamp > last:
            end = self._end
            if end == self.alloc:
                self._compact()
                end = self._end
            self._end = end + 1
            if end - self._start >= self.capacity:
                self._start += 1
            self._last_ts = timestamp
            new = True
        elif timestamp == last:
            end = self._end - 1
            new = False
        else:
            return False
        t, o, h, lo, c, v = self._w
        try:
            t[end] = timestamp
        except TypeError:  # a float or numpy timestamp: numpy's assignment converts it
            self._t[end] = timestamp
        o[end] = open
        h[end] = high
        lo[end] = low
        c[end] = close
        v[end] = volume
        return new

    def add(self, candle: Candle) -> bool:
        """Append a typed :class:`Candle` (Decimal values become floats)."""
        return self.add_candle(
            candle.timestamp,
            float(candle.open),
            float(candle.high),
            float(candle.low),
            float(candle.close),
            float(candle.volume),
        )

    def _compact(self) -> None:
        keep = min(self._end - self._start, self.capacity - 1)
        src = self._end - keep
        self._data[:, :keep] = self._data[:, src : self._end]
        self._t[:keep] = self._t[src : self._end]
        self._start = 0
        self._end = keep

    def extend(
        self,
        times: Sequence[int] | IntArray,
        opens: Sequence[float] | FloatArray,
        highs: Sequence[float] | FloatArray,
        lows: Sequence[float] | FloatArray,
        closes: Sequence[float] | FloatArray,
        volumes: Sequence[float] | FloatArray,
    ) -> int:
        """Append many candles at once (arrays of equal length, times strictly increasing).

        Candles not newer than the last stored one are skipped. Returns the number appended.
        Raises ``DataError`` (and changes nothing) on mismatched lengths or unordered times.
        """
        try:
            t = np.asarray(times, dtype=np.int64)
            cols = np.array([opens, highs, lows, closes, volumes], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{self.symbol} {self.time_frame}: invalid candle arrays: {exc}") from exc
        if cols.ndim != 2 or cols.shape[1] != t.shape[0] or t.ndim != 1:
            raise DataError(f"{self.symbol} {self.time_frame}: candle arrays have different lengths")
        if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
            raise DataError(f"{self.symbol} {self.time_frame}: candle times are not strictly increasing")
        fresh = t > self._last_ts
        if not bool(fresh.all()):
            t, cols = t[fresh], cols[:, fresh]
        n = int(t.size)
        if n == 0:
            return 0
        keep_old = min(self._end - self._start, self.capacity - min(n, self.capacity))
        new_t = t[-self.capacity :]
        new_cols = cols[:, -self.capacity :]
        src = self._end - keep_old
        self._data[:, :keep_old] = self._data[:, src : self._end]
        self._t[:keep_old] = self._t[src : self._end]
        m = new_t.size
        self._data[:, keep_old : keep_old + m] = new_cols
        self._t[keep_old : keep_old + m] = new_t
        self._start = 0
        self._end = keep_old + m
        self._last_ts = int(new_t[-1])
        return n

    def extend_candles(self, candles: Sequence[Candle]) -> int:
        """Append typed candles (oldest first); see :meth:`extend`."""
        if not candles:
            return 0
        return self.extend(
            [c.timestamp for c in candles],
            [float(c.open) for c in candles],
            [float(c.high) for c in candles],
            [float(c.low) for c in candles],
            [float(c.close) for c in candles],
            [float(c.volume) for c in candles],
        )

    def replace_all(self, candles: Sequence[Candle]) -> int:
        """Drop every stored candle and load ``candles`` (oldest first). Returns the number kept."""
        self.clear()
        self.extend_candles(candles)
        return len(self)

    def clear(self) -> None:
        """Forget every candle."""
        self._start = self._end = 0
        self._last_ts = _NO_TIME

    # -- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._end - self._start

    def _first(self, limit: int | None) -> int:
        if limit is None:
            return self._start
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        return max(self._start, self._end - limit)

    def times(self, limit: int | None = None) -> IntArray:
        """Open times (ms) of the last ``limit`` candles (all when None), oldest first; a view."""
        return self._t[self._first(limit) : self._end]

    def opens(self, limit: int | None = None) -> FloatArray:
        """Open prices, oldest first; a view."""
        return self._o[self._first(limit) : self._end]

    def highs(self, limit: int | None = None) -> FloatArray:
        """High prices, oldest first; a view."""
        return self._h[self._first(limit) : self._end]

    def lows(self, limit: int | None = None) -> FloatArray:
        """Low prices, oldest first; a view."""
        return self._l[self._first(limit) : self._end]

    def closes(self, limit: int | None = None) -> FloatArray:
        """Close prices, oldest first; a view."""
        return self._c[self._first(limit) : self._end]

    def volumes(self, limit: int | None = None) -> FloatArray:
        """Volumes, oldest first; a view."""
        return self._v[self._first(limit) : self._end]

    def ohlcv(self, limit: int | None = None) -> FloatArray:
        """A ``(5, n)`` view: rows open, high, low, close, volume; columns oldest first."""
        return self._data[:, self._first(limit) : self._end]

    @property
    def last_timestamp(self) -> int | None:
        """Open time of the newest candle, or None when empty."""
        return None if self._end == self._start else self._last_ts

    @property
    def last_close(self) -> float | None:
        """Close of the newest candle, or None when empty."""
        return None if self._end == self._start else float(self._c[self._end - 1])

    def last_candle(self) -> Candle | None:
        """The newest candle as a typed :class:`Candle` (Decimals from shortest float form)."""
        if self._end == self._start:
            return None
        i = self._end - 1
        values: list[Decimal] = [decimal_from_data_float(float(row[i])) for row in self._data]
        return Candle(int(self._t[i]), values[0], values[1], values[2], values[3], values[4])

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return int(self._data.nbytes + self._t.nbytes)

    def __repr__(self) -> str:
        return f"CandlesManager({self.symbol}, {self.time_frame}, {len(self)}/{self.capacity})"
