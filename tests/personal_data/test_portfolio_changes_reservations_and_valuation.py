"""Portfolio accounting: atomic changes, reservations, settlement, sub-portfolios, valuation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import ConfigurationError, InsufficientFunds, PortfolioNegativeBalance
from octobot_trading.personal_data.orders import create_order_instance
from octobot_trading.personal_data.portfolios import BalanceChange, Portfolio, PortfolioManager, PortfolioValuator

D = Decimal
CLOCK = SimulatedClock(0)


def test_get_currency_portfolio_api():
    portfolio = Portfolio({"USDT": "100"})
    asset = portfolio.get_currency_portfolio("USDT")
    assert (asset.available, asset.total) == (D(100), D(100))
    assert portfolio.get_currency_portfolio("BTC").total == 0


def test_float_balance_refused():
    with pytest.raises(TypeError):
        Portfolio({"USDT": 1.5})  # type: ignore[dict-item]


def test_atomic_rollback_on_negative():
    portfolio = Portfolio({"USDT": "100", "BTC": "1"})
    before = portfolio.snapshot()
    with pytest.raises(PortfolioNegativeBalance) as info:
        portfolio.apply(
            [BalanceChange("USDT", total=D(-50), available=D(-50)), BalanceChange("BTC", total=D(-2), available=D(-2))]
        )
    assert info.value.currency == "BTC"
    assert portfolio.snapshot() == before
    with pytest.raises(PortfolioNegativeBalance):
        portfolio.apply([BalanceChange("USDT", available=D(1))])  # available above total
    assert portfolio.snapshot() == before


def test_reserve_release_and_settle_buy_exactly():
    manager = PortfolioManager({"USDT": "1000"})
    order = create_order_instance("limit", "buy", "BTC/USDT", "2", "100", clock=CLOCK)
    currency, amount = manager.reservation_for(order, order.price)
    assert (currency, amount) == ("USDT", D(200))
    manager.reserve(order, currency, amount)
    usdt = manager.portfolio.get_currency_portfolio("USDT")
    assert (usdt.total, usdt.available) == (D(1000), D(800))
    order.status = order.status.OPEN
    manager.settle_fill(order, D("0.5"), D(100), D("0.0005"), "BTC")
    order.apply_fill(D("0.5"), D(100))
    assert manager.portfolio.snapshot() == {"USDT": (D(950), D(800)), "BTC": (D("0.4995"), D("0.4995"))}
    manager.release(order)
    assert manager.portfolio.snapshot()["USDT"] == (D(950), D(950))


def test_insufficient_funds_changes_nothing():
    manager = PortfolioManager({"USDT": "100"})
    order = create_order_instance("limit", "buy", "BTC/USDT", "2", "100", clock=CLOCK)
    with pytest.raises(InsufficientFunds):
        manager.reserve(order, "USDT", D(200))
    assert manager.portfolio.snapshot() == {"USDT": (D(100), D(100))}
    assert order.reserved_amount == 0 and order.reserved_currency is None


def test_fee_in_spent_currency_is_reserved_when_configured():
    manager = PortfolioManager({"USDT": "1000"}, reserve_fees_in_spent_currency=True)
    order = create_order_instance("limit", "buy", "BTC/USDT", "1", "100", clock=CLOCK)
    assert manager.reservation_for(order, order.price, D("0.001")) == ("USDT", D("100.1"))


def test_sub_portfolios_partition_the_account():
    manager = PortfolioManager({"USDT": "1000", "BTC": "1"})
    grid = manager.create_sub_portfolio("grid", {"USDT": "600"})
    assert grid.get_currency_portfolio("USDT").total == D(600)
    assert manager.unallocated_available("USDT") == D(400)
    with pytest.raises(InsufficientFunds):
        manager.create_sub_portfolio("dca", {"USDT": "500"})
    with pytest.raises(ConfigurationError):
        manager.create_sub_portfolio("grid", {"USDT": "1"})
    order = create_order_instance("limit", "buy", "BTC/USDT", "5", "100", clock=CLOCK, sub_portfolio="grid")
    manager.reserve(order, "USDT", D(500))
    assert grid.snapshot()["USDT"] == (D(600), D(100))
    assert manager.portfolio.snapshot()["USDT"] == (D(1000), D(500))
    root_order = create_order_instance("limit", "buy", "BTC/USDT", "5", "100", clock=CLOCK)
    with pytest.raises(InsufficientFunds):  # the main part cannot spend the grid's funds
        manager.reserve(root_order, "USDT", D(450))
    manager.transfer("USDT", D(100), "grid", None)
    assert grid.snapshot()["USDT"] == (D(500), D(0))
    assert manager.unallocated_available("USDT") == D(500)


def test_multi_hop_valuation_and_profitability():
    prices = {"BTC/USDT": D(20000), "ETH/BTC": D("0.05")}
    valuator = PortfolioValuator("USDT", ["BTC/USDT", "ETH/BTC"], prices.get)
    assert valuator.rate("ETH") == D(1000)  # ETH -> BTC -> USDT
    assert valuator.rate("USDT") == 1
    assert valuator.rate("DOGE") is None
    assert valuator.value({"ETH": D(2), "BTC": D("0.5"), "USDT": D(10)}) == D(12010)
    starting = {"USDT": D(10000)}
    current = {"BTC": D("0.6")}
    result = valuator.profitability(current, starting)
    assert result.value == D(12000) and result.vs_start_percent == D(20)
    hold = valuator.profitability({"USDT": D(10000)}, {"BTC": D("0.5")}, starting_value=D(9000))
    assert hold.holding_value == D(10000)
    assert hold.vs_holding_percent == 0
    assert hold.vs_start_percent == (D(1000) / D(9000)) * 100
    inverse = PortfolioValuator("BTC", ["BTC/USDT"], prices.get)
    assert inverse.rate("USDT") == D(1) / D(20000)
