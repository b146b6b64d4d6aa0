"""The live trader on the account's private streams: the real ccxt.pro client against the fake
Binance server's user-data stream (loopback), REST polling kept far away (one hour) so anything
seen quickly came through the stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from decimal import ROUND_CEILING, Decimal
from functools import partial
from typing import Any

import aiohttp
import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from tests.clock_driving import build_live, pending_wakes
from tests.exchange_data.helpers import until
from tests.exchanges.conftest import FAST, FIXTURES
from tests.personal_data.live_venue import assert_matches_exchange

D = Decimal
HOUR = 3600.0
STREAMING_POLL = 10 * HOUR
WATCHDOG = 30.0
REST_SYNC = (
    ("GET", "/api/v3/openOrders"),
    ("GET", "/api/v3/order"),
    ("GET", "/api/v3/myTrades"),
    ("GET", "/api/v3/account"),
)


@pytest.fixture
async def venue() -> AsyncIterator[tuple[FakeExchangeServer, FakeBinanceStreams, FakeBinanceUserData]]:
    server = FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100)
    streams = FakeBinanceStreams(server)
    user_data = FakeBinanceUserData(server)
    async with server:
        yield server, streams, user_data


def _builder(
    server: FakeExchangeServer, streams: FakeBinanceStreams, clock: SimulatedClock, **trading: Any
) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options(FAST)
        .with_client_hook(streams.client_hook)
        .with_clock(clock)
        .with_trading_config(
            order_safety={"max_price_age_seconds": 10**10},
            account_poll_seconds=HOUR,
            streaming_poll_seconds=STREAMING_POLL,
            stream_watchdog_seconds=WATCHDOG,
            **trading,
        )
        .use_real_trader()
    )


def _clock(server: FakeExchangeServer) -> SimulatedClock:
    return SimulatedClock(int(server.state.markets["BTCUSDT"].current[0]) + 300_000)


def _resting_buy(server: FakeExchangeServer) -> tuple[Decimal, int]:
    """A buy price under the last close that a later candle's low reaches, and how many candles
    to advance for it."""
    market = server.state.markets["BTCUSDT"]
    last = market.last_price
    for steps, row in enumerate(market.candles[market.cursor + 1 :], start=1):
        if row[3] < last - market.tick_size:
            return row[3].quantize(market.tick_size, rounding=ROUND_CEILING), steps
    raise AssertionError("no later candle goes under the last close")


def _rest_syncs(server: FakeExchangeServer) -> int:
    return sum(server.faults.count(method, path) for method, path in REST_SYNC)


def _trades_of(manager: Any) -> list[tuple[str, Decimal]]:
    return sorted((t.id, t.amount) for t in manager.exchange_personal_data.trades_manager.trades())


async def _venue_trades(manager: Any) -> list[tuple[str, Decimal]]:
    return sorted((t.id, t.amount) for t in await manager.connector.fetch_my_trades("BTC/USDT"))


async def _past_the_reconnect_backoff(clock: SimulatedClock, streams: Any) -> None:
    """Once the streams wait for their reconnect backoff, move the clock to its end."""
    await until(lambda: streams.reconnect_at_ms is not None)
    clock.set_time(streams.reconnect_at_ms)


@contextlib.asynccontextmanager
async def _engine(
    server: FakeExchangeServer, streams: FakeBinanceStreams, *, rest_only: bool = False
) -> AsyncIterator[tuple[Any, SimulatedClock]]:
    """The real trader on the account (its private streams unless ``rest_only``), built on a
    simulated clock: ``(manager, clock)``; stopped on exit."""
    clock = _clock(server)
    builder = _builder(server, streams, clock)
    manager = await build_live(clock, builder.rest_only(True) if rest_only else builder)
    try:
        yield manager, clock
    finally:
        await manager.stop()


async def _started(manager: Any) -> TraderComponent:
    component = manager.get_component("trader", TraderComponent)
    streams = component.account_streams
    assert streams is not None
    await until(lambda: streams.healthy and streams.reconciliations >= 1)
    assert component.current_poll_seconds == STREAMING_POLL  # the slower pace while streams are healthy
    return component


async def test_a_resting_order_filled_on_the_venue_arrives_through_the_stream(venue):
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, _):
        await _started(manager)
        price, steps = _resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        assert order.status is OrderStatus.OPEN
        rest_before = _rest_syncs(server)
        server.advance(steps)
        await until(lambda: order.status is OrderStatus.CLOSED)
        await until(lambda: user_data.events_sent >= 4)  # NEW, balances, TRADE, balances
        await asyncio.sleep(0.05)  # the last balance event crosses the loopback
        streams_ = manager.get_component("trader", TraderComponent).account_streams
        assert streams_ is not None and streams_.balance_mismatches == 0 and streams_.gaps == 0
        assert _rest_syncs(server) == rest_before  # no REST read: the stream brought it all
        assert order.filled == D("0.001") and order.average_price == price
        assert _trades_of(manager) == await _venue_trades(manager)
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)


async def test_a_bundled_exit_is_placed_as_soon_as_the_stream_reports_the_fill(venue):
    server, streams, _user_data = venue
    async with _engine(server, streams) as (manager, _):
        await _started(manager)
        price, steps = _resting_buy(server)
        exit_price = (price * D("1.5")).quantize(D("0.01"))
        entry = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", price, take_profit_price=exit_price
        )
        (exit_order,) = entry.chained_orders
        assert not exit_order.is_active
        server.advance(steps)
        await until(lambda: exit_order.status is OrderStatus.OPEN and exit_order.exchange_order_id is not None)
        venue_open = [o for o in server.state.orders.values() if o.is_open]
        assert [(o.side, o.price, o.orig_qty, o.client_order_id) for o in venue_open] == [
            ("SELL", exit_price, exit_order.amount, exit_order.client_order_id)
        ]
        assert D(0) < exit_order.amount <= entry.filled  # what the fill delivered after fees


async def test_a_market_order_reported_by_the_stream_before_its_reply_is_applied_once(venue, caplog):
    """The venue streams the order's NEW and TRADE events before answering the placement: the
    stream's fill and the reply's fill are one fill."""
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, _):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        trader = manager.trader
        await until(lambda: "btcusdt@miniTicker" in streams.subscriptions or "btcusdt@ticker" in streams.subscriptions)
        streams.push_ticker("BTCUSDT")  # a mark price to value market orders at
        await until(lambda: component.price_of("BTC/USDT") is not None)
        for _ in range(3):
            order = await trader.create_order("market", "buy", "BTC/USDT", "0.001")
            assert order.status is OrderStatus.CLOSED and order.filled == D("0.001")
        sells = await trader.create_order("market", "sell", "BTC/USDT", "0.002")
        assert sells.status is OrderStatus.CLOSED
        await until(lambda: user_data.events_sent >= 12)  # 4 orders x (NEW, TRADE, balances)
        await asyncio.sleep(0.05)  # the last balance event crosses the loopback
        assert _trades_of(manager) == await _venue_trades(manager) and len(_trades_of(manager)) == 4
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert streams_.gaps == 0 and streams_.balance_mismatches == 0
        assert "ERROR" not in caplog.text and "ignored" not in caplog.text


async def test_a_fill_delivered_by_the_stream_and_a_rest_poll_is_applied_once(venue):
    server, streams, _user_data = venue
    async with _engine(server, streams) as (manager, _):
        component = await _started(manager)
        price, steps = _resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        server.advance(steps)
        await until(lambda: order.status is OrderStatus.CLOSED)
        await asyncio.sleep(0.05)  # the balance event crosses the loopback
        await component._poll_once()  # the REST poll sees the same fill
        assert component.account_streams is not None
        await component.account_streams.reconcile()
        assert _trades_of(manager) == await _venue_trades(manager)
        assert len(_trades_of(manager)) == 1 and order.filled == D("0.001")
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)


async def test_a_stream_dropped_mid_fill_reconnects_and_misses_nothing(venue, caplog):
    caplog.set_level(logging.DEBUG)
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, clock):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        market = server.state.markets["BTCUSDT"]
        price, steps = _resting_buy(server)
        server.state.max_fill_fraction = D("0.00035") / market.candles[market.cursor + steps][5]
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        server.advance(steps)  # one partial fill, seen through the stream
        await until(lambda: order.status is OrderStatus.PARTIALLY_FILLED)
        await user_data.disconnect()
        await until(lambda: not streams_.healthy)
        assert component.current_poll_seconds == HOUR  # until reconnected, REST at the normal pace
        server.state.max_fill_fraction = None
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        for _ in range(100):  # the rest fills while nobody listens
            server.advance()
            if not fake.is_open:
                break
        assert fake.status == "FILLED"
        await _past_the_reconnect_backoff(clock, streams_)
        await until(lambda: streams_.connects == 2 and streams_.healthy and streams_.reconciliations >= 2)
        await until(lambda: order.status is OrderStatus.CLOSED)
        assert order.filled == D("0.001")
        assert _trades_of(manager) == await _venue_trades(manager)
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert "reconnecting" in caplog.text  # the drop was logged ...
        assert server.api_secret not in caplog.text and server.api_key not in caplog.text  # ... without secrets


async def test_a_fill_missing_from_the_stream_is_read_over_rest_when_the_next_report_shows_it(venue):
    """The venue's cumulative filled amount runs ahead of the fills the stream delivered (a gap in
    the stream): the missing fill is read over REST at once, with the venue's price and fee."""
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, _):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        market = server.state.markets["BTCUSDT"]
        price, steps = _resting_buy(server)
        server.state.max_fill_fraction = D("0.00035") / market.candles[market.cursor + steps][5]
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await until(lambda: user_data.events_sent >= 2)
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        user_data.drop_next = 1  # the first fill's report is lost
        server.advance(steps)
        assert fake.status == "PARTIALLY_FILLED"
        for _ in range(100):  # a later fill's report carries the cumulative amount
            server.advance()
            if len(fake.fills) > 1:
                break
        await until(lambda: streams_.gaps == 1 and streams_.reconciliations >= 2)
        await until(lambda: len(_trades_of(manager)) == len(fake.fills))
        assert _trades_of(manager) == await _venue_trades(manager)
        assert order.filled == fake.executed_qty and streams_.connects == 1
        assert not manager.exchange_personal_data.orders_manager.has_inferred(order)


