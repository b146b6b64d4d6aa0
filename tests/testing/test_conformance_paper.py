"""The conformance suite against the simulated connector in paper mode (market data from the fake server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.testing import FakeExchangeServer, default_markets
from octobot_trading.testing.conformance import ConnectorConformance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fake_exchange"


class TestPaperConnectorConformance(ConnectorConformance):
    symbol = "BTC/USDT"
    time_frame = "5m"

    @pytest.fixture
    async def connector(self) -> AsyncIterator[SimulatedConnector]:
        async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=50) as server:
            config = ExchangeConfig(exchange="binance", ccxt_options={**server.ccxt_config(), "rateLimit": 1})
            market_data = CCXTConnector(config, LiveClock(), client_hook=server.client_hook)
            # paper trading prices market orders at the venue's last traded price
            paper = SimulatedConnector(
                LiveClock(),
                market_data=market_data,
                starting_balances={"USDT": Decimal("10000"), "BTC": Decimal("1")},
                price_source=lambda symbol: server.state.markets[symbol.replace("/", "")].last_price,
            )
            try:
                yield paper
            finally:
                await paper.close()
                await market_data.close()
