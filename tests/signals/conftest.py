"""Fixtures of the signal tests: the fake Binance server and paper-trading managers on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FAST, FIXTURES


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    """The fake Binance server replaying the 5m fixture candles, from candle 100."""
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
        yield srv


@pytest.fixture
async def paper_manager(server: FakeExchangeServer) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Build paper-trading managers on ``server`` (live prices, simulated fills); stopped after the test."""
    managers: list[Any] = []

    async def build(portfolio: dict[str, str], symbols: tuple[str, ...] = ("BTC/USDT",)) -> Any:
        manager = await (
            ot.ExchangeBuilder("binance")
            .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
            .with_symbols(list(symbols))
            .with_time_frames(["5m"])
            .with_ccxt_options(FAST)
            .with_client_hook(server.client_hook)
            # the fake server replays old candles: its prices are years old
            .with_trading_config(order_safety={"max_price_age_seconds": 10**10})
            .rest_only(True)
            .use_simulated_trader(starting_portfolio=portfolio)
            .build()
        )
        managers.append(manager)
        await manager.wait_ready(timeout=20)
        return manager

    try:
        yield build
    finally:
        for manager in reversed(managers):
            await manager.stop()
