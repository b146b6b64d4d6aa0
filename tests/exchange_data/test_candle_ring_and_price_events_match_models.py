"""Property tests: the candle ring equals a plain list model; price events fire exactly once."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.clock import SimulatedClock
from octobot_trading.exchange_data.candles import CandlesManager
from octobot_trading.exchange_data.price_events import Crossing, PriceEvent, PriceEventsManager


@settings(max_examples=120, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=12),
    slack=st.integers(min_value=1, max_value=5),
    steps=st.lists(st.tuples(st.integers(min_value=-2, max_value=3), st.floats(0.5, 100.0)), max_size=80),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=15)),
)
def test_candle_ring_matches_list_model(capacity, slack, steps, limit):
    buf = CandlesManager("X/Y", "1m", capacity, slack=slack)
    model: list[tuple[int, float]] = []
    ts = 0
    for delta, close in steps:
        ts_try = ts + delta * 60_000
        added = buf.add_candle(ts_try, close, close, close, close, 1.0)
        if model and ts_try == model[-1][0]:
            assert not added
            model[-1] = (ts_try, close)
        elif not model or ts_try > model[-1][0]:
            assert added
            model.append((ts_try, close))
            ts = ts_try
        else:
            assert not added
    kept = model[-capacity:]
    expected = kept if limit is None else kept[len(kept) - min(limit, len(kept)) :]
    np.testing.assert_array_equal(buf.times(limit), np.array([t for t, _ in expected], dtype=np.int64))
    np.testing.assert_array_equal(buf.closes(limit), np.array([c for _, c in expected], dtype=np.float64))
    assert len(buf) == len(kept)


@settings(max_examples=120, deadline=None)
@given(
    thresholds=st.lists(st.tuples(st.integers(1, 50), st.booleans()), max_size=15),
    prices=st.lists(st.integers(1, 50), max_size=40),
    register_at=st.integers(0, 40),
)
def test_price_events_fire_exactly_once_and_only_when_crossed(thresholds, prices, register_at):
    events = PriceEventsManager("X/Y", SimulatedClock())
    fired: dict[int, list[Decimal | None]] = {}
    registered: list[tuple[int, int, bool, int]] = []  # (index, threshold, above, registered after n prices)

    def record_into(i: int) -> Callable[[PriceEvent], None]:
        return lambda event: fired.setdefault(i, []).append(event.price)

    def register(n: int) -> None:
        for i, (threshold, above) in enumerate(thresholds):
            events.register(threshold, Crossing.ABOVE if above else Crossing.BELOW, record_into(i))
            registered.append((i, threshold, above, n))

    for n, price in enumerate(prices):
        if n == register_at:
            register(n)
        events.on_price(Decimal(price))
    if register_at >= len(prices):
        register(len(prices))
    for i, threshold, above, n in registered:
        seen = prices[max(0, n - 1) :]  # the last price before registration, then the later ones
        crossing = [p for p in seen if (p >= threshold if above else p <= threshold)]
        if crossing:
            assert fired.get(i) == [Decimal(crossing[0])]
        else:
            assert i not in fired
