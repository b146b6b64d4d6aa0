"""Fixtures of the storage tests: the fake Binance server and builders for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import octobot_trading as ot
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FAST, FIXTURES

#: Credentials of the fake server's account in these tests: a canary that must never reach the file.
CANARY_KEY = "canary-key-7f3a9c"
CANARY_SECRET = "canary-secret-b41d2e"


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    """The fake Binance server (5m fixture candles, from candle 100) with the canary account."""
    async with FakeExchangeServer(
        default_markets(FIXTURES, "5m"), start_index=100, api_key=CANARY_KEY, api_secret=CANARY_SECRET
    ) as srv:
        yield srv


def builder_for(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    """A REST-only builder on ``server`` for BTC/USDT (old replayed prices: stale-price rule relaxed)."""
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10})
        .rest_only(True)
    )


def other_tasks() -> set[asyncio.Task[object]]:
    """Tasks still running besides the current one."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