async def test_rest_polling_speeds_up_as_soon_as_the_streams_drop(venue):
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, clock):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        polls: list[int] = []
        original = component._poll_once

        async def counted() -> None:
            polls.append(clock.now_ms())
            await original()

        component._poll_once = counted  # type: ignore[method-assign]
        clock.set_time(clock.now_ms() + int(HOUR * 1250))
        await asyncio.sleep(0.05)
        assert polls == []  # healthy streams: past the normal pace, the next poll is STREAMING_POLL away
        dropped_at = clock.now_ms()
        await user_data.disconnect()
        await until(lambda: streams_.reconnect_at_ms is not None)  # down, waiting to reconnect
        normal_wake = dropped_at + int(HOUR * 1000)
        await until(lambda: normal_wake in pending_wakes(clock))  # the poll loop woke, sleeps at the normal pace
        clock.set_time(dropped_at + int(HOUR * 1000))  # long before the streaming pace's wake
        await until(lambda: len(polls) == 1)
        await until(lambda: streams_.healthy and streams_.connects == 2)  # reconnected meanwhile
        assert component.current_poll_seconds == STREAMING_POLL


async def test_a_flapping_stream_reconnects_with_a_growing_backoff(venue):
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, clock):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        delays = []

        def connected(count: int) -> bool:
            return streams_.connects == count and streams_.healthy and streams_.reconciliations >= count

        for connects in range(1, 5):  # every connection drops right after it is made
            await until(partial(connected, connects))
            await user_data.disconnect()
            await until(lambda: streams_.reconnect_at_ms is not None)
            assert streams_.reconnect_at_ms is not None
            delays.append(streams_.reconnect_at_ms - clock.now_ms())
            clock.set_time(streams_.reconnect_at_ms)
        assert delays == [500, 1000, 2000, 4000]
        await until(partial(connected, 5))  # a reconciliation per connection


