"""FundingData.between (called once per backtest candle) lists exactly the events of (start, end], in any call order."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.backtesting import FundingData

HOUR = 3600 * 1000


def _brute(times: list[int], rates: list[D], start: int, end: int) -> list[tuple[int, D]]:
    return [(t, r) for t, r in zip(times, rates, strict=True) if start < t <= end]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=40, unique=True),
    st.lists(st.tuples(st.integers(-8, 3300), st.integers(0, 900)), min_size=1, max_size=60),
)
def test_between_matches_a_plain_filter_for_any_sequence_of_windows(
    slots: list[int], windows: list[tuple[int, int]]
) -> None:
    times = sorted(s * 8 * HOUR for s in slots)
    rates = [D(i) / 10000 for i in range(len(times))]
    funding = FundingData("XRP/USDT:USDT", times, rates)
    for start_hours, width in windows:
        start = start_hours * HOUR
        end = start + width * 5 * 60 * 1000
        assert funding.between(start, end) == _brute(times, rates, start, end)


def test_between_walked_candle_by_candle_sees_every_event_once() -> None:
    times = [8 * HOUR * k for k in range(1, 50)]
    funding = FundingData("XRP/USDT:USDT", times, ["0.0001"] * len(times))
    seen: list[int] = []
    step = 5 * 60 * 1000
    for close in range(step, 51 * 8 * HOUR, step):
        seen.extend(t for t, _ in funding.between(close - step, close))
    assert seen == times
