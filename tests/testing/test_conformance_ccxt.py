"""The connector conformance suite run against CCXTConnector + the fake Binance server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeExchangeServer, default_markets
from octobot_trading.testing.conformance import ConnectorConformance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fake_exchange"


@asynccontextmanager
async def _connector_on(server: FakeExchangeServer) -> AsyncIterator[CCXTConnector]:
    """The ccxt connector on ``server`` (started here; both closed after)."""
    async with server:
        config = ExchangeConfig(
            exchange="binance",
            api_key=server.api_key,
            api_secret=server.api_secret,
            ccxt_options={**server.ccxt_config(), "rateLimit": 1},
        )
        conn = CCXTConnector(config, LiveClock(), client_hook=server.client_hook)
        try:
            yield conn
        finally:
            await conn.close()


class TestCCXTConnectorConformance(ConnectorConformance):
    symbol = "BTC/USDT"
    time_frame = "5m"

    @pytest.fixture
    async def connector(self) -> AsyncIterator[CCXTConnector]:
        async with _connector_on(FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=50)) as conn:
            yield conn


class TestCCXTConnectorConformanceOnPackagedData(ConnectorConformance):
    """Same suite on the data shipped inside the package (1h candles), ETH/USDT."""

    symbol = "ETH/USDT"
    time_frame = "1h"

    @pytest.fixture
    async def connector(self) -> AsyncIterator[CCXTConnector]:
        async with _connector_on(FakeExchangeServer()) as conn:
            yield conn
