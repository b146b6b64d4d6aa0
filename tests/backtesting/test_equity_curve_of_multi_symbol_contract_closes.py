"""The equity curve of a backtest trading several contract symbols samples a close once every
candle closing then was applied and the cross check of that close ran, also a check that waited
for a symbol with no candle at that close. Wallet 30 USDT, cross 10x longs of 100 XRP/USDT:USDT
and 100 ADA/USDT:USDT at 1, no fees: the equity at a close is the wallet plus both positions'
unrealized PnL at that close's marks, 0 once they are liquidated (computed here by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.backtesting import test_cross_liquidation_waits_for_every_symbol as same_close
from tests.backtesting import test_waiting_cross_check_runs_later as waiting
from tests.backtesting.scripted_futures import MINUTE, T0, XRP

ADA = "ADA/USDT:USDT"


def _curve(result: Any) -> list[tuple[int, float]]:
    curve = result.equity_curve
    return [(int(t) - T0, float(v)) for t, v in zip(curve.times.tolist(), curve.values.tolist(), strict=True)]


def _max_drawdown(values: list[float]) -> float:
    peak, worst = values[0], 0.0
    for value in values:
        peak = max(peak, value)
        worst = max(worst, (peak - value) / peak)
    return worst


def _assert_metrics_follow_the_curve(result: Any, expected: list[tuple[int, float]]) -> None:
    assert _curve(result) == expected
    assert min(value for _, value in expected) >= 0
    assert result.metrics.max_drawdown == pytest.approx(_max_drawdown([value for _, value in expected]))


async def test_a_cross_liquidation_waiting_for_a_later_candle_is_in_the_sample_of_its_close(tmp_path: Path) -> None:
    # ADA falls to 0.35 at 4 min, where XRP has no candle: the check of that close waits, runs
    # before DOGE's candle of 5 min and liquidates both (wallet 30 - 65 -> 0); the 4 min sample
    # shows 0, not the -35 of the wallet before the check
    result = await waiting._run(tmp_path, doge_candles=5)
    assert {liq.time - T0 for liq in result.liquidations} == {4 * MINUTE}
    expected = [(MINUTE, 30.0), (2 * MINUTE, 30.0), (3 * MINUTE, 30.0), (4 * MINUTE, 0.0), (5 * MINUTE, 0.0)]
    _assert_metrics_follow_the_curve(result, [*expected, (5 * MINUTE, 0.0)])  # and the run's final sample
    assert result.metrics.max_drawdown == 1.0


async def test_a_cross_liquidation_run_when_the_replay_ends_is_in_the_sample_of_its_close(tmp_path: Path) -> None:
    result = await waiting._run(tmp_path, doge_candles=0)
    assert {liq.time - T0 for liq in result.liquidations} == {4 * MINUTE}
    expected = [(MINUTE, 30.0), (2 * MINUTE, 30.0), (3 * MINUTE, 30.0), (4 * MINUTE, 0.0)]
    _assert_metrics_follow_the_curve(result, [*expected, (4 * MINUTE, 0.0)])
    assert result.metrics.max_drawdown == 1.0


@pytest.mark.parametrize(("up", "down"), [(XRP, ADA), (ADA, XRP)])
async def test_a_cross_liquidation_completed_by_a_later_symbol_of_the_close_is_in_its_sample(
    tmp_path: Path, up: str, down: str
) -> None:
    # at 4 min one symbol rises to 1.3 (+30), the other falls to 0.35 (-65): margin balance -5,
    # both liquidated at that close, wallet 0 (the sample is not the -35 or +60 of one symbol's
    # candle applied before the other's)
    result = await same_close._run(tmp_path, up, down, down_to="0.35")
    assert {liq.time - T0 for liq in result.liquidations} == {4 * MINUTE}
    expected = [(k * MINUTE, 30.0) for k in (1, 2, 3)] + [(4 * MINUTE, 0.0), (5 * MINUTE, 0.0)]
    _assert_metrics_follow_the_curve(result, [*expected, (5 * MINUTE, 0.0)])
    assert result.metrics.max_drawdown == 1.0


@pytest.mark.parametrize(("up", "down"), [(XRP, ADA), (ADA, XRP)])
async def test_a_close_is_sampled_at_every_symbols_price_of_that_close(tmp_path: Path, up: str, down: str) -> None:
    # at 4 min one symbol rises to 1.3 (+30) and the other falls to 0.7 (-30): the equity stays 30
    # (one symbol's candle applied alone would show 0 or 60, a drawdown that never happened)
    result = await same_close._run(tmp_path, up, down)
    assert result.liquidations == []
    _assert_metrics_follow_the_curve(result, [(k * MINUTE, 30.0) for k in (1, 2, 3, 4, 5, 5)])
    assert result.metrics.max_drawdown == 0.0
