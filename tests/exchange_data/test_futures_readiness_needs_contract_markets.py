"""A futures manager's ``contracts`` readiness topic: seen once every configured symbol is a listed
contract market with a contract size; a symbol the venue lists as spot leaves it missing, so
``wait_ready`` names it (market data from the simulated venue, simulated clock)."""

from __future__ import annotations

import asyncio

import pytest

from octobot_trading import errors
from octobot_trading.clock import SimulatedClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.exchange_data.market_data_component import MarketDataComponent
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.util.contract_spec import ContractSpec
from octobot_trading.util.market_spec import MarketSpec

XRP = "XRP/USDT:USDT"


@pytest.mark.parametrize(
    ("market_type", "spec", "ready"),
    [
        (MarketType.LINEAR, ContractSpec(contract_size="10", maintenance_margin_rate="0.005"), True),
        (MarketType.SPOT, MarketSpec(), False),
    ],
)
async def test_contracts_are_ready_only_for_listed_contract_markets(
    market_type: MarketType, spec: MarketSpec, ready: bool
) -> None:
    clock = SimulatedClock()
    venue = SimulatedConnector(clock, markets={XRP: spec}, market_type=market_type)
    config = ExchangeConfig(exchange="simulator", market_type=MarketType.LINEAR, symbols=(XRP,))
    component = MarketDataComponent(venue, config, clock, account_topics=False, websockets=False)
    readiness = component.market_data.readiness
    await component.start()
    try:
        assert readiness.is_seen("contracts") is ready
        readiness.discard(*[t for t in readiness.required if t != "contracts"])  # the rest is not the point
        waiting = asyncio.ensure_future(readiness.wait_ready(timeout=5))
        while not waiting.done():
            await clock.run_until(clock.now_ms() + 1000)
        if ready:
            await waiting
        else:
            with pytest.raises(errors.ReadinessTimeout) as caught:
                await waiting
            assert caught.value.missing == ("contracts",)
    finally:
        await component.stop()
