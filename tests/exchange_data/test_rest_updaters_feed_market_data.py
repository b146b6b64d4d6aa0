"""REST updaters against the fake Binance server through the real ccxt client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data import ExchangeMarketData
from octobot_trading.exchange_data.payloads import CandleUpdate, KlineUpdate
from octobot_trading.exchange_data.updaters.base import polling_period
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
    RestTradesUpdater,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import FundingRate
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .helpers import make_connector, until

H1 = TimeFrame.H1.ms


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    async with FakeExchangeServer(start_index=100) as srv:
        yield srv


def _closed_at(server: FakeExchangeServer) -> int:
    """Close time of the server's current (last closed) candle."""
    return int(server.state.markets["BTCUSDT"].current[0]) + H1


async def test_candles_history_then_each_close_with_late_candle_and_backfill(server):
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(_closed_at(server) + 5_000)
    connector = make_connector(server, clock)
    md = ExchangeMarketData(clock, synchronized=False, exchange_name="binance")
    md.readiness.require("candles:BTC/USDT:1h", "price:BTC/USDT")
    published: list[CandleUpdate] = []

    async def on_candle(update: CandleUpdate) -> None:
        published.append(update)

    md.channels.ohlcv.subscribe(on_candle, symbol="BTC/USDT", time_frame="1h")
    await md.start()
    updater = RestCandlesUpdater(
        md, connector, ["BTC/USDT"], ["1h"], history=50, close_delay=1.0, late_retries=2, late_retry_delay=2.0
    )
    before = set(asyncio.all_tasks())
    try:
        await updater.start()
        buffer = md.symbols_data.get("BTC/USDT").candles("1h")
        await until(lambda: len(buffer) == 50)
        assert md.readiness.is_ready and published == []  # history is stored, not published
        expected = np.array([float(r[4]) for r in market.candles[51:101]])
        np.testing.assert_array_equal(buffer.closes(), expected)

        # next close: the server has the new candle -> fetched and published once
        server.advance()
        await clock.run_until(_closed_at(server) + 1_000)
        await until(lambda: len(published) == 1)
        assert published[0].timestamp == int(market.current[0])
        assert published[0].close == float(market.current[4])

        # late candle: not on the server at close + 1 s; found by the retry 2 s later
        requests = connector_requests(server)
        await clock.run_until(_closed_at(server) + H1 + 1_000)
        await until(lambda: connector_requests(server) > requests)  # it did look at close + 1 s
        await asyncio.sleep(0.05)
        assert len(published) == 1
        server.advance()
        await clock.run_until(clock.now_ms() + 2_000)
        await until(lambda: len(published) == 2)
        assert updater.late == 0

        # the venue fails for a whole close (after its retries): the next close backfills both
        server.faults.drop_before(path="/api/v3/klines", times=None)
        server.advance()
        await clock.run_until(_closed_at(server) + 1_000)
        for n, step in ((1, 2_000), (2, 4_000)):

            def reached(n: int = n) -> bool:
                return updater.errors >= n

            await until(reached)
            await clock.run_until(clock.now_ms() + step)
        await until(lambda: updater.errors >= 3)
        await until(lambda: updater.late == 1)
        server.faults.clear()
        server.advance()
        await clock.run_until(_closed_at(server) + 1_000)
        await until(lambda: len(published) == 4)
        times = [p.timestamp for p in published]
        assert times == sorted(set(times)) and np.all(np.diff(times) == H1)
        assert buffer.last_timestamp == int(market.current[0])
    finally:
        await updater.stop()
        await md.stop()
        await connector.close()
    assert not updater.is_running
    assert set(asyncio.all_tasks()) - before == set()


def connector_requests(server: FakeExchangeServer) -> int:
    return server.faults.count("GET", "/api/v3/klines")


async def test_candles_in_construction_go_to_kline(server):
    # the clock sits inside the server's last candle: that candle is still open
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(int(market.current[0]) + 10_000)
    connector = make_connector(server, clock)
    md = ExchangeMarketData(clock, synchronized=True)
    klines: list[KlineUpdate] = []

    async def on_kline(update: KlineUpdate) -> None:
        klines.append(update)

    md.channels.kline.subscribe(on_kline)
    updater = RestCandlesUpdater(md, connector, ["BTC/USDT"], ["1h"], history=10)
    try:
        assert await updater.load_history("BTC/USDT", TimeFrame.H1) == 9
        assert len(klines) == 1 and klines[0].timestamp == int(market.current[0])
        sd = md.symbols_data.get("BTC/USDT")
        assert sd.kline.get("1h").close == float(market.current[4])  # type: ignore[union-attr]
        assert sd.candles("1h").last_timestamp == int(market.candles[99][0])
    finally:
        await connector.close()


