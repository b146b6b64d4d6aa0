"""Where no mark candle holds a traded candle's close — mark candles ending before the traded
candles, starting after them, or a gap — the traded candle is the mark for that candle (never a
frozen stale mark); run_backtest logs one warning naming the candles and returns them in
result.mark_fallback, the report states it. Long 100 XRP/USDT:USDT at 1.2, 10x isolated, mmr
0.004, taker fee 0.0004: liquidation 1.084337349397590361, initial margin 12, entry fee 0.048."""

from __future__ import annotations

import json
import logging
from decimal import Decimal as D
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.backtesting.mark_coverage import MarkFallback
from octobot_trading.backtesting.report import render_report
from tests.backtesting.scripted_futures import MINUTE, T0, XRP, flat, market, scripted_run

CRASH = [flat("1.2")] * 4 + [("1.2", "1.2", "0.9", "0.9"), flat("0.9")]
LIQUIDATION = D("1.084337349397590361")
LIQUIDATED_WALLET = D(1000) - D("0.048") - 12


async def test_after_the_last_mark_candle_the_traded_candles_are_the_mark(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="octobot_trading.backtesting.mark_coverage"):
        result, _ = await scripted_run(tmp_path, CRASH, {0: market(ot.OrderSide.BUY, "100")}, marks=[flat("1.2")] * 3)
    assert [(liq.time, liq.price, liq.margin_lost) for liq in result.liquidations] == [
        (T0 + 5 * MINUTE, LIQUIDATION, D(12))
    ]
    assert result.positions == [] and result.final_portfolio["USDT"] == LIQUIDATED_WALLET
    assert result.mark_fallback == [MarkFallback(XRP, T0 + 3 * MINUTE, T0 + 6 * MINUTE, 3)]
    assert "mark_prices do not cover 3 traded candle(s)" in caplog.text
    assert "XRP/USDT:USDT 2023-11-14 22:03 UTC to 2023-11-14 22:06 UTC (3 candle(s))" in caplog.text
    assert "the traded candle is the mark there" in render_report(result)


async def test_before_the_first_mark_candle_the_traded_candles_are_the_mark(tmp_path: Path) -> None:
    # the crash is in traded candle 2; the marks start at candle 3 (flat at 0.9 afterwards)
    prices = [flat("1.2"), flat("1.2"), ("1.2", "1.2", "0.9", "0.9")] + [flat("0.9")] * 3
    result, _ = await scripted_run(
        tmp_path, prices, {0: market(ot.OrderSide.BUY, "100")}, marks=[flat("0.9")] * 3, marks_t0=T0 + 3 * MINUTE
    )
    assert [(liq.time, liq.price) for liq in result.liquidations] == [(T0 + 3 * MINUTE, LIQUIDATION)]
    assert result.final_portfolio["USDT"] == LIQUIDATED_WALLET
    assert result.mark_fallback == [MarkFallback(XRP, T0, T0 + 3 * MINUTE, 3)]


async def test_in_a_gap_of_the_mark_candles_the_traded_candles_are_the_mark(tmp_path: Path) -> None:
    path = tmp_path / "XRP_USDT_USDT-3m-mark.json"
    path.write_text(json.dumps([[T0 + k * 3 * MINUTE, 1.2, 1.2, 1.2, 1.2, 0] for k in (0, 2)]))  # no 22:03 candle
    marks = CandleData.from_file(path, kind="mark")
    result, _ = await scripted_run(
        tmp_path, CRASH + [flat("1.2")] * 3, {0: market(ot.OrderSide.BUY, "100")}, mark_prices=marks
    )
    # traded candle 4 (in the gap) falls through the liquidation price
    assert [(liq.time, liq.price) for liq in result.liquidations] == [(T0 + 5 * MINUTE, LIQUIDATION)]
    assert result.mark_fallback == [MarkFallback(XRP, T0 + 3 * MINUTE, T0 + 6 * MINUTE, 3)]


async def test_covering_coarser_mark_candles_judge_the_position_and_report_no_fallback(tmp_path: Path) -> None:
    # 3m marks covering the 6 traded minutes: the second one falls to 0.9 -> liquidated at its close
    result, _ = await scripted_run(
        tmp_path,
        CRASH,
        {0: market(ot.OrderSide.BUY, "100")},
        marks=[flat("1.2"), ("1.2", "1.2", "0.9", "0.9")],
        marks_tf="3m",
    )
    assert [(liq.time, liq.price, liq.margin_lost) for liq in result.liquidations] == [
        (T0 + 6 * MINUTE, LIQUIDATION, D(12))
    ]
    assert result.final_portfolio["USDT"] == LIQUIDATED_WALLET
    assert result.mark_fallback == []
