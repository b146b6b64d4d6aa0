"""Historical candles held as numpy arrays, validated once when loaded.

A :class:`CandleSeries` is one (symbol, time frame) run of candles: ``times`` (int64 open
times in ms) and float64 ``opens`` / ``highs`` / ``lows`` / ``closes`` / ``volumes``. Money
leaves these arrays only through :func:`~octobot_trading.util.decimals.decimal_from_data_float`
(``Decimal(repr(x))``, as API.md specifies). A :class:`CandleData` groups several series of one
exchange, with optional market specs, and is what ``run_backtest`` and
``ExchangeBuilder.use_backtesting`` take.

Validation rules (a violation raises :class:`~octobot_trading.errors.DataFileError` naming the
file and the 0-based row): open times strictly increasing (unsorted rows and duplicate
timestamps are errors), every step a whole number of candles, finite numbers, positive prices,
``low <= open, close <= high``, non-negative volume. Gaps (steps of more than one candle, e.g.
exchange maintenance) are *not* repaired and *not* invented: they are reported in
:attr:`CandleSeries.gaps` and the replay simply has no candle there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.exchanges.types import Candle
from octobot_trading.util.decimals import decimal_from_data_float
from octobot_trading.util.market_spec import MarketSpec

__all__ = ["CandleData", "CandleSeries", "Gap"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
            self.symbol, self.time_frame, self.times[lo:hi], self.opens[lo:hi], self.highs[lo:hi],
            self.lows[lo:hi], self.closes[lo:hi], self.volumes[lo:hi], gaps, self.source,
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
    ) -> CandleSeries:
        """Build and validate a series from column arrays (see the module docstring for the rules)."""
        tf = TimeFrame.parse(time_frame)
        t = np.ascontiguousarray(times, dtype=np.int64)
        cols = [np.ascontiguousarray(c, dtype=np.float64) for c in (opens, highs, lows, closes, volumes)]
        if any(c.shape != t.shape for c in cols) or t.ndim != 1:
            raise DataFileError("OHLCV columns have different lengths", path=source)
        series = cls(symbol, tf, t, cols[0], cols[1], cols[2], cols[3], cols[4], source=source)
        series.gaps = _validate(series, allow_gaps)
        for array in (t, *cols):
            array.setflags(write=False)
        return series


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _validate(s: CandleSeries, allow_gaps: bool) -> list[Gap]:
    path = s.source
    if len(s) == 0:
        raise DataFileError("no candles", path=path)
    for name, column in (("open", s.opens), ("high", s.highs), ("low", s.lows), ("close", s.closes),
                         ("volume", s.volumes)):
        bad = ~np.isfinite(column)
        if bad.any():
            raise DataFileError(f"{name} is not a finite number", path=path, row=_first(bad))
        if name != "volume" and (column <= 0).any():
            raise DataFileError(f"{name} must be positive", path=path, row=_first(column <= 0))
    if (s.volumes < 0).any():
        raise DataFileError("volume must not be negative", path=path, row=_first(s.volumes < 0))
    inconsistent = (s.lows > np.minimum(s.opens, s.closes)) | (s.highs < np.maximum(s.opens, s.closes))
    if inconsistent.any():
        raise DataFileError("inconsistent candle: need low <= open, close <= high", path=path,
                            row=_first(inconsistent))
    tf_ms = s.time_frame.ms
    if (s.times % min(tf_ms, 86_400_000) != 0).any() and s.time_frame is not TimeFrame.MO1:
        raise DataFileError(f"open time not aligned on {s.time_frame} boundaries", path=path,
                            row=_first(s.times % min(tf_ms, 86_400_000) != 0))
    steps = np.diff(s.times)
    if (steps == 0).any():
        raise DataFileError("duplicate timestamp", path=path, row=_first(steps == 0) + 1)
    if (steps < 0).any():
        raise DataFileError("rows are not sorted by time", path=path, row=_first(steps < 0) + 1)
    if s.time_frame is TimeFrame.MO1:
        return []
    if (steps % tf_ms != 0).any():
        raise DataFileError(f"step between rows is not a whole number of {s.time_frame} candles",
                            path=path, row=_first(steps % tf_ms != 0) + 1)
    gap_rows = np.flatnonzero(steps != tf_ms)
    gaps = [Gap(int(s.times[i]), int(s.times[i + 1]), int(steps[i] // tf_ms) - 1) for i in gap_rows]
    if gaps and not allow_gaps:
        raise DataFileError(f"gap of {gaps[0].missing} missing candle(s)", path=path, row=int(gap_rows[0]) + 1)
    return gaps


class CandleData:
    """Historical candles of one exchange: several symbols and time frames, plus market specs.

    Build it with :meth:`from_file` (JSON, JSON.gz, CSV or the library's SQLite data file) or
    from in-memory series with the constructor; combine several with :meth:`merge`.
    """

    def __init__(
        self,
        series: list[CandleSeries] | tuple[CandleSeries, ...] = (),
        *,
        exchange: str = "simulator",
        markets: Mapping[str, MarketSpec] | None = None,
    ) -> None:
        self.exchange = exchange
        self.markets: dict[str, MarketSpec] = dict(markets or {})
        self._series: dict[tuple[str, TimeFrame], CandleSeries] = {}
        for item in series:
            key = (item.symbol, item.time_frame)
            if key in self._series:
                raise ConfigurationError(f"two candle series for {item.symbol} {item.time_frame}", field="data")
            self._series[key] = item

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        exchange: str | None = None,
        symbol: str | None = None,
        time_frame: TimeFrame | str | None = None,
        allow_gaps: bool = True,
    ) -> CandleData:
        """Load candles from ``path``.

        Parameters
        ----------
        path
            A ``[[ms, o, h, l, c, v], ...]`` JSON file (``.json`` / ``.json.gz``), a CSV file with
            the header ``timestamp,open,high,low,close,volume`` (``timestamp`` in ms or as an
            ISO UTC date), or a SQLite data file written by this library (``.sqlite`` / ``.db``).
        exchange
            Exchange name (SQLite files carry their own; default ``"simulator"`` otherwise).
        symbol, time_frame
            Required for JSON / CSV unless the file name says them (``BTC_USDT-5m.json``). For
            SQLite files they select a subset (default: everything in the file).
        allow_gaps
            When False, a gap in the data is an error instead of being reported in ``gaps``.

        Raises
        ------
        DataFileError
            The file is missing, unreadable or invalid; the message names the file and row.
        """
        from octobot_trading.backtesting import importers

        return importers.load(cls, Path(path), exchange=exchange, symbol=symbol, time_frame=time_frame,
                              allow_gaps=allow_gaps)

    def merge(self, other: CandleData) -> CandleData:
        """Return a new CandleData with the series and markets of both (same exchange)."""
        if other.exchange != self.exchange:
            raise ConfigurationError(f"cannot merge data of {self.exchange} and {other.exchange}", field="data")
        merged = CandleData([*self._series.values(), *other._series.values()], exchange=self.exchange,
                            markets={**self.markets, **other.markets})
        return merged

    def get(self, symbol: str, time_frame: TimeFrame | str) -> CandleSeries:
        """Return the series of ``symbol`` / ``time_frame``; ``ConfigurationError`` if absent."""
        key = (symbol, TimeFrame.parse(time_frame))
        try:
            return self._series[key]
        except KeyError:
            raise ConfigurationError(f"no candles for {symbol} {key[1]} in the data", field="data") from None

    def __iter__(self) -> Iterator[CandleSeries]:
        return iter(self._series.values())

    def __len__(self) -> int:
        return len(self._series)

    @property
    def symbols(self) -> list[str]:
        """Symbols present, in insertion order."""
        return list(dict.fromkeys(s for s, _ in self._series))

    @property
    def time_frames(self) -> list[TimeFrame]:
        """Time frames present, shortest first."""
        return sorted({tf for _, tf in self._series}, key=lambda tf: tf.ms)

    @property
    def total_candles(self) -> int:
        """Number of candles over all series."""
        return sum(len(s) for s in self._series.values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{s.symbol} {s.time_frame} x{len(s)}" for s in self._series.values())
        return f"CandleData(exchange={self.exchange!r}, [{parts}])"
