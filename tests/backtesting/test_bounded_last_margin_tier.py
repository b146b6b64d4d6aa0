"""Past the last margin tier's ``max_notional`` its rate (and maintenance amount) still apply, for
the maintenance margin and the isolated liquidation price alike: a position larger than the last
(bounded) tier is liquidated like any other. 10x isolated long of 100,000 XRP/USDT:USDT at 1 with
one tier bounded at 50,000 notional, rate 0.004: margin 10,000, liquidation price
(1 x 100000 - 10000) / (100000 x 0.996) = 0.903614..."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.personal_data.positions import contract_math as cm
from tests.backtesting.scripted_futures import XRP, flat, scripted_run

SPEC = ot.ContractSpec(leverage="10", margin_tiers=(ot.MarginTier("50000", "0.004"),))


def test_the_liquidation_price_past_the_last_bounded_tier_uses_that_tier() -> None:
    price = cm.liquidation_price(SPEC, ot.PositionSide.LONG, D(100000), D(1), D(10000), kind="linear")
    assert price is not None
    assert abs(price - D(90000) / D(99600)) < D("1e-17")
    assert SPEC.maintenance_margin(D(100000)) == D(400)


async def test_a_position_beyond_the_last_bounded_tier_is_liquidated_losing_its_margin(tmp_path: Path) -> None:
    async def entry(ctx: Any) -> None:
        await ctx.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, "100000")

    prices = [flat("1"), flat("1"), ("1", "1", "0.5", "0.5"), flat("0.5")]
    result, _ = await scripted_run(
        tmp_path, prices, {0: entry}, spec=SPEC, start="100000", fees=ot.Fees(maker="0", taker="0")
    )
    assert [(liq.side, liq.margin_lost) for liq in result.liquidations] == [(ot.PositionSide.LONG, D(10000))]
    assert result.positions == []
    assert result.final_portfolio["USDT"] == D(90000)
