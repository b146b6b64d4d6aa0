"""The engine on a fake futures venue for the live futures tests: ``ExchangeBuilder`` on the venue
kind's perpetual (:mod:`tests.exchanges.futures_venues`: by default the USDⓈ-M venue's linear XRP
market, else the COIN-M venue's inverse ``BTC/USD:BTC``) with the real trader and the real ccxt
client on loopback, on a simulated clock started at the venue's time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide
from octobot_trading.personal_data.account_streams import AccountStreams
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.fake_exchange.futures.user_data import FakeFuturesUserData
from tests.clock_driving import build_simulated, until_ready
from tests.exchange_data.helpers import until
from tests.exchanges.futures_venues import USDM, VenueKind, venue_client

XRP = USDM.symbol
#: Far beyond what a streaming test moves the clock: REST polls and the stream watchdog never run.
HOUR = 3600.0


def venue_clock(venue: FakeFuturesServer, kind: VenueKind = USDM) -> SimulatedClock:
    """A simulated clock at the venue's current time."""
    return SimulatedClock(venue.market(kind.venue_id).now_ms)


def live_futures_builder(
    venue: FakeFuturesServer, clock: SimulatedClock, *, kind: VenueKind = USDM, **trading_config: Any
) -> ot.ExchangeBuilder:
    """The builder on ``venue``'s account: ``kind``'s symbol and candles, the real trader, ``clock``;
    ``trading_config`` goes to ``with_trading_config`` beside an order safety accepting any price age."""
    return (
        ot.ExchangeBuilder(kind.exchange)
        .with_credentials(api_key=venue.api_key, api_secret=venue.api_secret)
        .with_market_type(kind.market_type.value)
        .with_symbols([kind.symbol])
        .with_time_frames([kind.time_frame])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, **trading_config)
        .use_real_trader()
    )


@contextlib.asynccontextmanager
async def running(builder: ot.ExchangeBuilder) -> AsyncIterator[Any]:
    """The manager ``builder`` builds (on its simulated clock), started and ready; stopped on exit."""
    built = await build_simulated(builder)
    async with built:
        await until_ready(built)
        yield built


@contextlib.asynccontextmanager
async def streaming_venue(kind: VenueKind = USDM) -> AsyncIterator[FakeFuturesServer]:
    """A started fake venue of ``kind`` serving its account's user-data stream."""
    server = kind.server()
    FakeFuturesUserData(server)
    async with server:
        yield server


@contextlib.asynccontextmanager
async def private_streams_on(
    venue: FakeFuturesServer, wrap: Callable[[Any], Any], watchdog_seconds: float = HOUR
) -> AsyncIterator[tuple[Any, AccountStreams, Any]]:
    """A REST-only engine on ``venue`` whose account poll is stopped (the streams are the only way
    the venue's changes come in), with private streams reading ``wrap(manager.exchange)``; yields
    ``(manager, streams, wrapped exchange)`` once the subscription's reconciliation ran."""
    builder = live_futures_builder(venue, venue_clock(venue), account_poll_seconds=HOUR).rest_only(True)
    async with running(builder) as manager:
        component = manager.get_component("trader", TraderComponent)
        await component.stop_poll()
        exchange = wrap(manager.exchange)
        account = AccountStreams(
            exchange,
            manager.trader,
            clock=manager.clock,
            lock=component.sync_lock,
            symbols=manager.symbols,
            futures=True,
            positions_sync=component.futures_sync,
            watchdog_seconds=watchdog_seconds,
        )
        account.start()
        try:
            await until(lambda: account.healthy and account.reconciliations == 1)
            yield manager, account, exchange
        finally:
            await account.stop()


@contextlib.asynccontextmanager
async def streaming_manager(venue: FakeFuturesServer, kind: VenueKind = USDM) -> AsyncIterator[Any]:
    """The manager on ``venue``'s private streams, REST polling an hour away; yielded once the
    streams are healthy."""
    builder = live_futures_builder(
        venue,
        venue_clock(venue, kind),
        kind=kind,
        account_poll_seconds=HOUR,
        streaming_poll_seconds=HOUR,
        stream_watchdog_seconds=HOUR,
    ).with_websocket_options(expected_interval=HOUR)
    async with running(builder) as built:
        streams = built.get_component("trader", TraderComponent).account_streams
        assert streams is not None
        await until(lambda: streams.healthy)
        yield built


async def venue_order(venue: FakeFuturesServer, side: str, amount: str, kind: VenueKind = USDM, **params: Any) -> None:
    """A market order on ``kind``'s symbol placed on the account by another client (not through the
    manager's trader)."""
    async with venue_client(kind, venue) as client:
        await client.create_order(kind.symbol, "market", side, amount, None, params)


def local_position(manager: Any, side: PositionSide | None = None, kind: VenueKind = USDM) -> Any:
    """The manager's local position on ``kind``'s symbol (of ``side`` in hedge mode), None when flat."""
    return manager.exchange_personal_data.positions_manager.get(kind.symbol, side)


def collect_liquidations(manager: Any) -> list[Liquidation]:
    """The list the manager's positions manager appends each liquidation it reports to, from now on."""
    liquidations: list[Liquidation] = []

    async def on_liquidation(liquidation: Liquidation) -> None:
        liquidations.append(liquidation)

    manager.exchange_personal_data.positions_manager.add_liquidation_listener(on_liquidation)
    return liquidations


async def polled(clock: SimulatedClock, period_s: float, condition: Callable[[], Any], *, polls: int = 5) -> None:
    """Move ``clock`` one account-poll period (``period_s``) at a time until ``condition()`` holds.

    The poll loop schedules its next wake only once its current poll has ended, so a single move
    made while a poll is still in flight (an order's early poll, say) is used up before the loop
    sleeps again: another period is moved after each bounded real-time wait (at most ``polls``)."""
    for _ in range(polls - 1):
        clock.advance(round(period_s * 1000))
        with contextlib.suppress(AssertionError):
            await until(condition, limit_s=3.0)
            return
    clock.advance(round(period_s * 1000))
    await until(condition)


async def trade(
    manager: Any, side: ot.OrderSide, amount: str, expected: Any, kind: VenueKind = USDM, **kwargs: Any
) -> None:
    """A market order on ``kind``'s symbol through the trader (``kwargs`` go to ``create_order``);
    wait until ``expected`` holds for the local position (of the order's ``position_side``)."""
    await manager.trader.create_order(ot.OrderType.MARKET, side, kind.symbol, amount=amount, **kwargs)
    await until(lambda: expected(local_position(manager, kwargs.get("position_side"), kind)))


async def assert_follows_venue(manager: Any, venue: FakeFuturesServer, kind: VenueKind = USDM) -> None:
    """Every local position (size, entry, leverage, margin mode, initial margin, liquidation price) and
    the margin asset's balance equal the venue's exactly."""
    futures = venue.futures_account().futures
    for side in (PositionSide.LONG, PositionSide.SHORT):
        local, theirs = local_position(manager, side, kind), futures.get(kind.symbol, side)
        assert (local is None) == (theirs is None), side
        if local is not None:
            assert (local.size, local.entry_price, local.leverage) == (theirs.size, theirs.entry_price, theirs.leverage)
            assert (local.margin_mode, local.initial_margin) == (theirs.margin_mode, theirs.initial_margin)
            assert local.liquidation_price == theirs.liquidation_price
    balance = (await manager.exchange.fetch_balance())[kind.margin_asset]
    assert balance.total == futures.wallet(kind.margin_asset)
    asset = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio(kind.margin_asset)
    assert (asset.total, asset.available) == (balance.total, balance.free)
