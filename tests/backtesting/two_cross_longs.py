"""The cross-liquidation backtests' account: wallet 30 USDT, cross 10x longs of 100 of each of
``XRP/USDT:USDT`` and ``ADA/USDT:USDT`` at 1 (initial margin 10 each), no fees.

``await run_two_cross_longs(tmp_path, {symbol: prices, ...})`` writes each symbol's 1m candles,
opens both longs before the first candle and returns the backtest's result; a symbol given beyond
XRP and ADA is traded by no one (same contract spec).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import octobot_trading as ot
from tests.backtesting.scripted_futures import XRP, Prices, scripted_run, write_candles

ADA = "ADA/USDT:USDT"
NO_FEES = ot.Fees(maker="0", taker="0")
SPEC = ot.ContractSpec(leverage="10", maintenance_margin_rate="0.004")


async def _two_cross_longs(ctx: Any) -> None:
    for symbol in (XRP, ADA):
        await ctx.trader.set_margin_mode(symbol, ot.MarginMode.CROSS)
        await ctx.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, symbol, "100")


async def run_two_cross_longs(tmp_path: Path, prices: Mapping[str, Prices]) -> Any:
    """The backtest's result over ``prices`` (1m candles of each symbol, from the same time)."""
    files = [
        write_candles(tmp_path / f"{symbol.replace('/', '_').replace(':', '_')}-1m.json", p)
        for symbol, p in prices.items()
    ]
    data = files[0]
    for more in files[1:]:
        data = data.merge(more)
    result, _ = await scripted_run(
        tmp_path, [], {0: _two_cross_longs}, data=data, contracts=dict.fromkeys(prices, SPEC), start="30", fees=NO_FEES
    )
    return result
