"""Fixtures of the exchange-layer tests: the fake Binance server and ccxt connectors on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from octobot_trading.clock import Clock, LiveClock, SimulatedClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fake_exchange"
T = TypeVar("T")

#: ccxt options used by the tests: the fake server's options plus a fast ccxt rate limiter.
FAST = {"rateLimit": 1, "timeout": 2000}


def ccxt_options(server: FakeExchangeServer, **extra: Any) -> dict[str, Any]:
    """The options a connector needs to talk to ``server`` quickly."""
    return {**server.ccxt_config(), **FAST, **extra}


def make_connector(
    server: FakeExchangeServer,
    clock: Clock | None = None,
    *,
    api_key: str | None = None,
    api_secret: str | None = None,
    retry: RetryPolicy | None = None,
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
    **options: Any,
) -> CCXTConnector:
    """A CCXTConnector on ``server`` (default credentials: the server's account)."""
    config = ExchangeConfig(
        exchange="binance",
        api_key=api_key if api_key is not None else server.api_key,
        api_secret=api_secret if api_secret is not None else server.api_secret,
        ccxt_options=ccxt_options(server, **options),
        symbols=symbols,
    )
    return CCXTConnector(
        config,
        clock or LiveClock(),
        client_hook=server.client_hook,
        retry_policy=retry or RetryPolicy(attempts=3, base_delay=0.05, rate_limit_delay=0.1),
    )


async def drive(clock: SimulatedClock, awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` (real loopback I/O) while moving ``clock`` to each pending wake time."""
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        wake = clock.next_wake_ms
        if wake is not None and not task.done():
            clock.set_time(wake)
    return task.result()


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    """The fake Binance server replaying the 5m fixture candles, started at candle 100."""
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
        yield srv


@pytest.fixture
async def connector(server: FakeExchangeServer) -> AsyncIterator[CCXTConnector]:
    """A connector on the server's default account (live clock)."""
    conn = make_connector(server)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def connector_factory(server: FakeExchangeServer) -> Callable[..., CCXTConnector]:
    """Make more connectors on the same server; they are closed by the test."""
    return lambda *args, **kwargs: make_connector(server, *args, **kwargs)


@pytest.fixture
def registry_before() -> set[str]:
    """Ids of managers registered before the test (other tests may leave theirs)."""
    from octobot_trading.exchanges.registry import exchanges_registry

    return set(exchanges_registry.ids())
