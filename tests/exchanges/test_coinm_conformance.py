"""The futures conformance suite on inverse contracts: against the ccxt connector on the fake COIN-M
venue (real ccxt ``binancecoinm`` client, loopback, ``BTC/USD:BTC`` margined in BTC) and against
paper trading's simulated futures venue fed by it."""

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
from octobot_trading.testing import FakeCoinMServer
from octobot_trading.testing.futures_conformance import FuturesConnectorConformance

BTC = "BTC/USD:BTC"
VENUE_ID = "BTCUSD_PERP"


def coinm_connector(server: FakeCoinMServer) -> CCXTConnector:
    """The ccxt connector (``binancecoinm``) trading ``BTC/USD:BTC`` on ``server``."""
    config = ExchangeConfig(
        exchange="binancecoinm",
        market_type=MarketType.INVERSE,
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options={**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
        symbols=(BTC,),
    )
    return CCXTConnector(config, LiveClock(), client_hook=server.client_hook)


class TestCCXTCoinMConformance(FuturesConnectorConformance):
    symbol = BTC
    unlisted_symbol = "NOTLISTED/USD:NOTLISTED"
    server: FakeCoinMServer

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        self.server.set_mark_price(VENUE_ID, price)

    @pytest.fixture
    async def connector(self) -> AsyncIterator[CCXTConnector]:
        async with FakeCoinMServer() as server:
            self.server = server
            connector = coinm_connector(server)
            try:
                yield connector
            finally:
                await connector.close()


class TestPaperCoinMConformance(FuturesConnectorConformance):
    symbol = BTC
    unlisted_symbol = "NOTLISTED/USD:NOTLISTED"

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        assert isinstance(connector, SimulatedConnector)
        await connector.on_price(BTC, price)  # paper trading's mark price: the price it is fed

    @pytest.fixture
    async def connector(self) -> AsyncIterator[SimulatedConnector]:
        async with FakeCoinMServer() as server:
            market_data = coinm_connector(server)
            paper = SimulatedConnector(
                LiveClock(),
                market_data=market_data,
                starting_balances={"BTC": Decimal("1")},
                price_source=lambda symbol: server.market(VENUE_ID).last_price,
                market_type=MarketType.INVERSE,
            )
            paper.enable_futures({})
            try:
                yield paper
            finally:
                await paper.close()
                await market_data.close()
