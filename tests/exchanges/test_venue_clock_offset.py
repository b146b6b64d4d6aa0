"""A venue whose clock is a few seconds off: ccxt's clock-offset adjustment holds for every connector."""

from __future__ import annotations

import pytest

from octobot_trading.clock import LiveClock
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
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100, clock=_BehindClock(4_000)) as srv:
        yield srv


async def test_without_the_adjustment_a_refused_read_resyncs_the_clock_once(lagging_server):
    connector = make_connector(lagging_server, options=_options(False))
    try:
        await connector.load_markets()
        assert "USDT" in await connector.fetch_balance()
        # one refused request, one clock read, one accepted request: no loop
        assert lagging_server.faults.count("GET", "/api/v3/account") == 2
        assert lagging_server.faults.count("GET", "/api/v3/time") == 1
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


async def test_a_timestamp_refusal_resyncs_the_clock_once_and_retries_only_reads(lagging_server):
    """The venue's clock moves after the offset was measured: the next signed read is refused
    (-1021), the connector re-syncs once and the read succeeds; an order refused for its
    timestamp is not re-sent (the next one is signed right)."""
    from decimal import Decimal

    from octobot_trading.enums import OrderSide, OrderType
    from octobot_trading.errors import AuthenticationError

    connector = make_connector(lagging_server, options=_options(True))
    try:
        await connector.load_markets()
        assert "USDT" in await connector.fetch_balance()
        lagging_server.clock.lag_ms += 4_000  # the venue's clock slips further behind
        assert "USDT" in await connector.fetch_balance()  # refused once, re-synced, read again

        lagging_server.clock.lag_ms += 4_000
        before = lagging_server.faults.count("POST", "/api/v3/order")
        with pytest.raises(AuthenticationError):
            await connector.create_order(
                OrderType.LIMIT,
                OrderSide.BUY,
                "BTC/USDT",
                Decimal("0.01"),
                Decimal("17000"),
                client_order_id="skewed-1",
            )
        assert lagging_server.faults.count("POST", "/api/v3/order") == before + 1  # not re-sent
        assert not lagging_server.state.orders
        placed = await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", Decimal("0.01"), Decimal("17000"), client_order_id="skewed-2"
        )
        assert placed.client_order_id == "skewed-2"
    finally:
        await connector.close()