async def test_a_silent_stream_triggers_the_watchdog_reconciliation(venue):
    server, streams, user_data = venue
    async with _engine(server, streams) as (manager, clock):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        price, steps = _resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await until(lambda: user_data.events_sent >= 2)
        await until(lambda: order.exchange_order_id in streams_._orders)  # the NEW report crossed the loopback
        user_data.stalled = True  # connected, answering, but every event is dropped
        server.advance(steps)
        await asyncio.sleep(0.05)
        assert order.status is OrderStatus.OPEN  # nothing came
        clock.set_time(clock.now_ms() + int(WATCHDOG * 1000))
        await until(lambda: order.status is OrderStatus.CLOSED and streams_.gaps == 1)  # read over REST
        user_data.stalled = False
        await _past_the_reconnect_backoff(clock, streams_)
        await until(lambda: streams_.connects == 2 and streams_.healthy)
        assert _trades_of(manager) == await _venue_trades(manager)
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)


async def test_a_quiet_account_without_open_orders_is_not_reconciled_by_the_watchdog(venue):
    server, streams, _user_data = venue
    async with _engine(server, streams) as (manager, clock):
        component = await _started(manager)
        streams_ = component.account_streams
        assert streams_ is not None
        before = (streams_.reconciliations, _rest_syncs(server))
        for _ in range(3):
            clock.set_time(clock.now_ms() + int(WATCHDOG * 1000))
            await asyncio.sleep(0.02)
        assert (streams_.reconciliations, _rest_syncs(server)) == before and streams_.connects == 1


