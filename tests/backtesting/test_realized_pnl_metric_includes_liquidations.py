"""The "Realized PnL" metric includes what liquidations realized (-margin_lost), so that
start + realized PnL - fees + net funding is exactly the final wallet. Long 100 XRP/USDT:USDT at
1.2, 10x isolated, mmr 0.004, taker fee 0.0004: sell 50 at 1.3 (realized +5, fee 0.026), then
the price falls through the liquidation price of the 50 left (their initial margin 6 is lost)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import octobot_trading as ot
from octobot_trading.backtesting.report import render_report
from tests.backtesting.scripted_futures import flat, market, scripted_run


async def test_realized_pnl_counts_the_liquidation_and_the_wallet_identity_holds(tmp_path: Path) -> None:
    prices = [flat("1.2"), flat("1.3"), ("1.3", "1.3", "0.9", "0.9"), flat("0.9")]
    result, _ = await scripted_run(
        tmp_path, prices, {0: market(ot.OrderSide.BUY, "100"), 1: market(ot.OrderSide.SELL, "50")}
    )
    assert [t.realized_pnl for t in result.trades] == [D(0), D(5)]
    assert [(liq.size, liq.margin_lost) for liq in result.liquidations] == [(D(50), D(6))]
    fees = D("0.048") + D("0.026")
    assert result.metrics.realized_pnl == {"USDT": D(5) - D(6)}
    assert result.metrics.fees_paid == {"USDT": fees}
    wallet = D(1000) + result.metrics.realized_pnl["USDT"] - fees + result.metrics.funding.get("USDT", D(0))
    assert result.final_portfolio["USDT"] == wallet == D("998.926")
    assert ("Realized PnL", "-1 USDT") in result.metrics.rows()
    assert "-1 USDT" in render_report(result)
