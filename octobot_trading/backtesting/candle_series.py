"""One run of historical candles as numpy arrays, validated once, and what its loader detected.

A :class:`CandleSeries` is one (symbol, time frame) run of candles: ``times`` (int64 open
times in ms) and float64 ``opens`` / ``highs`` / ``lows`` / ``closes`` / ``volumes``. Money
leaves these arrays only through :func:`~octobot_trading.util.decimals.decimal_from_data_float`
(``Decimal(repr(x))``, the float's shortest text). :class:`~octobot_trading.backtesting.candle_data.CandleData`
groups several series of one exchange.

Validation rules (a violation raises :class:`~octobot_trading.errors.DataFileError` naming the
file and the 0-based row): open times strictly increasing (unsorted rows and duplicate
timestamps are errors), every step a whole number of candles, finite numbers, positive prices,
``low <= open, close <= high``, non-negative volume. Gaps (steps of more than one candle, e.g.
exchange maintenance) are *not* repaired and *not* invented: they are reported in
:attr:`CandleSeries.gaps` and the replay simply has no candle there.

This module imports nothing else from the backtesting package, so the readers
(:mod:`~octobot_trading.backtesting.importers`, :mod:`~octobot_trading.backtesting.data_file`)
and :class:`CandleData` all build on it without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import DataFileError
from octobot_trading.exchanges.types import Candle
from octobot_trading.util.decimals import decimal_from_data_float

__all__ = ["CandleSeries", "Gap", "LoadReport"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a reader found in a file: format, layout, the columns used and the time encoding.

    ``time_format`` is one of ``"epoch-s"``, ``"epoch-ms"``, ``"epoch-us"``, ``"epoch-ns"``
    (numbers, the unit detected from their magnitude or given), ``"iso-8601"`` (dates; ``notes``
    say whether they carried a UTC offset) or ``"arrow-timestamp"`` (a typed column of a
    feather / parquet file). ``columns`` are the file's columns read as open time, open, high,
    low, close and volume (by name, or by position for headerless files).
    """

    path: str
    format: str
    layout: str
    columns: tuple[str, ...]
    time_format: str
    rows: int
    engine: str = "numpy"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing candles between two consecutive rows: ``missing`` candles after ``after_ms``."""

    after_ms: int
    next_ms: int
    missing: int


@dataclass(slots=True)
class CandleSeries:
    """Candles of one symbol and time frame, oldest first, as read-only numpy arrays."""

    symbol: str
    time_frame: TimeFrame
    times: IntArray
    opens: FloatArray
    highs: FloatArray
    lows: FloatArray
    closes: FloatArray
    volumes: FloatArray
    gaps: list[Gap] = field(default_factory=list)
    source: str = "<memory>"
    report: LoadReport | None = None

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def start_ms(self) -> int:
        """Open time of the first candle."""
        return int(self.times[0])

    @property
    def end_ms(self) -> int:
        """Close time of the last candle (open time + one time frame)."""
        return int(self.times[-1]) + self.time_frame.ms

    def candle(self, index: int) -> Candle:
        """Return row ``index`` as a typed :class:`Candle` with exact Decimal values."""
        return Candle(
            timestamp=int(self.times[index]),
            open=decimal_from_data_float(float(self.opens[index])),
            high=decimal_from_data_float(float(self.highs[index])),
            low=decimal_from_data_float(float(self.lows[index])),
            close=decimal_from_data_float(float(self.closes[index])),
            volume=decimal_from_data_float(float(self.volumes[index])),
        )

    def close_decimal(self, index: int) -> Decimal:
        """Exact close of row ``index``."""
        return decimal_from_data_float(float(self.closes[index]))

    def slice(self, start_ms: int | None = None, end_ms: int | None = None) -> CandleSeries:
        """Return the candles whose open time is in ``[start_ms, end_ms)`` (views, no copy)."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.times, start_ms, "left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.times, end_ms, "left"))
        if hi > lo:
            first, last = int(self.times[lo]), int(self.times[hi - 1])
            gaps = [g for g in self.gaps if g.after_ms >= first and g.next_ms <= last]
        else:
            gaps = []
        return CandleSeries(
            self.symbol,
            self.time_frame,
            self.times[lo:hi],
            self.opens[lo:hi],
            self.highs[lo:hi],
            self.lows[lo:hi],
            self.closes[lo:hi],
            self.volumes[lo:hi],
            gaps,
            self.source,
            self.report,
        )

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        time_frame: TimeFrame | str,
        times: npt.ArrayLike,
        opens: npt.ArrayLike,
        highs: npt.ArrayLike,
        lows: npt.ArrayLike,
        closes: npt.ArrayLike,
        volumes: npt.ArrayLike,
        *,
        source: str = "<memory>",
        allow_gaps: bool = True,
        report: LoadReport | None = None,
    ) -> CandleSeries:
        """Build and validate a series from column arrays (see the module docstring for the rules)."""
        tf = TimeFrame.parse(time_frame)
        t = np.ascontiguousarray(times, dtype=np.int64)
        cols = [np.ascontiguousarray(c, dtype=np.float64) for c in (opens, highs, lows, closes, volumes)]
        if any(c.shape != t.shape for c in cols) or t.ndim != 1:
            raise DataFileError("OHLCV columns have different lengths", path=source)
        series = cls(symbol, tf, t, cols[0], cols[1], cols[2], cols[3], cols[4], source=source, report=report)
        series.gaps = _validate(series, allow_gaps)
        for array in (t, *cols):
            array.setflags(write=False)
        return series