async def test_rest_only_polls_the_account_without_streams(venue):
    server, streams, user_data = venue
    async with _engine(server, streams, rest_only=True) as (manager, clock):
        component = manager.get_component("trader", TraderComponent)
        assert component.account_streams is None and component.current_poll_seconds == HOUR
        price, steps = _resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        server.advance(steps)
        await asyncio.sleep(0.05)
        assert order.status is OrderStatus.OPEN  # no stream: only the poll can see it
        clock.set_time(clock.now_ms() + int(HOUR * 1000))
        await until(lambda: order.status is OrderStatus.CLOSED)
        assert user_data.connections == 0
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)


async def test_streams_that_cannot_connect_leave_the_account_on_rest_polling():
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:  # no user data
        clock = _clock(server)
        builder = (
            ot.ExchangeBuilder("binance")
            .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
            .with_symbols(["BTC/USDT"])
            .with_ccxt_options(FAST)
            .with_client_hook(server.client_hook)
            .with_clock(clock)
            .with_trading_config(account_poll_seconds=HOUR, streaming_poll_seconds=STREAMING_POLL)
        )
        manager = await build_live(clock, builder.use_real_trader())
        try:
            component = manager.get_component("trader", TraderComponent)
            streams = component.account_streams
            assert streams is not None
            await until(lambda: clock.next_wake_ms is not None and clock.next_wake_ms < clock.now_ms() + 1_000)
            assert not streams.healthy and streams.connects == 0  # it waits for its reconnect backoff
            assert component.current_poll_seconds == HOUR  # the normal (non-streaming) pace
        finally:
            await manager.stop()


async def test_the_user_data_stream_refuses_a_bad_signature(venue):
    server, _streams, user_data = venue
    async with aiohttp.ClientSession() as session, session.ws_connect(user_data.url) as ws:
        await ws.send_str(
            json.dumps(
                {
                    "id": "1",
                    "method": "userDataStream.subscribe.signature",
                    "params": {"apiKey": server.api_key, "timestamp": server.clock.now_ms(), "signature": "0" * 64},
                }
            )
        )
        reply = json.loads((await ws.receive(timeout=5)).data)
    assert reply == {
        "id": "1",
        "status": 400,
        "error": {"code": -1022, "msg": "Signature for this request is not valid."},
    }
    assert user_data.subscriptions == 0
