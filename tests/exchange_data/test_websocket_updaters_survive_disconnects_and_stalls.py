"""Websocket updaters with the real ccxt.pro client against the fake Binance streams:
flow, forced disconnect (no closed candle lost), silent stall (watchdog + REST fallback)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from decimal import Decimal

import numpy as np
import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data import ExchangeMarketData
from octobot_trading.exchange_data.payloads import CandleUpdate
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater, RestTickerUpdater
from octobot_trading.exchange_data.updaters.ws import WebsocketUpdater, websocket_updaters
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from octobot_trading.testing.fake_exchange.ws import FakeBinanceStreams

from .helpers import drive, make_connector, until

H1 = TimeFrame.H1.ms


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[FakeExchangeServer, FakeBinanceStreams]]:
    server = FakeExchangeServer(start_index=100)
    streams = FakeBinanceStreams(server)
    async with server:
        yield server, streams


def _close(server: FakeExchangeServer, ahead: int = 0) -> int:
    market = server.state.markets["BTCUSDT"]
    return int(market.candles[market.cursor + ahead][0]) + H1


def _connector(server: FakeExchangeServer, streams: FakeBinanceStreams, clock: SimulatedClock):
    conn = make_connector(server, clock)
    conn._client_hook = streams.client_hook  # REST client already hooked by the server; ws client by the streams
    return conn


async def test_candles_flow_and_forced_disconnect_loses_no_closed_candle(exchange):
    server, streams = exchange
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(_close(server) + 5_000)
    connector = _connector(server, streams, clock)
    md = ExchangeMarketData(clock, synchronized=False)
    published: list[int] = []

    async def on_candle(update: CandleUpdate) -> None:
        published.append(update.timestamp)

    md.channels.ohlcv.subscribe(on_candle, symbol="BTC/USDT", time_frame="1h")
    await md.start()
    fallback = RestCandlesUpdater(md, connector, ["BTC/USDT"], ["1h"], history=50)
    updater = WebsocketUpdater(
        "ohlcv",
        md,
        connector,
        ["BTC/USDT"],
        fallback,
        time_frames=["1h"],
        expected_interval=900,
        stale_after=8,
        backoff_base=1,
        jitter=0,
    )
    before = set(asyncio.all_tasks())
    try:
        await updater.start()
        buffer = md.symbols_data.get("BTC/USDT").candles("1h")
        assert len(buffer) == 50 and not updater.fallback_running
        await until(lambda: "btcusdt@kline_1h" in streams.subscriptions)

        # a candle closes: the stream delivers it, published once
        await drive(clock, _close(server, 1) + 1_000)
        server.advance()
        await until(lambda: len(published) == 1)
        assert published == [int(market.current[0])] and updater.updates >= 1

        # forced disconnect: REST fallback takes over at once, two candles close while down
        await streams.disconnect()
        await until(lambda: updater.disconnects >= 1 and updater.fallback_running)
        server.advance()
        server.advance()
        await drive(clock, _close(server) + 1_500)
        await until(lambda: len(published) == 3)
        # the stream comes back with the next candle: fallback off, nothing lost or doubled
        await drive(clock, _close(server, 1) + 1_000)
        server.advance()
        await until(lambda: len(published) == 4 and not updater.fallback_running)
        assert streams.connections >= 2  # it reconnected
        assert published == [int(r[0]) for r in market.candles[101:105]]
        np.testing.assert_array_equal(buffer.closes(limit=4), [float(r[4]) for r in market.candles[101:105]])
    finally:
        await updater.stop()
        await md.stop()
        await connector.close()
    assert set(asyncio.all_tasks()) - before == set()


async def test_reconnect_then_backfill_of_candles_missed_while_down(exchange):
    # no fallback timer fires (the clock does not reach a close while down): the gap is backfilled
    server, streams = exchange
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(_close(server) + 5_000)
    connector = _connector(server, streams, clock)
    md = ExchangeMarketData(clock, synchronized=True)
    published: list[int] = []

    async def on_candle(update: CandleUpdate) -> None:
        published.append(update.timestamp)

    md.channels.ohlcv.subscribe(on_candle)
    fallback = RestCandlesUpdater(md, connector, ["BTC/USDT"], ["1h"], history=20)
    updater = WebsocketUpdater(
        "ohlcv",
        md,
        connector,
        ["BTC/USDT"],
        fallback,
        time_frames=["1h"],
        expected_interval=10_000,
        backoff_base=0.5,
        jitter=0,
    )
    try:
        await updater.start()
        await until(lambda: "btcusdt@kline_1h" in streams.subscriptions)
        await streams.disconnect()
        await until(lambda: updater.disconnects >= 1)
        fallback_tasks = list(fallback._tasks)
        await fallback.stop()  # keep the fallback from fetching: only the reconnect path remains
        assert fallback_tasks
        server.advance(3)  # three candles close while the stream is down
        clock.set_time(_close(server) + 2_000)  # wakes the backoff: reconnect
        await until(lambda: streams.connections >= 2 and "btcusdt@kline_1h" in streams.subscriptions)
        clock.set_time(_close(server, 1) + 1_000)
        server.advance()  # the stream delivers the 4th: the 3 missed ones are fetched by REST first
        await until(lambda: updater.backfilled == 4 and not updater.unhealthy)
        assert published == [int(r[0]) for r in market.candles[101:105]]
        assert updater.backfilled == 4  # REST fetched the gap (and the newest) in order
    finally:
        await updater.stop()
        await connector.close()


async def test_silent_stall_fires_watchdog_and_rest_fallback_keeps_prices(exchange):
    server, streams = exchange
    clock = SimulatedClock(_close(server) + 5_000)
    connector = _connector(server, streams, clock)
    md = ExchangeMarketData(clock, synchronized=False)
    await md.start()
    fallback = RestTickerUpdater(md, connector, ["BTC/USDT"], base_period=5)
    updater = WebsocketUpdater(
        "ticker",
        md,
        connector,
        ["BTC/USDT"],
        fallback,
        expected_interval=10,
        stale_after=3,
        backoff_base=1,
        jitter=0.5,
        rng=random.Random(1),
    )
    sd = md.symbols_data.get("BTC/USDT")
    try:
        await updater.start()
        await until(lambda: "btcusdt@miniTicker" in streams.subscriptions)
        server.advance()
        await until(lambda: sd.ticker is not None)
        assert sd.ticker.last == server.state.markets["BTCUSDT"].last_price  # type: ignore[union-attr]
        connections = streams.connections

        streams.stalled = True  # the connection stays open, nothing arrives
        server.advance()
        await drive(clock, clock.now_ms() + 25_000)
        assert updater.stalls == 0  # 25 s < 3 x 10 s
        await drive(clock, clock.now_ms() + 10_000)
        await until(lambda: updater.stalls == 1 and updater.fallback_running)
        # REST keeps the price current meanwhile
        await drive(clock, clock.now_ms() + 6_000)
        await until(lambda: sd.ticker.last == server.state.markets["BTCUSDT"].last_price)  # type: ignore[union-attr]
        # the reset made ccxt reconnect; once events flow again the fallback stops
        streams.stalled = False
        await drive(clock, clock.now_ms() + 5_000)
        await until(lambda: streams.connections > connections and "btcusdt@miniTicker" in streams.subscriptions)
        server.advance()
        await until(lambda: not updater.fallback_running)
        assert sd.ticker.last == server.state.markets["BTCUSDT"].last_price  # type: ignore[union-attr]
    finally:
        await updater.stop()
        await md.stop()
        await connector.close()


async def test_book_and_trades_streams_and_standard_set(exchange):
    server, streams = exchange
    clock = SimulatedClock(_close(server) + 5_000)
    connector = _connector(server, streams, clock)
    md = ExchangeMarketData(clock, synchronized=False)
    await md.start()
    updaters = websocket_updaters(md, connector, ["BTC/USDT"], ["1h"], expected_interval=3600)
    assert [u.name for u in updaters] == ["ws_ohlcv", "ws_ticker", "ws_order_book", "ws_trades"]
    sd = md.symbols_data.get("BTC/USDT")
    try:
        for updater in updaters:
            await updater.start()
        await until(lambda: len(streams.subscriptions) == 4 and sd.order_book.valid)
        await drive(clock, _close(server, 1) + 1_000)
        server.advance()
        last = server.state.markets["BTCUSDT"].last_price
        await until(
            lambda: (
                (bid := sd.order_book.best_bid()) is not None
                and bid[0] == last - Decimal("0.01")
                and sd.recent_trades.last is not None
            )
        )
        rest_book = await connector.fetch_order_book("BTC/USDT", 1000)
        assert sd.order_book.bids(5) == rest_book.bids[:5] and sd.order_book.asks(5) == rest_book.asks[:5]
        assert sd.recent_trades.last.price == last  # type: ignore[union-attr]
        assert sd.mark_price == last
    finally:
        for updater in updaters:
            await updater.stop()
        await md.stop()
        await connector.close()
