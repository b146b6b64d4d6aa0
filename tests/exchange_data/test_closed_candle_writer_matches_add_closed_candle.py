"""ExchangeSymbolData.closed_candle_writer: the one-call candle write gives what add_closed_candle gives."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data.price_events import Crossing, PriceEvent
from octobot_trading.exchange_data.symbol_data import ExchangeSymbolData

TF = TimeFrame("1m")


def _candles() -> list[tuple[Any, float, float, float, float, float]]:
    """Newer candles (enough to wrap a small buffer several times), corrected and older ones,
    float and numpy timestamps, and prices crossing the registered thresholds."""
    rng = np.random.default_rng(3)
    rows: list[tuple[Any, float, float, float, float, float]] = []
    price = 100.0
    for i in range(200):
        close = round(price * (1 + rng.normal(0, 0.02)), 2)
        rows.append((60_000 * i, price, max(price, close) + 0.5, min(price, close) - 0.5, close, float(i)))
        price = close
        if i % 37 == 5:  # the same open time again: a corrected candle, replaced in place
            rows.append((60_000 * i, price, price + 1.0, price - 1.0, price + 0.25, 9.0))
        if i % 41 == 7:  # an older candle: ignored
            rows.append((60_000 * (i - 3), 1.0, 1.0, 1.0, 1.0, 1.0))
    rows.append((60_000 * 200.0, price, price + 1, price - 1, price, 1.0))  # a float timestamp
    rows.append((np.int64(60_000 * 201), price, price + 1, price - 1, price, 1.0))  # a numpy one
    return rows


def _symbol_data(fired: list[tuple[str, Decimal | None]]) -> ExchangeSymbolData:
    data = ExchangeSymbolData("BTC/USDT", SimulatedClock(0), candle_capacity=16, price_history=8)

    def record(threshold: str) -> Callable[[PriceEvent], None]:
        return lambda event: fired.append((threshold, event.price))

    for threshold in ("90", "80", "70"):
        data.price_events.register(threshold, Crossing.BELOW, record(threshold))
    for threshold in ("110", "120", "130"):
        data.price_events.register(threshold, Crossing.ABOVE, record(threshold))
    return data


def _history(data: ExchangeSymbolData) -> list[tuple[int, Any, Any]]:
    """The prices the events manager remembers for late registrations (its documented history)."""
    return list(data.price_events._history or ())


def test_writer_stores_the_same_candles_and_fires_the_same_price_events_after_every_candle() -> None:
    expected_fired: list[tuple[str, Decimal | None]] = []
    fired: list[tuple[str, Decimal | None]] = []
    expected, actual = _symbol_data(expected_fired), _symbol_data(fired)
    write = actual.closed_candle_writer(TF)
    want, got = expected.candles(TF), actual.candles(TF)
    refused = 0
    for row in _candles():
        result = write(*row)
        assert result == expected.add_closed_candle(TF, *row)
        refused += not result
        assert len(got) == len(want)
        np.testing.assert_array_equal(got.times(), want.times())
        np.testing.assert_array_equal(got.ohlcv(), want.ohlcv())
        assert got.last_timestamp == want.last_timestamp
        assert fired == expected_fired
        assert _history(actual) == _history(expected)
        assert actual.price_events.last_price == expected.price_events.last_price
    assert refused and len(got) == 16  # older candles were refused; the buffer wrapped
    assert len(fired) >= 2  # thresholds were crossed
