"""Contract orders cannot use a sub-portfolio: the venue holds one position per contract (per side
in hedge mode) and one margin wallet for the whole account, so positions, margin, realized PnL,
funding and liquidations cannot be split between sub-portfolios. Such an order is refused with
``ConfigurationError(field="sub_portfolio")`` naming the symbol and why, before anything changes
(without the refusal, an order's margin was taken from the sub-portfolio and given back at the
fill, so a sub-portfolio of 10 USDT opened position after position). Spot orders keep their
sub-portfolios. Simulated venue through the real trader (linear XRP/USDT:USDT, leverage 10)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import ConfigurationError
from tests.simulator.test_futures_orders_positions_and_margin import XRP, market, xrp_account


@pytest.mark.parametrize("order_type", [OrderType.MARKET, OrderType.LIMIT])
async def test_a_contract_order_on_a_sub_portfolio_is_refused_naming_why(order_type: OrderType) -> None:
    acc = await xrp_account(wallet="1000")
    portfolios = acc.personal.portfolio_manager
    sub = portfolios.create_sub_portfolio("grid", {"USDT": "10"})
    await market(acc, OrderSide.BUY, "10", "1.2")  # the account itself trades contracts
    before = (acc.asset("USDT"), sub.available("USDT"), sub.total("USDT"))
    for _ in range(2):  # 80 contracts need 9.6 of margin: twice would be more than the 10 allocated
        with pytest.raises(ConfigurationError) as refused:
            await acc.trader.create_order(
                order_type,
                OrderSide.BUY,
                XRP,
                "80",
                price=None if order_type is OrderType.MARKET else "1.2",
                sub_portfolio="grid",
            )
        assert refused.value.field == "sub_portfolio" and refused.value.symbol == XRP
        assert "sub-portfolio" in str(refused.value) and "one margin wallet" in str(refused.value)
    assert (acc.asset("USDT"), sub.available("USDT"), sub.total("USDT")) == before
    assert acc.personal.orders_manager.open_orders(XRP) == []
    held = acc.personal.positions_manager.get(XRP)
    assert held is not None and held.size == D(10)
