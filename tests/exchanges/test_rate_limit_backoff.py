"""429 and 418 answers slow or pause every caller of the venue, honouring Retry-After."""

from __future__ import annotations

import aiohttp
import ccxt
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from octobot_trading.clock import SimulatedClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.errors import NetworkError, RateLimitExceeded
from octobot_trading.exchanges.connectors.ccxt import CCXTAdapter
from octobot_trading.exchanges.connectors.ccxt.client import create_ccxt_client
from octobot_trading.exchanges.connectors.ccxt.websocket import CCXTWebsocketFeeds
from octobot_trading.exchanges.rate_limit import VenueRateGate, parse_retry_after
from octobot_trading.exchanges.retry import RetryPolicy

from .conftest import drive

TICKER = "/api/v3/ticker/24hr"


def test_parse_retry_after_reads_seconds_case_insensitively():
    assert parse_retry_after({"Retry-After": "6"}) == 6.0
    assert parse_retry_after({"retry-after": " 2.5 "}) == 2.5
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert parse_retry_after({"Retry-After": "-3"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


async def test_a_429_makes_every_connector_of_the_venue_wait_its_retry_after(server, connector_factory):
    clock = SimulatedClock(server.clock.now_ms())
    first = connector_factory(clock, retry=RetryPolicy(attempts=3, base_delay=0.01, rate_limit_delay=0.01))
    second = connector_factory(clock, retry=RetryPolicy(attempts=1))
    try:
        await drive(clock, first.load_markets())
        await drive(clock, second.load_markets())
        server.faults.status(429, path=TICKER, retry_after=6)
        started = clock.now_ms()
        before = server.faults.count("GET", TICKER)
        ticker = await drive(clock, first.fetch_ticker("BTC/USDT"))
        assert ticker.last is not None
        # one refused request, then exactly one more once the 6 s had passed: no tight retry loop
        assert server.faults.count("GET", TICKER) == before + 2
        assert clock.now_ms() - started >= 6_000
        # the other connector on the same venue shares the back-off (already over here)
        assert first.rate_gate is second.rate_gate
    finally:
        await first.close()
        await second.close()


async def test_a_418_ban_pauses_every_request_with_a_typed_error_until_it_lifts(server, connector_factory):
    clock = SimulatedClock(server.clock.now_ms())
    connector = connector_factory(
        clock, retry=RetryPolicy(attempts=4, base_delay=0.01, rate_limit_delay=0.01, max_delay=2)
    )
    try:
        await drive(clock, connector.load_markets())
        server.faults.status(418, path=TICKER, retry_after=3)
        with pytest.raises(RateLimitExceeded) as excinfo:
            await drive(clock, connector.fetch_ticker("BTC/USDT"))
        assert excinfo.value.retry_after is not None and excinfo.value.retry_after > 2
        sent = len(server.faults.requests)
        # during the ban nothing is sent, whatever the call, and orders are refused as not placed
        with pytest.raises(RateLimitExceeded) as banned:
            await drive(clock, connector.fetch_balance())
        assert banned.value.not_processed
        assert len(server.faults.requests) == sent
        clock.advance(4_000)
        assert "USDT" in await drive(clock, connector.fetch_balance())
    finally:
        await connector.close()


def test_gate_keeps_the_longest_back_off():
    gate = VenueRateGate("binance")
    gate.note(429, 10, now_ms=0)
    gate.note(429, 2, now_ms=1_000)
    assert gate.cool_until_ms == 10_000
    gate.note(418, None, now_ms=0)
    assert gate.banned_for(0) == 60.0


async def test_a_websocket_handshake_refused_with_418_bans_every_request_of_the_venue():
    clock = SimulatedClock(1_000_000)
    gate = VenueRateGate(venue="binance")
    config = ExchangeConfig(exchange="binance")
    feeds = CCXTWebsocketFeeds(
        config, clock, CCXTAdapter("binance"), lambda: create_ccxt_client(config, pro=True), rate_gate=gate
    )
    url = URL("ws://127.0.0.1:9/ws")
    refused = aiohttp.WSServerHandshakeError(
        aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url),
        (),
        status=418,
        message="Invalid response status",
        headers={"Retry-After": "120"},  # type: ignore[arg-type]
    )

    async def handshake(_client: object) -> None:
        raise ccxt.NetworkError(refused)  # what ccxt.pro raises for a refused connection

    try:
        with pytest.raises(NetworkError):
            await feeds._call(handshake, None)
        assert gate.banned_for(clock.now_ms()) == 120
        with pytest.raises(RateLimitExceeded):  # the next subscription is not even attempted
            await feeds.subscribe_private()
    finally:
        await feeds.close()
