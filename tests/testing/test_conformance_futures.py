"""The futures conformance suite against the ccxt connector on the fake USDⓈ-M venue (real ccxt
``binanceusdm`` client, loopback) and against paper trading's simulated futures venue fed by it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.futures_conformance import FuturesConnectorConformance

XRP = "XRP/USDT:USDT"


def _linear_connector(server: FakeFuturesServer) -> CCXTConnector:
    config = ExchangeConfig(
        exchange="binanceusdm",
        market_type=MarketType.LINEAR,
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options={**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
        symbols=(XRP,),
    )
    return CCXTConnector(config, LiveClock(), client_hook=server.client_hook)


class TestCCXTFuturesConformance(FuturesConnectorConformance):
    symbol = XRP
    server: FakeFuturesServer

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        self.server.set_mark_price("XRPUSDT", price)

    @pytest.fixture
    async def connector(self) -> AsyncIterator[CCXTConnector]:
        async with FakeFuturesServer() as server:
            self.server = server
            connector = _linear_connector(server)
            try:
                yield connector
            finally:
                await connector.close()


class TestPaperFuturesConformance(FuturesConnectorConformance):
    symbol = XRP

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        assert isinstance(connector, SimulatedConnector)
        await connector.on_price(XRP, price)  # paper trading's mark price: the price it is fed

    @pytest.fixture
    async def connector(self) -> AsyncIterator[SimulatedConnector]:
        async with FakeFuturesServer() as server:
            market_data = _linear_connector(server)
            paper = SimulatedConnector(
                LiveClock(),
                market_data=market_data,
                starting_balances={"USDT": Decimal("10000")},
                price_source=lambda symbol: server.market(symbol.split(":")[0].replace("/", "")).last_price,
                market_type=MarketType.LINEAR,
            )
            paper.enable_futures({})
            try:
                yield paper
            finally:
                await paper.close()
                await market_data.close()

    async def test_bad_leverage_and_unknown_symbols_raise_typed_errors(self, connector: ExchangeConnector) -> None:
        await super().test_bad_leverage_and_unknown_symbols_raise_typed_errors(connector)
