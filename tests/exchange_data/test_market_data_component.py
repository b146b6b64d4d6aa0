"""The market-data component a builder assembles: a paper-trading manager on the fake Binance server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data.market_data_component import MarketDataComponent
from octobot_trading.exchange_data.payloads import CandleUpdate
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.clock_driving import build_simulated, sleeps_on

from .helpers import until

H1 = TimeFrame.H1.ms


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    async with FakeExchangeServer(start_index=100) as srv:
        yield srv


def _builder(server: FakeExchangeServer, clock: SimulatedClock) -> ot.exchanges.ExchangeBuilder:
    return (
        ot.exchanges.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["1h"])
        .with_ccxt_options({**server.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(server.client_hook)
        .with_clock(clock)
    )


async def test_paper_manager_rest_only_gets_ready_and_candles_flow(server):
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(int(market.current[0]) + H1 + 5_000)
    before = set(asyncio.all_tasks())
    manager = await build_simulated(_builder(server, clock).rest_only().use_simulated_trader({"USDT": "10000"}))
    try:
        component = manager.get_component("exchange_data")
        assert isinstance(component, MarketDataComponent) and not component.websockets
        assert [c.name for c in manager.components].index("exchange_data") < [c.name for c in manager.components].index(
            "trader"
        )
        assert any(isinstance(u, RestCandlesUpdater) for u in component.updaters)
        received: list[CandleUpdate] = []

        async def on_candle(update: CandleUpdate) -> None:
            received.append(update)

        manager.channels.ohlcv.subscribe(on_candle, symbol="BTC/USDT", time_frame="1h")
        # the account topics are marked by the trader's first sync, so the manager becomes ready
        # (and readiness-gated modes can act) without anyone calling wait_ready()
        await until(lambda: component.market_data.readiness.missing == ())
        await manager.wait_ready(timeout=0)
        sd = manager.exchange_symbols_data.get("BTC/USDT")
        closes = sd.candles("1h").closes()
        assert closes.size == 101 and closes[-1] == float(market.current[4])
        await until(lambda: sd.ticker is not None and sd.order_book.best_bid() is not None)
        assert sd.mark_price == market.last_price
        bid, ask = sd.order_book.best_bid(), sd.order_book.best_ask()
        assert bid is not None and ask is not None and bid[0] < ask[0]

        server.advance()
        await clock.run_until(int(market.current[0]) + H1 + 1_000)
        await until(lambda: len(received) == 1)
        assert received[0].close == float(market.current[4])
        np.testing.assert_array_equal(sd.candles("1h").closes(limit=1), [float(market.current[4])])
    finally:
        await manager.stop()
    assert set(asyncio.all_tasks()) - before == set()
    assert manager.get_component("exchange_data").updaters == []  # type: ignore[union-attr]


async def test_wait_ready_times_out_naming_missing_topics(server):
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(int(market.current[0]) + H1 + 5_000)
    server.faults.drop_before(path="/api/v3/klines", times=None)  # candles never arrive
    manager = await build_simulated(_builder(server, clock).rest_only().use_simulated_trader({"USDT": "10000"}))
    try:
        start = clock.now_ms()
        waiter = asyncio.ensure_future(manager.wait_ready(timeout=30))
        while not waiter.done():  # real I/O between steps; the connector's retries sleep on the clock
            await asyncio.sleep(0.01)
            clock.set_time(clock.now_ms() + 1_000)
        assert clock.now_ms() - start <= 31_000
        with pytest.raises(ot.errors.ReadinessTimeout) as info:
            await waiter
        assert info.value.missing == ("candles:BTC/USDT:1h",)
    finally:
        await manager.stop()


async def test_paper_manager_with_websockets_gets_ready_and_data_flows():
    from octobot_trading.exchange_data.updaters.ws import WebsocketUpdater
    from octobot_trading.testing.fake_exchange.ws import FakeBinanceStreams

    server = FakeExchangeServer(start_index=100)
    streams = FakeBinanceStreams(server)
    async with server:
        market = server.state.markets["BTCUSDT"]
        clock = SimulatedClock(int(market.current[0]) + H1 + 5_000)
        before = set(asyncio.all_tasks())
        manager = await build_simulated(
            _builder(server, clock)
            .with_client_hook(streams.client_hook)
            .with_websocket_options(expected_interval=3600)  # the replay moves when the test does
            .use_simulated_trader({"USDT": "10000"})
        )
        try:
            component = manager.get_component("exchange_data")
            assert isinstance(component, MarketDataComponent) and component.websockets
            assert all(isinstance(u, WebsocketUpdater) for u in component.updaters)
            received: list[CandleUpdate] = []

            async def on_candle(update: CandleUpdate) -> None:
                received.append(update)

            manager.channels.ohlcv.subscribe(on_candle)
            await manager.wait_ready(timeout=0)  # history by REST, price from the last close
            await until(lambda: {"btcusdt@kline_1h", "btcusdt@miniTicker", "btcusdt@trade"} <= streams.subscriptions)
            sd = manager.exchange_symbols_data.get("BTC/USDT")
            await until(lambda: sd.order_book.valid)
            clock.set_time(int(market.current[0]) + 2 * H1 + 1_000)
            server.advance()
            await until(lambda: len(received) == 1 and sd.ticker is not None and sd.recent_trades.last is not None)
            assert received[0].timestamp == int(market.current[0])
            assert sd.ticker.last == market.last_price  # type: ignore[union-attr]
            assert sd.mark_price == market.last_price

            def inside_the_spread() -> bool:
                bid, ask = sd.order_book.best_bid(), sd.order_book.best_ask()
                return bid is not None and ask is not None and bid[0] < market.last_price < ask[0]

            await until(inside_the_spread)

            # kill the websockets mid-run: two candles close while down, none is lost or doubled
            klines = server.faults.count("GET", "/api/v3/klines")
            await streams.disconnect()
            ohlcv = next(u for u in component.updaters if isinstance(u, WebsocketUpdater) and u.name == "ws_ohlcv")
            await until(lambda: ohlcv.disconnects >= 1 and ohlcv.fallback_running)
            # the REST fallback loads history, then sleeps on the clock until the next close
            await until(lambda: server.faults.count("GET", "/api/v3/klines") > klines)
            fallback_tasks = [t for t in ohlcv.fallback._tasks if not t.done()]
            assert fallback_tasks
            await until(lambda: all(sleeps_on(t, clock) for t in fallback_tasks))
            server.advance(2)
            clock.set_time(int(market.current[0]) + H1 + 1_000)
            await until(lambda: len(received) == 3)
            clock.set_time(int(market.current[0]) + 2 * H1 + 1_000)
            server.advance()
            await until(lambda: len(received) == 4 and not ohlcv.unhealthy)
            assert [u.timestamp for u in received] == [int(r[0]) for r in market.candles[101:105]]
        finally:
            await manager.stop()
        assert set(asyncio.all_tasks()) - before == set()
