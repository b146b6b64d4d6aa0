"""In a backtest a trading mode reads a position at the current mark, as in paper trading: the
mark and unrealized PnL of ``ctx.position`` / ``positions_manager.get`` follow the candles even
on candles without fills (the venue values the mark it kept lazily when the position is read).
Isolated long 100 XRP/USDT:USDT at 1.2, 10x, no fees; closes 1.2, 1.3, 1.4, 1.5, 1.5."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import octobot_trading as ot
from tests.backtesting.scripted_futures import XRP, flat, market, scripted_run

CLOSES = ["1.2", "1.2", "1.3", "1.4", "1.5", "1.5"]


async def _read(ctx: Any) -> Any:
    position = ctx.position(XRP)
    managed = ctx.trader.personal_data.positions_manager.get(XRP)
    if position is None:
        return None
    assert managed is not None and (managed.mark_price, managed.unrealized_pnl) == (
        position.mark_price,
        position.unrealized_pnl,
    )
    return (position.mark_price, position.unrealized_pnl)


async def test_isolated_position_reads_follow_the_mark_on_candles_without_fills(tmp_path: Path) -> None:
    result, seen = await scripted_run(
        tmp_path,
        [flat(c) for c in CLOSES],
        {0: market(ot.OrderSide.BUY, "100")},
        every=_read,
        fees=ot.Fees(maker="0", taker="0"),
    )
    # the long opens at the first close (1.2); each later close is its mark
    assert seen == [
        (D("1.2"), D(0)),
        (D("1.2"), D(0)),
        (D("1.3"), D(10)),
        (D("1.4"), D(20)),
        (D("1.5"), D(30)),
        (D("1.5"), D(30)),
    ]
    assert [(p.mark_price, p.unrealized_pnl) for p in result.positions] == [(D("1.5"), D(30))]


async def test_all_positions_read_at_once_show_the_current_mark(tmp_path: Path) -> None:
    async def read_all(ctx: Any) -> Any:
        return [(p.symbol, p.mark_price) for p in ctx.trader.personal_data.positions_manager.positions()]

    _, seen = await scripted_run(
        tmp_path, [flat(c) for c in CLOSES], {0: market(ot.OrderSide.BUY, "100")}, every=read_all
    )
    assert seen[-3:] == [[(XRP, D("1.4"))], [(XRP, D("1.5"))], [(XRP, D("1.5"))]]
