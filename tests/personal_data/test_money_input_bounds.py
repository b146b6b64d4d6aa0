"""Absurd amounts and prices reach the trader as typed errors, quickly, changing nothing."""

from __future__ import annotations

import pytest

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import OctoBotTradingError

from .helpers import make_account


@pytest.mark.parametrize(
    "amount",
    ["1e30", 10**30, "9" * 26, "-1e999999999", "1e-999999999"],
    ids=["1e30", "int_1e30", "26_nines", "huge_negative_exponent_form", "tiny"],
)
async def test_create_order_refuses_an_amount_outside_money_bounds(amount):
    account = await make_account()
    before = account.asset("USDT")
    with pytest.raises(OctoBotTradingError) as excinfo:
        await account.trader.create_order(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", amount=amount, price="100")
    assert len(str(excinfo.value)) < 300
    assert account.asset("USDT") == before
    assert not account.personal.orders_manager.all_orders()
    assert not await account.connector.fetch_open_orders()


@pytest.mark.parametrize("price", ["1e30", "-1e999999999", "1e999999999"])
async def test_create_order_refuses_a_price_outside_money_bounds(price):
    account = await make_account()
    before = account.asset("USDT")
    with pytest.raises(OctoBotTradingError):
        await account.trader.create_order(OrderType.LIMIT, OrderSide.SELL, "BTC/USDT", amount="1", price=price)
    assert account.asset("USDT") == before
    assert not await account.connector.fetch_open_orders()
