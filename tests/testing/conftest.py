"""Fixtures of the fake-venue tests: the fake USDⓈ-M futures venue and a real ccxt ``binanceusdm`` client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from octobot_trading.testing import FakeFuturesServer


def usdm_client(server: FakeFuturesServer, api_key: str | None = None, api_secret: str | None = None) -> Any:
    """A real ccxt ``binanceusdm`` client whose every url points at ``server``."""
    client = ccxt_async.binanceusdm(
        {
            "apiKey": api_key or server.api_key,
            "secret": api_secret or server.api_secret,
            "rateLimit": 1,
            "timeout": 5000,
            **server.ccxt_config(),
        }
    )
    server.client_hook(client)
    return client


@pytest.fixture
async def futures_venue() -> AsyncIterator[FakeFuturesServer]:
    """The fake USDⓈ-M venue (XRPUSDT and BTCUSDT, 10000 USDT on the default account)."""
    async with FakeFuturesServer() as server:
        yield server


@pytest.fixture
async def usdm(futures_venue: FakeFuturesServer) -> AsyncIterator[Any]:
    """A ccxt ``binanceusdm`` client on ``futures_venue`` with its markets loaded."""
    client = usdm_client(futures_venue)
    try:
        await client.load_markets()
        yield client
    finally:
        await client.close()
