"""Cross liquidation with several contract symbols is checked once every symbol with a cross
position has its candle of that close applied: the outcome does not depend on the order the
symbols' candles come in. Wallet 30 USDT, cross 10x longs of 100 XRP/USDT:USDT and 100
ADA/USDT:USDT at 1 (initial margin 10 each), no fees. At one close one symbol goes to 1.3 (+30)
and the other to 0.7 (-30): margin balance 30 - 30 + 30 = 30 > maintenance 0.52 + 0.28."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tests.backtesting.scripted_futures import XRP, flat
from tests.backtesting.two_cross_longs import ADA, run_two_cross_longs


async def _run(tmp_path: Path, up: str, down: str, down_to: str = "0.7") -> Any:
    one = flat("1")
    prices = {
        up: [one, one, one, ("1", "1.3", "1", "1.3"), flat("1.3")],
        down: [one, one, one, ("1", "1", down_to, down_to), flat(down_to)],
    }
    return await run_two_cross_longs(tmp_path, {XRP: prices[XRP], ADA: prices[ADA]})


@pytest.mark.parametrize(("up", "down"), [(XRP, ADA), (ADA, XRP)])
async def test_a_healthy_cross_account_is_not_liquidated_whichever_symbol_falls(
    tmp_path: Path, up: str, down: str
) -> None:
    result = await _run(tmp_path, up, down)
    assert result.liquidations == []
    marks = {p.symbol: (p.size, p.mark_price, p.unrealized_pnl) for p in result.positions}
    assert marks == {up: (D(100), D("1.3"), D(30)), down: (D(100), D("0.7"), D(-30))}
    assert result.final_portfolio["USDT"] == D(30)
    assert result.metrics.final_value == D(30)


@pytest.mark.parametrize(("up", "down"), [(XRP, ADA), (ADA, XRP)])
async def test_an_unhealthy_cross_account_is_liquidated_at_both_marks_of_that_close(
    tmp_path: Path, up: str, down: str
) -> None:
    # the falling symbol goes to 0.35 (-65): margin balance 30 - 65 + 30 = -5 <= maintenance
    result = await _run(tmp_path, up, down, down_to="0.35")
    got = sorted((liq.symbol, liq.price, liq.margin_lost) for liq in result.liquidations)
    # profits first (+30 realized at 1.3: a margin_lost of -30), then the loss (-65) capped at the
    # wallet (30 + 30 = 60)
    assert got == sorted([(up, D("1.3"), D(-30)), (down, D("0.35"), D(60))])
    assert {liq.time for liq in result.liquidations} == {result.trades[0].time + 3 * 60_000}
    assert result.positions == [] and result.final_portfolio.get("USDT", D(0)) == D(0)
    assert result.metrics.realized_pnl == {"USDT": D(30) - D(60)}  # 30 + (-30) = the wallet, 0
