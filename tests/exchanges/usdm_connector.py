"""The ccxt connector (real ``binanceusdm`` client) on a fresh fake USDⓈ-M venue, for the connector tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.futures_venues import USDM, venue_session


@asynccontextmanager
async def usdm_connector(
    symbols: tuple[str, ...], attempts: int
) -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    """A started venue and a connector trading ``symbols`` on it (``attempts`` per call); both closed after."""
    policy = RetryPolicy(attempts=attempts, base_delay=0.01, rate_limit_delay=0.01)
    async with venue_session(USDM, symbols, policy) as (server, connector):
        yield server, connector