_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _validate(s: CandleSeries, allow_gaps: bool) -> list[Gap]:
    path = s.source
    if len(s) == 0:
        raise DataFileError("no candles", path=path)
    # the file's column names when a reader says them (err.column), else the canonical ones
    names = list(s.report.columns) if s.report is not None and len(s.report.columns) == 6 else list(_COLUMNS)
    for index, column in enumerate((s.opens, s.highs, s.lows, s.closes, s.volumes), start=1):
        name, role = names[index], _COLUMNS[index]
        bad = ~np.isfinite(column)
        if bad.any():
            raise DataFileError(f"{role} is not a finite number", path=path, row=_first(bad), column=name)
        if role != "volume" and (column <= 0).any():
            raise DataFileError(f"{role} must be positive", path=path, row=_first(column <= 0), column=name)
    if (s.volumes < 0).any():
        raise DataFileError("volume must not be negative", path=path, row=_first(s.volumes < 0), column=names[5])
    time_name = names[0]
    inconsistent = (s.lows > np.minimum(s.opens, s.closes)) | (s.highs < np.maximum(s.opens, s.closes))
    if inconsistent.any():
        raise DataFileError("inconsistent candle: need low <= open, close <= high", path=path, row=_first(inconsistent))
    tf_ms = s.time_frame.ms
    if (s.times % min(tf_ms, 86_400_000) != 0).any() and s.time_frame is not TimeFrame.MO1:
        raise DataFileError(
            f"open time not aligned on {s.time_frame} boundaries",
            path=path,
            row=_first(s.times % min(tf_ms, 86_400_000) != 0),
            column=time_name,
        )
    steps = np.diff(s.times)
    if (steps == 0).any():
        raise DataFileError("duplicate timestamp", path=path, row=_first(steps == 0) + 1, column=time_name)
    if (steps < 0).any():
        raise DataFileError("rows are not sorted by time", path=path, row=_first(steps < 0) + 1, column=time_name)
    if s.time_frame is TimeFrame.MO1:
        return []
    if (steps % tf_ms != 0).any():
        raise DataFileError(
            f"step between rows is not a whole number of {s.time_frame} candles",
            path=path,
            row=_first(steps % tf_ms != 0) + 1,
            column=time_name,
        )
    gap_rows = np.flatnonzero(steps != tf_ms)
    gaps = [Gap(int(s.times[i]), int(s.times[i + 1]), int(steps[i] // tf_ms) - 1) for i in gap_rows]
    if gaps and not allow_gaps:
        raise DataFileError(f"gap of {gaps[0].missing} missing candle(s)", path=path, row=int(gap_rows[0]) + 1)
    return gaps
