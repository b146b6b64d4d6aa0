"""Live inverse futures on the account's private streams: the real ccxt.pro ``binancecoinm`` client
against the fake COIN-M venue's user-data stream (loopback). REST polling is kept an hour away and
the simulated clock never reaches it, so a ``BTC/USD:BTC`` position seen here came through the
stream: opened, grown, flipped and closed on the venue by another client of the same account,
and liquidated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

import octobot_trading as ot
from octobot_trading.enums import PositionSide
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeCoinMServer
from octobot_trading.testing.fake_exchange.futures.user_data import FakeFuturesUserData
from tests.exchange_data.helpers import until
from tests.personal_data.live_coinm import BTC, VENUE_ID, coinm_builder, coinm_clock, coinm_position
from tests.personal_data.live_futures import collect_liquidations, running

D = Decimal
HOUR = 3600.0


@pytest.fixture
async def venue() -> AsyncIterator[FakeCoinMServer]:
    server = FakeCoinMServer()
    FakeFuturesUserData(server)
    async with server:
        yield server


@pytest.fixture
async def manager(venue: FakeCoinMServer) -> AsyncIterator[Any]:
    builder = coinm_builder(
        venue,
        coinm_clock(venue),
        HOUR,
        rest_only=False,
        streaming_poll_seconds=HOUR,
        stream_watchdog_seconds=HOUR,
    ).with_websocket_options(expected_interval=HOUR)
    async with running(builder) as built:
        streams = built.get_component("trader", TraderComponent).account_streams
        assert streams is not None
        await until(lambda: streams.healthy)
        yield built


async def _venue_order(venue: FakeCoinMServer, side: str, amount: str, **params: Any) -> None:
    """An order placed on the account by another client (not through the manager's trader)."""
    client = ccxt_async.binancecoinm(
        {"apiKey": venue.api_key, "secret": venue.api_secret, "rateLimit": 1, **venue.ccxt_config()}
    )
    venue.client_hook(client)
    try:
        await client.create_order(BTC, "market", side, amount, None, params)
    finally:
        await client.close()


async def test_inverse_stream_positions_follow_the_venue_without_polling(manager: Any, venue: FakeCoinMServer) -> None:
    await _venue_order(venue, "buy", "10")
    await until(lambda: coinm_position(manager) is not None and coinm_position(manager).size == D(10))
    theirs = venue.futures_account().futures.get(BTC)
    assert theirs is not None and coinm_position(manager).entry_price == theirs.entry_price
    await _venue_order(venue, "buy", "5")
    await until(lambda: coinm_position(manager).size == D(15))
    await _venue_order(venue, "sell", "20")
    await until(lambda: coinm_position(manager).side is PositionSide.SHORT)
    assert coinm_position(manager).size == D(5) and coinm_position(manager, PositionSide.LONG) is None
    await _venue_order(venue, "buy", "5", reduceOnly=True)
    await until(lambda: coinm_position(manager) is None)


async def test_inverse_stream_liquidation_removes_the_position_and_is_reported(
    manager: Any, venue: FakeCoinMServer
) -> None:
    liquidations = collect_liquidations(manager)
    await manager.trader.set_leverage(BTC, "20")
    await manager.trader.set_margin_mode(BTC, ot.MarginMode.ISOLATED)
    await _venue_order(venue, "buy", "10")
    await until(lambda: coinm_position(manager) is not None)
    venue_position = venue.futures_account().futures.get(BTC)
    assert venue_position is not None and venue_position.liquidation_price is not None
    venue.set_mark_price(VENUE_ID, venue_position.liquidation_price * D("0.97"))
    await until(lambda: coinm_position(manager) is None and liquidations)
    (liquidation,) = liquidations
    assert (liquidation.symbol, liquidation.side, liquidation.size) == (BTC, PositionSide.LONG, D(10))
