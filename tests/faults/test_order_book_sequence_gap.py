"""An order-book sequence gap on the public depth stream: the book is resynced from a snapshot,
never left with the levels of the lost update, and the engine keeps running."""

from __future__ import annotations

import logging
from decimal import Decimal

from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.testing.fake_exchange import FakeBinanceStreams, FakeExchangeServer
from tests.exchange_data.helpers import drive
from tests.faults.conftest import (
    assert_engine_matches_venue,
    assert_no_secret,
    live_engine,
    settle,
    started,
    until,
)

LEVELS = 20


def _venue_book(server: FakeExchangeServer) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    market = server.state.markets["BTCUSDT"]
    bids, asks = FakeBinanceStreams.book_levels(market, market.cursor, LEVELS)
    return sorted(bids.items(), reverse=True), sorted(asks.items())


def _engine_book(manager: ExchangeManager) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    book = manager.exchange_symbols_data.get("BTC/USDT").order_book
    return [tuple(level) for level in book.bids(LEVELS)], [tuple(level) for level in book.asks(LEVELS)]  # type: ignore[misc]


async def test_a_depth_update_lost_in_the_stream_resyncs_the_book_from_a_snapshot(venue, caplog):
    caplog.set_level(logging.INFO)
    server, streams = venue.server, venue.streams
    async with live_engine(venue) as (manager, clock):
        await started(manager)
        await until(lambda: "btcusdt@depth" in streams.subscriptions or "btcusdt@depth@100ms" in streams.subscriptions)
        server.advance()
        await until(lambda: _engine_book(manager) == _venue_book(server))  # deltas followed
        snapshots = server.faults.count("GET", "/api/v3/depth")
        streams.stalled = True  # one update lost: the next one does not follow the last applied
        server.advance()
        await settle()
        streams.stalled = False
        server.advance()
        await until(lambda: "reconnecting" in caplog.text)  # the gap is detected and logged
        await drive(clock, clock.now_ms() + 5_000)  # past the stream's reconnect backoff
        await until(lambda: server.faults.count("GET", "/api/v3/depth") > snapshots)  # a new snapshot
        await until(lambda: _engine_book(manager) == _venue_book(server))
        server.advance()  # and deltas are followed again after it
        await until(lambda: _engine_book(manager) == _venue_book(server))
        await assert_engine_matches_venue(manager, server)
        assert_no_secret(server, caplog)
