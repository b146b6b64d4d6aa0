"""A cross one-way flip at a loss that the venue refuses says how much margin the order needs,
a positive amount above what is available, even though the account's margin is already below 0
(the flip improves it, not enough). Simulated venue through the real trader (linear
XRP/USDT:USDT, contract size 1, leverage 10, taker fee 0.0004)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import MarginMode, OrderSide, PositionSide
from octobot_trading.errors import InsufficientFunds
from tests.simulator.test_futures_orders_positions_and_margin import XRP, local_matches_venue, market, xrp_account


async def test_a_refused_cross_flip_at_a_loss_names_a_positive_need_above_the_available_margin() -> None:
    acc = await xrp_account(wallet="10", margin_mode=MarginMode.CROSS)
    await market(acc, OrderSide.BUY, "80", "1.2")  # wallet 9.9616, margin 9.6
    acc.prices[XRP] = D("1.1")
    await acc.connector.on_price(XRP, D("1.1"))  # unrealized -8: the cross margin is below 0
    before = acc.asset("USDT")
    # closing at 1.1 realizes -8 and pays 0.066 fee (wallet 1.8956); the 70-contract short needs 7.7
    with pytest.raises(InsufficientFunds) as refused:
        await market(acc, OrderSide.SELL, "150", "1.1")
    assert "needs 5.8044, 0 available" in str(refused.value)
    assert acc.asset("USDT") == before
    long = acc.personal.positions_manager.get(XRP)
    assert long is not None and (long.side, long.size) == (PositionSide.LONG, D(80))
    await local_matches_venue(acc)
