"""Contract symbols in paper trading (prices applied one by one) and the builder's contract option."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.util.contract_spec import ContractSpec
from tests.simulator.test_futures_orders_positions_and_margin import XRP, xrp_account, xrp_spec


async def test_paper_mark_prices_move_the_position_and_a_price_past_the_liquidation_price_liquidates():
    acc = await xrp_account()
    await acc.trader.create_order(OrderType.MARKET, OrderSide.BUY, XRP, "100")  # at 1.2, liquidation ~1.0843
    await acc.connector.on_price(XRP, D("1.25"))
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and (position.mark_price, position.unrealized_pnl) == (D("1.25"), D(5))
    await acc.connector.on_price(XRP, D("1.08"))
    (liquidation,) = acc.connector.liquidations
    assert (liquidation.side, liquidation.price) == (PositionSide.LONG, D("1.084337349397590361"))
    assert acc.personal.positions_manager.get(XRP) is None


async def test_paper_closed_candle_checks_the_whole_candle_path_for_liquidation():
    acc = await xrp_account()
    await acc.trader.create_order(OrderType.MARKET, OrderSide.SELL, XRP, "100")  # short at 1.2
    now = acc.clock.now_ms()
    await acc.connector.on_closed_candle(XRP, now, now + 60_000, D("1.2"), D("1.35"), D("1.19"), D("1.2"))
    (liquidation,) = acc.connector.liquidations
    assert liquidation.side is PositionSide.SHORT and liquidation.margin_lost == D(12)


def test_the_builder_refuses_a_contract_spec_for_a_spot_symbol():
    with pytest.raises(ConfigurationError) as refused:
        ExchangeBuilder("binance").with_contracts({"BTC/USDT": xrp_spec()})
    assert refused.value.field == "contracts"
    with pytest.raises(ConfigurationError):
        ExchangeBuilder("binance").with_contracts({XRP: ot.MarketSpec()})  # type: ignore[dict-item]


async def test_paper_venue_trades_a_listed_contract_with_the_spec_given_before_its_markets_loaded():
    clock = ot.clock.SimulatedClock(1_700_000_000_000)
    live_side = SimulatedConnector(clock, markets={XRP: ot.MarketSpec(price_tick="0.0001", amount_step="1")})
    paper = SimulatedConnector(clock, starting_balances={"USDT": "100"}, market_data=live_side)
    paper.enable_futures({XRP: xrp_spec(position_mode=PositionMode.HEDGE, leverage="20")})
    markets = await paper.load_markets()
    spec = markets[XRP].spec
    assert isinstance(spec, ContractSpec) and (spec.position_mode, spec.leverage) == (PositionMode.HEDGE, D(20))
    assert markets[XRP].settle == "USDT"
    assert (await paper.fetch_balance())["USDT"].total == D(100)
