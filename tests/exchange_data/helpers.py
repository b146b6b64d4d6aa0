"""Helpers of the market-data tests that run against the fake Binance server (real ccxt client)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.testing.fake_exchange import FakeExchangeServer


def make_connector(
    server: FakeExchangeServer, clock: Clock, *, symbols: tuple[str, ...] = ("BTC/USDT",), attempts: int = 1
) -> CCXTConnector:
    """A CCXTConnector talking to ``server`` (one attempt per read unless told otherwise)."""
    config = ExchangeConfig(
        exchange="binance",
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options={**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
        symbols=symbols,
    )
    return CCXTConnector(
        config,
        clock,
        client_hook=server.client_hook,
        retry_policy=RetryPolicy(attempts=attempts, base_delay=0.01, rate_limit_delay=0.01),
    )


async def until(condition: Callable[[], Any], *, limit_s: float = 30.0) -> None:
    """Wait (on real loopback I/O) until ``condition()`` is true; fail after ``limit_s`` seconds (a
    bound for a loaded machine: conditions are met within milliseconds otherwise)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def drive(clock: Any, target_ms: int, *, settle: float = 0.02) -> None:
    """Move a SimulatedClock to ``target_ms`` through every pending wake time, letting real I/O
    (requests to the fake server) settle for ``settle`` seconds after each step."""
    while True:
        await asyncio.sleep(settle)
        wake = clock.next_wake_ms
        if wake is None or wake > target_ms:
            clock.set_time(max(clock.now_ms(), target_ms))
            await asyncio.sleep(settle)
            return
        clock.set_time(max(clock.now_ms(), wake))