async def test_pollers_feed_ticker_book_trades_and_mark_price(server):
    clock = SimulatedClock(_closed_at(server) + 5_000)
    connector = make_connector(server, clock, symbols=("BTC/USDT", "ETH/USDT"))
    md = ExchangeMarketData(clock, synchronized=False)
    md.readiness.require("price:BTC/USDT", "price:ETH/USDT")
    pollers = [
        RestTickerUpdater(md, connector, ["BTC/USDT", "ETH/USDT"], base_period=2, per_pair_period=0.5),
        RestOrderBookUpdater(md, connector, ["BTC/USDT"]),
        RestTradesUpdater(md, connector, ["BTC/USDT"]),
        RestFundingUpdater(md, connector, ["BTC/USDT"]),
    ]
    assert pollers[0].period == 2.5
    await md.start()
    try:
        for poller in pollers:
            await poller.start()
        await until(lambda: all(p.rounds >= 1 for p in pollers))
        await md.wait_ready(0)
        btc = md.symbols_data.get("BTC/USDT")
        last = server.state.markets["BTCUSDT"].last_price
        assert btc.ticker is not None and btc.ticker.last == last and btc.mark_price == last
        bid, ask = btc.order_book.best_bid(), btc.order_book.best_ask()
        assert bid is not None and ask is not None and bid[0] < last < ask[0]
        assert md.symbols_data.get("ETH/USDT").mark_price == server.state.markets["ETHUSDT"].last_price
        assert "BTC/USDT" in pollers[3]._disabled  # spot binance on the fake server: no funding
        # the next round happens after the period, on the clock
        server.advance()
        await clock.run_until(clock.now_ms() + 2_500)
        await until(lambda: pollers[0].rounds >= 2)
        assert btc.ticker.last == server.state.markets["BTCUSDT"].last_price  # type: ignore[union-attr]
    finally:
        for poller in pollers:
            await poller.stop()
        await md.stop()
        await connector.close()


def test_polling_period_grows_with_pairs():
    assert polling_period(2, 0.5, 1) == 2
    assert polling_period(2, 0.5, 11) == 7
    with pytest.raises(Exception, match="positive"):
        polling_period(0, 1, 1)


class _FundingOnlyConnector(ExchangeConnector):
    """The fake Binance server is spot-only: a minimal perpetual venue for the funding poller."""

    name = "perp-venue"

    def __init__(self, clock: SimulatedClock) -> None:
        super().__init__(clock)
        self.rates = iter([Decimal("0.0001"), Decimal("-0.0002"), Decimal("0.0003")])

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        return FundingRate(
            symbol,
            next(self.rates),
            self.clock.now_ms(),
            next_funding_timestamp=self.clock.now_ms() + 8 * 3_600_000,
            mark_price=Decimal("20000.5"),
        )

    async def _nope(self, *args: object, **kwargs: object) -> Any:
        raise self._not_supported("this call")

    load_markets = fetch_ticker = fetch_ohlcv = fetch_order_book = fetch_recent_trades = _nope  # type: ignore[assignment]
    fetch_balance = create_order = fetch_order = fetch_order_by_client_id = cancel_order = _nope  # type: ignore[assignment]
    fetch_open_orders = fetch_closed_orders = fetch_my_trades = _nope  # type: ignore[assignment]


async def test_funding_poller_feeds_funding_mark_price_and_readiness():
    clock = SimulatedClock(1_700_000_000_000)
    md = ExchangeMarketData(clock, synchronized=True)
    md.readiness.require("funding:BTC/USDT:USDT", "price:BTC/USDT:USDT")
    poller = RestFundingUpdater(md, _FundingOnlyConnector(clock), ["BTC/USDT:USDT"], base_period=60)
    await poller.start()
    try:
        await asyncio.sleep(0)
        await until(lambda: poller.rounds == 1)
        sd = md.symbols_data.get("BTC/USDT:USDT")
        assert sd.funding is not None and sd.funding.rate == Decimal("0.0001")
        assert sd.mark_price == Decimal("20000.5") and md.readiness.is_ready
        await clock.run_until(clock.now_ms() + 60_000)
        await until(lambda: poller.rounds == 2)
        assert sd.funding.rate == Decimal("-0.0002")  # type: ignore[union-attr]
    finally:
        await poller.stop()


async def test_next_close_follows_the_venue_phase():
    clock = SimulatedClock(0)
    md = ExchangeMarketData(clock, synchronized=True)
    updater = RestCandlesUpdater(md, _FundingOnlyConnector(clock), ["BTC/USDT"], ["1w"])
    week = TimeFrame.W1.ms
    assert updater.next_close(TimeFrame.W1, 10) == 2 * week  # epoch phase without candles
    monday = 4 * 86_400_000  # 1970-01-05, a Monday: Binance weeks open on Mondays
    md.symbols_data.get("BTC/USDT").candles("1w").add_candle(monday, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert updater.next_close(TimeFrame.W1, monday + week + 5) == monday + 2 * week
    # far behind (missed closes): the next close in phase after now
    assert updater.next_close(TimeFrame.W1, monday + 5 * week + 1) == monday + 6 * week
    assert updater.next_close(TimeFrame.W1, monday + 5 * week) == monday + 6 * week


async def test_history_is_paged_backwards_when_longer_than_one_request(server):
    market = server.state.markets["BTCUSDT"]
    clock = SimulatedClock(_closed_at(server) + 5_000)
    connector = make_connector(server, clock)
    md = ExchangeMarketData(clock, synchronized=True)
    updater = RestCandlesUpdater(md, connector, ["BTC/USDT"], ["1h"], history=90)
    updater.page_size = 40
    try:
        assert await updater.load_history("BTC/USDT", TimeFrame.H1) == 90
        assert server.faults.count("GET", "/api/v3/klines") == 3
        buffer = md.symbols_data.get("BTC/USDT").candles("1h")
        np.testing.assert_array_equal(buffer.times(), [int(r[0]) for r in market.candles[11:101]])
    finally:
        await connector.close()
