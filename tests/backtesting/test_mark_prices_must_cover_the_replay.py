"""Mark candles must cover every traded candle of their symbol: marks that end before the traded
candles, start after them or leave a gap are refused with ConfigurationError(field="mark_prices")
naming the uncovered candles, before anything is built (the mark would otherwise freeze silently:
no liquidation, stale equity and funding). Long 100 XRP/USDT:USDT at 1.2, 10x isolated, mmr 0.004:
liquidation 1.084337349397590361, initial margin 12, entry fee 0.048."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.errors import ConfigurationError
from tests.backtesting.scripted_futures import MINUTE, T0, flat, market, scripted_run

CRASH = [flat("1.2")] * 4 + [("1.2", "1.2", "0.9", "0.9"), flat("0.9")]
LIQUIDATION = D("1.084337349397590361")


def _registered() -> list[str]:
    return list(ot.exchanges_registry.ids())


async def test_mark_candles_ending_before_the_traded_candles_are_refused_naming_the_gap(tmp_path: Path) -> None:
    before = _registered()
    with pytest.raises(ConfigurationError) as caught:
        await scripted_run(tmp_path, CRASH, {0: market(ot.OrderSide.BUY, "100")}, marks=[flat("1.2")] * 3)
    error = caught.value
    assert (error.field, error.symbol) == ("mark_prices", "XRP/USDT:USDT")
    # traded candles 3..5 (closes 4..6 minutes after T0) have no mark candle
    assert "no mark candle from 2023-11-14 22:03 UTC to 2023-11-14 22:06 UTC (3 traded 1m candle(s))" in str(error)
    assert _registered() == before


async def test_mark_candles_starting_after_the_traded_candles_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await scripted_run(
            tmp_path, CRASH, {0: market(ot.OrderSide.BUY, "100")}, marks=[flat("1.2")] * 4, marks_t0=T0 + 2 * MINUTE
        )
    assert caught.value.field == "mark_prices"
    assert "from 2023-11-14 22:00 UTC to 2023-11-14 22:02 UTC (2 traded 1m candle(s))" in str(caught.value)


async def test_a_gap_inside_the_mark_candles_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "XRP_USDT_USDT-3m-mark.json"
    path.write_text(json.dumps([[T0 + k * 3 * MINUTE, 1.2, 1.2, 1.2, 1.2, 0] for k in (0, 2)]))  # no 22:03 candle
    marks = CandleData.from_file(path, kind="mark")
    with pytest.raises(ConfigurationError) as caught:
        await scripted_run(tmp_path, CRASH + [flat("0.9")] * 3, {}, mark_prices=marks)
    assert caught.value.field == "mark_prices"
    assert "from 2023-11-14 22:03 UTC to 2023-11-14 22:06 UTC (3 traded 1m candle(s))" in str(caught.value)


async def test_covering_coarser_mark_candles_are_accepted_and_judge_the_position(tmp_path: Path) -> None:
    # 3m marks covering the 6 traded minutes: the second one falls to 0.9 -> liquidated at its close
    result, _ = await scripted_run(
        tmp_path,
        CRASH,
        {0: market(ot.OrderSide.BUY, "100")},
        marks=[flat("1.2"), ("1.2", "1.2", "0.9", "0.9")],
        marks_tf="3m",
    )
    assert [(liq.price, liq.margin_lost) for liq in result.liquidations] == [(LIQUIDATION, D(12))]
    assert result.final_portfolio["USDT"] == D(1000) - D("0.048") - 12
