"""A venue whose clock is a few seconds off: ccxt's clock-offset adjustment holds for every connector."""

from __future__ import annotations

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets

from .conftest import FIXTURES, make_connector


def _options(adjust: bool) -> dict:
    return {**FakeExchangeServer.ccxt_config()["options"], "adjustForTimeDifference": adjust}


class _BehindClock(LiveClock):
    """The venue's clock, ``lag_ms`` behind this machine's."""

    def __init__(self, lag_ms: int) -> None:
        super().__init__()
        self.lag_ms = lag_ms

    def now_ms(self) -> int:
        return super().now_ms() - self.lag_ms


@pytest.fixture
async def lagging_server():
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100,
                                  clock=_BehindClock(4_000)) as srv:
        yield srv


async def test_signed_calls_are_refused_without_the_adjustment(lagging_server):
    connector = make_connector(lagging_server, options=_options(False))
    try:
        await connector.load_markets()
        with pytest.raises(OctoBotTradingError):
            await connector.fetch_balance()
    finally:
        await connector.close()


async def test_every_connector_measures_the_venue_clock_even_on_a_markets_cache_hit(lagging_server):
    first = make_connector(lagging_server, options=_options(True))
    second = make_connector(lagging_server, options=_options(True))
    try:
        await first.load_markets()
        assert "USDT" in await first.fetch_balance()
        await second.load_markets()  # served by the process-wide markets cache
        assert "USDT" in await second.fetch_balance()
    finally:
        await first.close()
        await second.close()
