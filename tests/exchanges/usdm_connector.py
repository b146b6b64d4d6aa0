"""The ccxt connector (real ``binanceusdm`` client) on a fresh fake USDⓈ-M venue, for the connector tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.testing import FakeFuturesServer


@asynccontextmanager
async def usdm_connector(
    symbols: tuple[str, ...], attempts: int
) -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    """A started venue and a connector trading ``symbols`` on it (``attempts`` per call); both closed after."""
    async with FakeFuturesServer() as server:
        config = ExchangeConfig(
            exchange="binanceusdm",
            market_type=MarketType.LINEAR,
            api_key=server.api_key,
            api_secret=server.api_secret,
            ccxt_options={**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
            symbols=symbols,
        )
        connector = CCXTConnector(
            config,
            LiveClock(),
            client_hook=server.client_hook,
            retry_policy=RetryPolicy(attempts=attempts, base_delay=0.01, rate_limit_delay=0.01),
        )
        try:
            yield server, connector
        finally:
            await connector.close()
