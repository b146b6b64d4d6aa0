"""The account's private stream dropped in the middle of an order's fills, and connected but
silent: the engine's own REST reconciliation (on reconnect, or from the watchdog) brings its
orders, fills and balances back to the venue's, with no manual sync."""

from __future__ import annotations

import logging
from decimal import Decimal

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data.account_streams import AccountStreams
from tests.faults.conftest import (
    WATCHDOG,
    assert_engine_matches_venue,
    assert_no_secret,
    far_buy_price,
    live_engine,
    resting_buy,
    settle,
    started,
    until,
)

D = Decimal


async def _reconnected(clock: SimulatedClock, streams: AccountStreams, connects: int) -> None:
    """Move the clock past the reconnect backoff and wait for the new connection's reconciliation."""
    await until(lambda: streams.reconnect_at_ms is not None)
    assert streams.reconnect_at_ms is not None
    clock.set_time(streams.reconnect_at_ms)
    await until(lambda: streams.connects == connects and streams.healthy and streams.reconciliations >= connects)


async def test_a_private_stream_dropped_mid_fill_is_reconciled_on_reconnect(venue, caplog):
    caplog.set_level(logging.DEBUG)
    server, user_data = venue.server, venue.user_data
    async with live_engine(venue) as (manager, clock):
        component = await started(manager)
        streams = component.account_streams
        assert streams is not None
        market = server.state.markets["BTCUSDT"]
        price, steps = resting_buy(server)
        server.state.max_fill_fraction = D("0.00035") / market.candles[market.cursor + steps][5]
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        far = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", far_buy_price(server))
        server.advance(steps)  # a first partial fill, seen through the stream
        await until(lambda: order.status is OrderStatus.PARTIALLY_FILLED)
        await user_data.disconnect()
        await until(lambda: not streams.healthy)
        # while nobody listens: the order fills completely and another is canceled on the venue
        server.state.max_fill_fraction = None
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        for _ in range(100):
            server.advance()
            if not fake.is_open:
                break
        server.state.cancel_order(server.state.orders[int(far.exchange_order_id or 0)])
        assert fake.status == "FILLED"
        await _reconnected(clock, streams, 2)
        await until(lambda: order.status is OrderStatus.CLOSED and far.status is OrderStatus.CANCELED)
        await settle()
        await assert_engine_matches_venue(manager, server, do_reconcile=False)  # the engine's own work
        await assert_engine_matches_venue(manager, server)
        assert "reconnecting" in caplog.text
        assert_no_secret(server, caplog)


async def test_a_silent_private_stream_is_caught_by_the_watchdog_and_reconciled(venue, caplog):
    caplog.set_level(logging.DEBUG)
    server, user_data = venue.server, venue.user_data
    async with live_engine(venue) as (manager, clock):
        component = await started(manager)
        streams = component.account_streams
        assert streams is not None
        price, steps = resting_buy(server)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await until(lambda: user_data.events_sent >= 2)
        await until(lambda: order.exchange_order_id in streams._orders)  # the NEW report reached the streams
        user_data.stalled = True  # connected, answering, every event dropped
        server.advance(steps)
        await settle()
        assert order.status is OrderStatus.OPEN  # nothing came
        reconciliations = streams.reconciliations
        clock.set_time(clock.now_ms() + int(WATCHDOG * 1000) - 1_000)
        await settle()
        assert streams.reconciliations == reconciliations  # not before the watchdog's delay
        clock.set_time(clock.now_ms() + 1_000)
        await until(lambda: order.status is OrderStatus.CLOSED)  # read over REST
        await settle()
        await assert_engine_matches_venue(manager, server, do_reconcile=False)
        user_data.stalled = False
        await _reconnected(clock, streams, 2)  # it missed something: the stream is renewed
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
