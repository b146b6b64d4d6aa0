"""Partial fills racing a cancel: the venue fills more of the order after the cancel request left
and before it processes it; the final state equals the venue's and every fill is applied once."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus
from tests.faults.conftest import (
    ORDER_PATH,
    assert_engine_matches_venue,
    assert_no_secret,
    drive_task,
    live_engine,
    resting_buy,
    settle,
    started,
    until,
)

D = Decimal


@pytest.mark.parametrize("stream", ["live", "stalled"])
async def test_fills_landing_while_a_cancel_is_in_flight_are_applied_once(venue, caplog, stream):
    caplog.set_level(logging.INFO)
    server, user_data = venue.server, venue.user_data
    async with live_engine(venue) as (manager, _clock):
        await started(manager)
        market = server.state.markets["BTCUSDT"]
        price, steps = resting_buy(server)
        # each candle reaching the price fills about a third of the order
        server.state.max_fill_fraction = D("0.00035") / market.candles[market.cursor + steps][5]
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        server.advance(steps)
        await until(lambda: order.status is OrderStatus.PARTIALLY_FILLED)
        assert fake.status == "PARTIALLY_FILLED"
        filled_before = order.filled
        # the cancel request reaches the venue, which fills more before processing it
        server.faults.latency(1.0, method="DELETE", path=ORDER_PATH, times=1)
        user_data.stalled = stream == "stalled"  # the fills' reports are lost, or race the reply
        cancel = asyncio.ensure_future(manager.trader.cancel_order(order))
        await until(lambda: server.faults.count("DELETE", ORDER_PATH) == 1)
        before = len(fake.fills)
        for _ in range(20):
            server.advance()
            if len(fake.fills) > before:
                break
        assert len(fake.fills) > before and fake.is_open  # filled more, still open for the cancel
        await asyncio.wait_for(cancel, 30)
        user_data.stalled = False
        await settle()
        assert fake.status == "CANCELED" and fake.executed_qty > filled_before
        assert order.status is OrderStatus.CANCELED
        assert order.filled == fake.executed_qty  # the fills made during the race are counted
        await assert_engine_matches_venue(manager, server)
        assert len(manager.exchange_personal_data.trades_manager.trades()) == len(fake.fills)
        assert_no_secret(server, caplog)


@pytest.mark.parametrize("reply", ["a 5xx answer", "a cut connection"])
async def test_a_cancel_processed_but_answered_badly_keeps_the_fills_it_raced(venue, caplog, reply):
    """Fills the engine has not heard of (the stream silent) land before the cancel, whose reply
    is then lost: the cancel is settled by reading the order, the fills are applied once."""
    caplog.set_level(logging.INFO)
    server, user_data = venue.server, venue.user_data
    async with live_engine(venue) as (manager, clock):
        await started(manager)
        market = server.state.markets["BTCUSDT"]
        price, steps = resting_buy(server)
        server.state.max_fill_fraction = D("0.00035") / market.candles[market.cursor + steps][5]
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await until(lambda: user_data.events_sent >= 2)
        await settle()
        user_data.stalled = True
        fake = server.state.orders[int(order.exchange_order_id or 0)]
        server.advance(steps)
        assert fake.status == "PARTIALLY_FILLED" and order.status is OrderStatus.OPEN
        if reply == "a 5xx answer":
            server.faults.status_after(500, method="DELETE", path=ORDER_PATH)
        else:
            server.faults.drop_after(method="DELETE", path=ORDER_PATH)
        await drive_task(clock, manager.trader.cancel_order(order))
        assert server.faults.count("DELETE", ORDER_PATH) == 1  # not re-sent
        assert fake.status == "CANCELED"
        assert order.status is OrderStatus.CANCELED and order.filled == fake.executed_qty
        user_data.stalled = False
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
