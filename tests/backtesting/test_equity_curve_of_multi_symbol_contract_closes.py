"""The equity curve of a backtest trading several contract symbols samples a close once every
candle closing then was applied and the cross check of that close ran, also a check that waited
for a symbol with no candle at that close. Wallet 30 USDT, cross 10x longs of 100 XRP/USDT:USDT
and 100 ADA/USDT:USDT at 1, no fees: the equity at a close is the wallet plus both positions'
unrealized PnL at that close's marks, 0 once they are liquidated (computed here by hand)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from tests.backtesting import test_cross_liquidation_waits_for_every_symbol as same_close
from tests.backtesting import test_waiting_cross_check_runs_later as waiting
from tests.backtesting.scripted_futures import MINUTE, T0, XRP, flat, scripted_run, write_candles
from tests.backtesting.two_cross_longs import ADA, NO_FEES, SPEC


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


async def _longs_and_a_take_profit(ctx: Any) -> None:
    for symbol in (XRP, ADA):
        await ctx.trader.set_margin_mode(symbol, ot.MarginMode.CROSS)
        await ctx.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, symbol, "100")
    await ctx.trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.SELL, XRP, "100", "1.5")


async def test_a_waiting_cross_check_runs_before_a_later_close_fills_anything(tmp_path: Path) -> None:
    # ADA falls to 0.35 at 4 min, where XRP has no candle (margin balance 30 - 65 = -35); XRP's next
    # candle, at 5 min, reaches a resting sell at 1.5 (+50). The account was liquidated at 4 min:
    # the later fill does not rescue it, and the sell is canceled with the liquidated position.
    one = flat("1")
    xrp = [[T0 + k * MINUTE, 1.0, 1.0, 1.0, 1.0, 1000] for k in (0, 1, 2)] + [
        [T0 + 4 * MINUTE, 1.0, 1.5, 1.0, 1.5, 1000]
    ]
    (tmp_path / "XRP_USDT_USDT-1m.json").write_text(json.dumps(xrp))
    data = CandleData.from_file(tmp_path / "XRP_USDT_USDT-1m.json").merge(
        write_candles(tmp_path / "ADA_USDT_USDT-1m.json", [one, one, one, ("1", "1", "0.35", "0.35")])
    )
    result, _ = await scripted_run(
        tmp_path,
        [],
        {0: _longs_and_a_take_profit},
        data=data,
        contracts={XRP: SPEC, ADA: SPEC},
        start="30",
        fees=NO_FEES,
    )
    got = sorted((liq.symbol, liq.time - T0, liq.price, liq.margin_lost) for liq in result.liquidations)
    assert got == [(ADA, 4 * MINUTE, D("0.35"), D(30)), (XRP, 4 * MINUTE, D("1.0"), D(0))]
    assert [trade.symbol for trade in result.trades] == [XRP, ADA]  # the two entries, no take-profit fill
    assert result.final_portfolio.get("USDT", D(0)) == D(0) and result.positions == []
    _assert_metrics_follow_the_curve(
        result, [(k * MINUTE, 30.0) for k in (1, 2, 3)] + [(k * MINUTE, 0.0) for k in (4, 5, 5)]
    )
