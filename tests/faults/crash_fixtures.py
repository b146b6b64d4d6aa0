"""The crash tests' fixtures (a pytest plugin: ``pytest_plugins = ["tests.faults.crash_fixtures"]``).

``server`` is the fake Binance server with the canary account (:func:`canary_server`); ``engines``
starts engine processes on it and kills any still running at the test's end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.faults.crash_harness import Engines, canary_server


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    """The fake Binance server (5m fixture candles, from candle 100) with a canary account."""
    async with canary_server() as srv:
        yield srv


@pytest.fixture
async def engines(server: FakeExchangeServer) -> AsyncIterator[Engines]:
    """Engine processes on ``server``; any still running at the test's end is killed."""
    started = Engines(server)
    try:
        yield started
    finally:
        await started.close()
