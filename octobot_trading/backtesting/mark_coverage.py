"""Where mark-price candles do not cover the traded candles (``run_backtest(..., mark_prices=)``).

The simulated venue takes each traded candle's mark from the mark candle whose period holds the
traded candle's close. Where there is none — before the first mark candle, after the last one or
in a gap of the mark data — the traded candle is the mark for that candle (the documented default
without mark data), never a stale mark. :func:`mark_fallbacks` lists those traded candles as
:class:`MarkFallback` ranges before the run; ``run_backtest`` logs one warning naming them and
returns them in ``BacktestResult.mark_fallback``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.enums import TimeFrame

__all__ = ["MarkFallback", "describe", "iso_ms", "mark_fallbacks"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MarkFallback:
    """``candles`` traded candles of ``symbol`` with opens in ``[start_ms, end_ms)`` that no mark
    candle covers: each was its own mark."""

    symbol: str
    start_ms: int
    end_ms: int
    candles: int

    def __str__(self) -> str:
        return f"{self.symbol} {iso_ms(self.start_ms)} to {iso_ms(self.end_ms)} ({self.candles} candle(s))"


def mark_fallbacks(
    data: CandleData, run_symbols: Sequence[str], base_time_frame: TimeFrame, mark_prices: CandleData | None
) -> list[MarkFallback]:
    """The traded candles of ``base_time_frame`` left without a mark candle holding their close
    (each symbol's shortest mark series is the one the venue uses), as contiguous ranges; a
    symbol without mark data is not listed (its candles are its marks by design)."""
    if mark_prices is None:
        return []
    shortest: dict[str, Any] = {}
    for series in sorted(mark_prices, key=lambda s: -s.time_frame.ms):
        shortest[series.symbol] = series
    found: list[MarkFallback] = []
    for symbol in run_symbols:
        marks = shortest.get(symbol)
        if marks is None:
            continue
        traded = data.get(symbol, base_time_frame)
        closes = traded.times + base_time_frame.ms
        mark_opens = marks.times
        mark_closes = mark_opens + marks.time_frame.ms
        index = np.searchsorted(mark_closes, closes, "left")
        inside = index < len(mark_closes)
        covered = inside.copy()
        covered[inside] = mark_opens[index[inside]] < closes[inside]
        uncovered = np.flatnonzero(~covered)
        if not len(uncovered):
            continue
        breaks = np.flatnonzero(np.diff(uncovered) != 1)
        starts = np.concatenate(([0], breaks + 1))
        ends = np.concatenate((breaks, [len(uncovered) - 1]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            first, last = int(uncovered[a]), int(uncovered[b])
            found.append(
                MarkFallback(
                    symbol, int(traded.times[first]), int(traded.times[last]) + base_time_frame.ms, last - first + 1
                )
            )
    if found:
        logger.warning("%s", describe(found))
    return found


def describe(fallbacks: Sequence[MarkFallback]) -> str:
    """One line naming how many traded candles were their own mark, and where."""
    total = sum(f.candles for f in fallbacks)
    shown = "; ".join(str(f) for f in fallbacks[:5]) + ("; ..." if len(fallbacks) > 5 else "")
    return f"mark_prices do not cover {total} traded candle(s): the traded candle is the mark there ({shown})"


def iso_ms(ms: int) -> str:
    """``ms`` (UTC epoch milliseconds) as ``YYYY-MM-DD HH:MM UTC``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
