"""With mark candles longer than the traded ones, a mark candle's path only acts on positions as
they were at its open: a position opened inside a 5m mark candle is not liquidated by a dip of
that mark candle that happened before it existed; it is checked at the mark close, and the next
mark candle's whole path applies. Long 100 XRP/USDT:USDT at 1.2, 10x isolated, mmr 0.004, no
fees: liquidation 1.084337349397590361, initial margin 12."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import octobot_trading as ot
from tests.backtesting.scripted_futures import XRP, flat, market, scripted_run

LIQUIDATION = D("1.084337349397590361")
NO_FEES = ot.Fees(maker="0", taker="0")
TRADED = [("1.2", "1.2", "1.0", "1.1"), ("1.1", "1.2", "1.1", "1.2")] + [flat("1.2")] * 8


async def test_a_position_opened_inside_a_mark_candle_is_not_liquidated_by_its_earlier_dip(tmp_path: Path) -> None:
    # the first 5m mark candle dips to 1.0 in its first minute; the long opens at the close of minute 3
    result, _ = await scripted_run(
        tmp_path,
        TRADED,
        {2: market(ot.OrderSide.BUY, "100")},
        marks=[("1.2", "1.2", "1.0", "1.2"), flat("1.2")],
        marks_tf="5m",
        fees=NO_FEES,
    )
    assert result.liquidations == []
    assert [(p.symbol, p.size, p.entry_price) for p in result.positions] == [(XRP, D(100), D("1.2"))]
    assert result.final_portfolio["USDT"] == D(1000)


async def test_the_close_of_that_mark_candle_and_the_next_mark_candles_path_still_liquidate(tmp_path: Path) -> None:
    # the mark candle the long opened in closes at 1.0: liquidated at its close
    at_close, _ = await scripted_run(
        tmp_path,
        TRADED,
        {2: market(ot.OrderSide.BUY, "100")},
        marks=[("1.2", "1.2", "1.0", "1.0"), flat("1.0")],
        marks_tf="5m",
        fees=NO_FEES,
    )
    assert [(liq.price, liq.margin_lost) for liq in at_close.liquidations] == [(LIQUIDATION, D(12))]
    assert at_close.liquidations[0].time == at_close.trades[0].time + 2 * 60_000  # the first mark close
    # opened before the second mark candle: its dip to 1.0 liquidates
    following, _ = await scripted_run(
        tmp_path,
        TRADED,
        {2: market(ot.OrderSide.BUY, "100")},
        marks=[("1.2", "1.2", "1.0", "1.2"), ("1.2", "1.2", "1.0", "1.2")],
        marks_tf="5m",
        fees=NO_FEES,
    )
    assert [(liq.price, liq.margin_lost) for liq in following.liquidations] == [(LIQUIDATION, D(12))]
    assert following.final_portfolio["USDT"] == D(988)
