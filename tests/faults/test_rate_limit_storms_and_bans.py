"""429 storms and a 418 ban against the running engine: one shared back-off honouring Retry-After,
no tight loop, placements refused (never retried) and trading resumed once the venue allows it."""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from octobot_trading.errors import RateLimitExceeded
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from tests.exchange_data.helpers import drive
from tests.faults.conftest import (
    ORDER_PATH,
    assert_engine_matches_venue,
    assert_no_secret,
    drive_task,
    far_buy_price,
    live_engine,
    started,
)

TICKER = "/api/v3/ticker/24hr"


async def test_a_429_storm_on_market_data_slows_every_reader_to_the_retry_after(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue, rest_only=True) as (manager, clock):
        await started(manager, streams=False)
        await drive(clock, clock.now_ms() + 20_000)  # the REST market data polls a while
        market = manager.exchange_symbols_data.get("BTC/USDT")
        assert market.mark_price is not None
        requests_before = len(server.faults.requests)
        server.faults.status(429, times=None, retry_after=5)  # every request refused, 5 s to wait
        storm_start = clock.now_ms()
        await drive(clock, storm_start + 60_000)
        during = Counter(server.faults.requests[requests_before:])
        # no tight loop: each reader (ticker, book, ... pollers) sends at most one request per
        # shared 5 s wait, and something keeps trying
        assert during and max(during.values()) <= 60 // 5 + 1, during
        server.faults.clear()
        price_requests = server.faults.count("GET", TICKER)
        await drive(clock, clock.now_ms() + 30_000)
        assert server.faults.count("GET", TICKER) > price_requests  # reads resumed
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)


async def test_a_429_storm_on_orders_refuses_each_placement_once_and_waits_before_the_next(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue) as (manager, clock):
        await started(manager)
        trader = manager.trader
        price = far_buy_price(server)
        server.faults.status(429, method="POST", path=ORDER_PATH, times=2, retry_after=4)
        errors = []
        with pytest.raises(RateLimitExceeded) as first:
            await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        errors.append(first.value)
        assert first.value.not_processed and first.value.retry_after is not None
        refused_at = clock.now_ms()
        # the next placement waits out the shared 4 s before it is sent (no request meanwhile)
        placing = trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        with pytest.raises(RateLimitExceeded) as second:
            await drive_task(clock, placing)
        errors.append(second.value)
        assert clock.now_ms() - refused_at >= 4_000
        assert server.faults.count("POST", ORDER_PATH) == 2  # one request per placement, no retry
        assert not server.state.orders
        order = await drive_task(clock, trader.create_order("limit", "buy", "BTC/USDT", "0.001", price))
        assert order.exchange_order_id is not None
        assert server.faults.count("POST", ORDER_PATH) == 3
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog, *errors)


async def test_a_418_ban_pauses_trading_with_a_typed_error_until_it_lifts(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue) as (manager, clock):
        await started(manager)
        trader = manager.trader
        price = far_buy_price(server)
        server.faults.status(418, method="POST", path=ORDER_PATH, retry_after=30)
        with pytest.raises(RateLimitExceeded) as banned:
            await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        assert banned.value.not_processed
        assert "418" in caplog.text and "banned" in caplog.text  # a clear log line
        sent = len(server.faults.requests)
        errors: list[BaseException] = [banned.value]
        for _ in range(3):  # during the ban: refused at once, typed, nothing sent
            clock.set_time(clock.now_ms() + 5_000)
            with pytest.raises(RateLimitExceeded) as paused:
                await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
            assert paused.value.not_processed and paused.value.retry_after is not None
            assert 0 < paused.value.retry_after <= 30
            errors.append(paused.value)
        assert len(server.faults.requests) == sent
        assert sum("banned this IP" in r.getMessage() for r in caplog.records) == 1  # logged once
        assert manager.is_running
        await drive(clock, clock.now_ms() + 20_000)  # the ban lifts
        order = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        assert order.exchange_order_id is not None
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog, *errors)


async def test_a_418_ban_on_market_data_pauses_the_readers_without_a_busy_loop(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue, rest_only=True) as (manager, clock):
        await started(manager, streams=False)
        await drive(clock, clock.now_ms() + 10_000)
        connector = manager.connector
        assert isinstance(connector, CCXTConnector)
        gate = connector.rate_gate
        refusals = []
        original = gate.before_request

        async def counted(clock_, *, exchange=None):  # type: ignore[no-untyped-def]
            try:
                await original(clock_, exchange=exchange)
            except RateLimitExceeded:
                refusals.append(clock_.now_ms())
                raise

        gate.before_request = counted  # type: ignore[method-assign]
        server.faults.status(418, path=TICKER, retry_after=60)
        sent = len(server.faults.requests)
        await drive(clock, clock.now_ms() + 50_000)  # inside the ban
        # the refused request (and at most one other reader's, sent before the 418 came back)
        assert len(server.faults.requests) - sent <= 2, server.faults.requests[sent:]
        during = len(server.faults.requests)
        # the readers keep their pace: a refused call per poll, no loop retrying at once
        assert len(refusals) <= 50 * 2, len(refusals)
        assert manager.is_running
        await drive(clock, clock.now_ms() + 30_000)  # the ban lifts: reads resume
        assert len(server.faults.requests) > during
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
