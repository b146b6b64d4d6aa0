"""A cross check that waits for a symbol with no candle at that close runs at the next later
candle of any symbol, also of a symbol without a position whose quiet candles the backtest skips
cheaply, and at the end of the replay when no later candle comes. Wallet 30 USDT, cross 10x longs
of 100 XRP/USDT:USDT and 100 ADA/USDT:USDT at 1, no fees; ADA falls to 0.35 at the close where
XRP has no candle: margin balance 30 - 65 = -35 <= maintenance, both positions are liquidated at
that close's marks (XRP at 1, ADA at 0.35) and the wallet ends at 0."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.backtesting.scripted_futures import XRP, flat
from tests.backtesting.two_cross_longs import ADA, run_two_cross_longs

DOGE = "DOGE/USDT:USDT"


async def _run(tmp_path: Path, doge_candles: int) -> Any:
    one = flat("1")
    prices = {XRP: [one, one, one], ADA: [one, one, one, ("1", "1", "0.35", "0.35")]}
    if doge_candles:
        prices[DOGE] = [one] * doge_candles
    return await run_two_cross_longs(tmp_path, prices)


def _assert_liquidated_at_the_falling_close(result: Any) -> None:
    got = sorted((liq.symbol, liq.price, liq.margin_lost) for liq in result.liquidations)
    assert got == [(ADA, D("0.35"), D(30)), (XRP, D("1.0"), D(0))]
    assert {liq.time for liq in result.liquidations} == {result.trades[0].time + 3 * 60_000}
    assert result.positions == []
    assert result.final_portfolio.get("USDT", D(0)) == D(0)


async def test_a_waiting_cross_check_runs_at_a_later_candle_of_a_symbol_without_position(tmp_path: Path) -> None:
    _assert_liquidated_at_the_falling_close(await _run(tmp_path, doge_candles=5))


async def test_a_waiting_cross_check_runs_when_the_replay_ends(tmp_path: Path) -> None:
    _assert_liquidated_at_the_falling_close(await _run(tmp_path, doge_candles=0))
