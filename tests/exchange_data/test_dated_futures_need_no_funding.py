"""Dated futures (``BTC/USDT:USDT-261225``) have no funding: a futures manager's readiness waits for
the funding of its perpetuals only, and funding is polled for perpetuals only (market data from
the simulated venue, simulated clock)."""

from __future__ import annotations

import asyncio

from octobot_trading.clock import SimulatedClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.exchange_data.market_data_component import MarketDataComponent
from octobot_trading.exchange_data.readiness import perpetual_symbols
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.util.contract_spec import ContractSpec

XRP, DATED = "XRP/USDT:USDT", "BTC/USDT:USDT-261225"


def test_perpetual_symbols_leave_out_dated_futures_and_spot() -> None:
    assert perpetual_symbols([XRP, DATED, "BTC/USDT", "BTC/USD:BTC", "ETH/USD:ETH-270326"]) == [XRP, "BTC/USD:BTC"]


async def test_readiness_does_not_wait_for_funding_of_a_dated_future() -> None:
    clock = SimulatedClock()
    spec = ContractSpec(contract_size="1", maintenance_margin_rate="0.005")
    venue = SimulatedConnector(clock, markets={XRP: spec, DATED: spec}, market_type=MarketType.LINEAR)
    config = ExchangeConfig(exchange="simulator", market_type=MarketType.LINEAR, symbols=(DATED,))
    component = MarketDataComponent(venue, config, clock, account_topics=False, websockets=False)
    readiness = component.market_data.readiness
    assert not any(t.startswith("funding:") for t in readiness.required)
    await component.start()
    try:
        assert not any(u.name == "rest_funding" for u in component.updaters)  # nothing to poll
        readiness.discard(f"price:{DATED}")  # this simulated venue replays no prices: not the point
        waiting = asyncio.ensure_future(readiness.wait_ready(timeout=30))
        while not waiting.done():
            await clock.run_until(clock.now_ms() + 1000)
        await waiting  # ready without any funding information
    finally:
        await component.stop()
