"""Mark-price candles must cover the traded candles they judge (``run_backtest(..., mark_prices=)``).

The simulated venue takes each traded candle's mark from the mark candle whose period contains
the traded candle's close. Without one the mark would stay at the last mark seen (or never be
set): liquidations, equity and funding would be judged on a stale price without any sign of it.
:func:`check_mark_coverage` refuses such data before anything is built, naming the first traded
candles left without a mark candle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError


def check_mark_coverage(
    data: CandleData, run_symbols: Sequence[str], base_time_frame: TimeFrame, mark_prices: CandleData | None
) -> None:
    """``ConfigurationError(field="mark_prices", symbol=...)`` when a symbol's mark candles (its
    shortest series, the one the venue uses) leave a traded candle of ``base_time_frame`` without
    a mark candle containing its close: before the first mark candle, after the last one or in a
    gap of the mark data."""
    if mark_prices is None:
        return
    shortest: dict[str, object] = {}
    for series in sorted(mark_prices, key=lambda s: -s.time_frame.ms):
        shortest[series.symbol] = series
    for symbol in run_symbols:
        marks = shortest.get(symbol)
        if marks is None:
            continue
        traded = data.get(symbol, base_time_frame)
        traded_closes = traded.times + base_time_frame.ms
        mark_opens = marks.times  # type: ignore[attr-defined]
        mark_closes = mark_opens + marks.time_frame.ms  # type: ignore[attr-defined]
        index = np.searchsorted(mark_closes, traded_closes, "left")
        found = index < len(mark_closes)
        covered = found.copy()
        covered[found] = mark_opens[index[found]] < traded_closes[found]
        if covered.all():
            continue
        first = int(np.argmin(covered))
        rest = covered[first:]
        last = first + (int(np.argmax(rest)) if rest.any() else len(rest)) - 1
        start, end = int(traded.times[first]), int(traded.times[last]) + base_time_frame.ms
        raise ConfigurationError(
            f"mark_prices of {symbol} do not cover the traded candles: no mark candle from {iso_ms(start)} "
            f"to {iso_ms(end)} ({last - first + 1} traded {base_time_frame} candle(s)); the traded candles "
            f"run from {iso_ms(int(traded.times[0]))} to {iso_ms(traded.end_ms)}, the mark candles from "
            f"{iso_ms(int(mark_opens[0]))} to {iso_ms(int(mark_closes[-1]))}: give mark candles covering the "
            "whole replay (or slice the traded candles to them), or no mark_prices (the traded candles are "
            "then the marks)",
            field="mark_prices",
            symbol=symbol,
        )


def iso_ms(ms: int) -> str:
    """``ms`` (UTC epoch milliseconds) as ``YYYY-MM-DD HH:MM`` UTC."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
