"""The grid mode trading live when the venue refuses a placement for a passing reason (429 rate
limit, connection refused): the other levels are still placed and the refused one is placed again
on a later candle, once, instead of the whole grid being abandoned.

The real trader against the fake Binance server (real ccxt client, REST market data) on a
simulated clock; candles are fetched by the test after the venue closes each one, as the parity
test does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater
from octobot_trading.modes import GridTradingMode
from tests.clock_driving import build_simulated
from tests.exchanges.conftest import drive
from tests.faults.conftest import (
    ORDER_PATH,
    Venue,
    assert_engine_matches_venue,
    assert_no_secret,
    live_builder,
    sim_clock,
    started,
)
from tests.personal_data.live_venue import venue as venue

GRID = {"levels": 2, "spacing_percent": "5", "amount_per_level": "0.001"}


async def _next_candle(manager: ot.ExchangeManager, server, clock: SimulatedClock) -> None:
    """The venue closes a candle; the engine fetches and publishes it (the mode reacts), the clock
    moving through any back-off the venue asked for meanwhile."""
    await drive(clock, _fetch_next_candle(manager, server, clock))


async def _fetch_next_candle(manager: ot.ExchangeManager, server, clock: SimulatedClock) -> None:
    updater = next(u for u in manager.get_component("exchange_data").updaters if isinstance(u, RestCandlesUpdater))
    server.advance()
    clock.set_time(max(clock.now_ms(), int(server.state.markets["BTCUSDT"].current[0]) + 300_000))
    await updater.fetch_new("BTC/USDT", ot.TimeFrame.M5)
    await manager.channels.join()


@contextlib.asynccontextmanager
async def _grid_engine(venue: Venue) -> AsyncIterator[tuple[ot.ExchangeManager, Callable[[], Awaitable[None]]]]:
    """The grid mode trading live on ``venue`` (REST only, 5m candles), its background updaters
    stopped: yields the manager and ``next_candle()``, which closes the venue's next candle and
    has the engine fetch it (the test fetches each candle itself)."""
    server = venue.server
    clock = sim_clock(server)
    manager = await build_simulated(
        live_builder(venue, clock).rest_only(True).with_time_frames(["5m"]).use_trading_mode(GridTradingMode, GRID)
    )
    async with manager:
        await started(manager, streams=False)
        for background in manager.get_component("exchange_data").updaters:
            await background.stop()
        yield manager, lambda: _next_candle(manager, server, clock)


def _grid_orders(server) -> list[tuple[str, Decimal]]:
    return sorted((o.side, o.price) for o in server.state.orders.values() if o.is_open)


async def test_grid_places_the_other_levels_and_retries_a_level_refused_by_a_rate_limit(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with _grid_engine(venue) as (manager, next_candle):
        server.faults.status(429, method="POST", path=ORDER_PATH, times=1, retry_after=1)  # the first level
        await next_candle()  # the grid starts on this candle
        assert len(_grid_orders(server)) >= 3  # the other levels were placed
        await next_candle()
        await next_candle()
        assert len(_grid_orders(server)) == 4  # the refused level too, once
        assert len(server.state.order_requests) == 4  # four placements processed ...
        assert server.faults.count("POST", ORDER_PATH) == 5  # ... and the refused one sent again
        await assert_engine_matches_venue(manager, server)
    assert_no_secret(server, caplog)


async def test_grid_retries_a_level_refused_because_the_venue_was_unreachable(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with _grid_engine(venue) as (manager, next_candle):
        server.faults.status(418, method="POST", path=ORDER_PATH, times=1, retry_after=1)  # a short ban
        await next_candle()
        await next_candle()
        await next_candle()
        assert len(_grid_orders(server)) == 4  # every level placed once the ban lifted
        assert len(server.state.order_requests) == 4
        await assert_engine_matches_venue(manager, server)
    assert_no_secret(server, caplog)
