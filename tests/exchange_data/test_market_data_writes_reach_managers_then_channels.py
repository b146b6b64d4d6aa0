"""ExchangeMarketData / ExchangeSymbolsData: writes go to the managers, then to the channels."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderSide, TimeFrame
from octobot_trading.errors import InvalidSymbol
from octobot_trading.exchange_data import Crossing, ExchangeMarketData
from octobot_trading.exchange_data.payloads import (
    CandleUpdate,
    FundingUpdate,
    MarkPriceUpdate,
    OrderBookUpdate,
    RecentTradesUpdate,
    TickerUpdate,
)
from octobot_trading.exchange_data.prices import PriceSource
from octobot_trading.exchanges.types import Candle, FundingRate, OrderBook, PublicTrade, Ticker


def _collect(channel, **filters):
    got: list = []

    async def cb(payload) -> None:
        got.append(payload)

    channel.subscribe(cb, **filters)
    return got


async def test_backtest_style_candle_flow_with_real_candles(btc_1h_rows):
    clock = SimulatedClock(btc_1h_rows[0][0])
    md = ExchangeMarketData(clock, synchronized=True, exchange_name="binance")
    md.readiness.require_defaults(["BTC/USDT"], ["1h"])
    candles = _collect(md.channels.ohlcv, symbol="BTC/USDT", time_frame="1h")
    marks = _collect(md.channels.mark_price)
    sd = md.symbols_data.get("BTC/USDT")
    stop_fired: list = []
    sd.price_events.register("19000", Crossing.BELOW, stop_fired.append)
    for row in btc_1h_rows[:100]:
        clock.set_time(row[0] + TimeFrame.H1.ms)
        assert await md.on_closed_candle("BTC/USDT", TimeFrame.H1, *row)
    assert not await md.on_closed_candle("BTC/USDT", TimeFrame.H1, *btc_1h_rows[0])  # older: ignored
    assert len(candles) == 100 and isinstance(candles[0], CandleUpdate)
    np.testing.assert_array_equal(sd.candles("1h").closes(), np.array(btc_1h_rows[:100])[:, 4])
    assert sd.mark_price == D(repr(btc_1h_rows[99][4]))
    assert isinstance(marks[-1], MarkPriceUpdate) and marks[-1].source == PriceSource.CANDLE
    assert len(marks) == 100
    lows = [r[3] for r in btc_1h_rows[:100]]
    first_below = next(i for i, low in enumerate(lows) if low <= 19000)
    assert len(stop_fired) == 1 and stop_fired[0].price == D(repr(lows[first_below]))
    assert md.readiness.missing == ("balance", "markets", "orders")


async def test_typed_updates_publish_and_feed_prices(btc_1h_candles):
    clock = SimulatedClock(1_700_000_000_000)
    md = ExchangeMarketData(clock, synchronized=True)
    tickers = _collect(md.channels.ticker)
    books = _collect(md.channels.order_book, symbol="BTC/USDT")
    trades = _collect(md.channels.recent_trades)
    funding = _collect(md.channels.funding)
    ohlcv = _collect(md.channels.ohlcv)

    assert await md.load_history("BTC/USDT", "1h", btc_1h_candles[:50]) == 50
    assert ohlcv == []  # history is loaded, not published
    assert md.readiness.is_seen("candles:BTC/USDT:1h")
    assert await md.on_candles("BTC/USDT", "1h", btc_1h_candles[45:52]) == 2
    assert [c.timestamp for c in ohlcv] == [btc_1h_candles[50].timestamp, btc_1h_candles[51].timestamp]

    await md.on_ticker(Ticker("BTC/USDT", clock.now_ms(), D("20000"), D("19999"), D("20001")))
    assert isinstance(tickers[0], TickerUpdate)
    sd = md.symbols_data.get("BTC/USDT")
    assert sd.ticker is not None and sd.mark_price == D("20000")
    await md.on_ticker(Ticker("BTC/USDT", clock.now_ms() - 1, D("1")))  # older ticker: ignored
    assert len(tickers) == 1 and sd.mark_price == D("20000")

    t = [
        PublicTrade("1", "BTC/USDT", OrderSide.BUY, D("20002"), D("0.1"), clock.now_ms()),
        PublicTrade("2", "BTC/USDT", OrderSide.SELL, D("20003"), D("0.2"), clock.now_ms()),
    ]
    await md.on_trades("BTC/USDT", t)
    await md.on_trades("BTC/USDT", t)  # re-delivered: nothing new
    assert len(trades) == 1 and isinstance(trades[0], RecentTradesUpdate) and len(trades[0].trades) == 2
    assert sd.mark_price == D("20003") and len(sd.recent_trades) == 2

    await md.on_order_book(
        OrderBook("BTC/USDT", clock.now_ms(), [(D("20002"), D("1"))], [(D("20004"), D("2"))], nonce=5)
    )
    assert isinstance(books[0], OrderBookUpdate) and sd.order_book.best_bid() == (D("20002"), D("1"))
    assert await md.on_order_book_deltas("BTC/USDT", [(D("20003"), D("1"))], [], first_seq=6, last_seq=6)
    assert not await md.on_order_book_deltas("BTC/USDT", [], [], first_seq=8, last_seq=9)
    assert len(books) == 2 and sd.order_book.needs_snapshot

    await md.on_funding(FundingRate("BTC/USDT", D("0.0001"), clock.now_ms(), mark_price=D("20010")))
    assert isinstance(funding[0], FundingUpdate) and sd.funding is not None
    assert sd.mark_price == D("20010") and sd.prices.info().source is PriceSource.MARK_PRICE  # type: ignore[union-attr]
    await md.on_kline("BTC/USDT", "1h", Candle(1, D("1"), D("2"), D("0.5"), D("1.5"), D("3")))
    assert sd.kline.get("1h") is not None and sd.kline.get("1h").close == 1.5  # type: ignore[union-attr]


async def test_symbols_data_access_and_validation():
    md = ExchangeMarketData(SimulatedClock(), synchronized=True)
    sd = md.symbols_data.get("ETH/USDT")
    assert md.symbols_data.get("ETH/USDT") is sd and "ETH/USDT" in md.symbols_data
    assert md.symbols_data.symbols == ["ETH/USDT"] and len(md.symbols_data) == 1
    assert sd.candles("5m").closes().size == 0 and sd.mark_price is None and sd.ticker is None
    assert sd.order_book.best_bid() is None and sd.time_frames == [TimeFrame.M5]
    with pytest.raises(InvalidSymbol):
        md.symbols_data.get("not a symbol")
    assert "not a symbol" not in md.symbols_data
