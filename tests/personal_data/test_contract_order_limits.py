"""Contract order limits: a reduce-only close below the market's min cost is accepted (as Binance
accepts reduce-only closes under its min notional) by the trader and the simulated venue, an order
that opens is still refused; an inverse contract's min / max cost bound its notional in the settle
currency (contracts x contract size / price), not its price."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import MarketType, OrderSide, OrderType
from octobot_trading.errors import InvalidOrder
from octobot_trading.exchanges.connectors.simulator.order_rules import adapt_order
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.util.contract_spec import ContractSpec

XRP = "XRP/USDT:USDT"
BTC_INV = "BTC/USD:BTC"


def _linear() -> ContractSpec:
    return ContractSpec(
        min_cost="5", amount_step="0.1", price_tick="0.0001", maintenance_margin_rate="0.004"
    ).for_symbol(XRP)


def test_a_reduce_only_order_below_min_cost_passes_the_limits_and_an_opening_one_does_not() -> None:
    spec = _linear()
    with pytest.raises(InvalidOrder) as refused:
        spec.check_limits(D("2"), D("1"))
    assert refused.value.limit == "min_cost"
    spec.check_limits(D("2"), D("1"), reduce_only=True)


def test_the_simulated_venue_rules_exempt_a_reduce_only_order_from_min_cost() -> None:
    market = MarketInfo(symbol=XRP, base="XRP", quote="USDT", market_type=MarketType.LINEAR, spec=_linear())
    args = (market, OrderType.LIMIT, OrderSide.SELL, D("2"), D("1"), None, D("1"), "simulator")
    with pytest.raises(InvalidOrder):
        adapt_order(*args)
    assert adapt_order(*args, True)[0] == D("2")


def test_an_inverse_contract_cost_is_its_notional_in_the_settle_currency() -> None:
    spec = ContractSpec(
        contract_size="100", min_cost="0.001", max_cost="1", amount_step="1", maintenance_margin_rate="0.005"
    ).for_symbol(BTC_INV)
    assert spec.order_cost(D("10"), D("50000")) == D("0.02")  # 1000 USD at 50000: 0.02 BTC
    spec.check_limits(D("10"), D("50000"))
    with pytest.raises(InvalidOrder) as small:
        spec.check_limits(D("1"), D("200000"))  # 100 USD at 200000: 0.0005 BTC
    assert small.value.limit == "min_cost"
    with pytest.raises(InvalidOrder) as large:
        spec.check_limits(D("1000"), D("50000"))  # 100000 USD: 2 BTC
    assert large.value.limit == "max_cost"
