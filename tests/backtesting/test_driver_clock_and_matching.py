"""The backtest driver's replay loop moves the clock and runs the matching engine with the same effects
as ``SimulatedClock.set_time`` and ``MatchingEngine.on_candle`` (it inlines both on its hot path)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, CandleSeries
from octobot_trading.backtesting.driver import BacktestDriver
from octobot_trading.enums import OrderSide, OrderType, TimeFrame, TradeType
from octobot_trading.exchange_data.channels import ChannelPriority
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.payloads import CandleUpdate
from octobot_trading.exchange_data.price_events import Crossing
from octobot_trading.exchange_data.symbol_data import ExchangeSymbolsData
from octobot_trading.exchanges.connectors.simulator import MatchingEngine, RestingOrder

MINUTE = 60_000


def _walk(n: int, seed: int) -> CandleData:
    rng = random.Random(seed)
    times, opens, highs, lows, closes = [], [], [], [], []
    price = 100.0
    for i in range(n):
        open_ = price
        price = round(max(1.0, price + rng.uniform(-3, 3)), 2)
        times.append(i * MINUTE)
        opens.append(open_)
        closes.append(price)
        highs.append(round(max(open_, price) + rng.uniform(0, 2), 2))
        lows.append(round(min(open_, price) - rng.uniform(0, 2), 2))
    series = CandleSeries.from_arrays(
        "BTC/USDT",
        "1m",
        np.array(times, dtype=np.int64),
        np.array(opens),
        np.array(highs),
        np.array(lows),
        np.array(closes),
        np.ones(n),
    )
    return CandleData([series])


def _engine_with_refills(record: list[tuple[object, ...]]) -> MatchingEngine:
    """An engine whose every fill places a new resting order a few units away (the book never empties)."""
    counter = iter(range(10**6))

    async def on_fill(order: RestingOrder, amount: Decimal, price: Decimal, role: TradeType, time_ms: int) -> None:
        record.append((order.id, amount, price, role, time_ms))
        side = OrderSide.SELL if order.side is OrderSide.BUY else OrderSide.BUY
        offset = Decimal(3) if side is OrderSide.SELL else Decimal(-3)
        engine.add(
            RestingOrder(f"o{next(counter)}", None, "BTC/USDT", OrderType.LIMIT, side, Decimal(1), price + offset)
        )

    engine = MatchingEngine(on_fill)
    engine.add(RestingOrder("first-buy", None, "BTC/USDT", OrderType.LIMIT, OrderSide.BUY, Decimal(1), Decimal(97)))
    engine.add(RestingOrder("first-sell", None, "BTC/USDT", OrderType.LIMIT, OrderSide.SELL, Decimal(1), Decimal(103)))
    return engine


async def test_driver_fills_resting_orders_exactly_as_on_candle_does() -> None:
    data = _walk(400, seed=7)
    series = data.get("BTC/USDT", "1m")
    # the driver's replay
    replayed: list[tuple[object, ...]] = []
    clock = ot.SimulatedClock()
    engine = _engine_with_refills(replayed)
    await BacktestDriver(
        data, clock=clock, market_data=ExchangeMarketData(clock, synchronized=True), engine=engine
    ).run()
    # the same candles through on_candle, one call per candle
    expected: list[tuple[object, ...]] = []
    reference = _engine_with_refills(expected)
    rows = zip(
        *(a.tolist() for a in (series.times, series.opens, series.highs, series.lows, series.closes)), strict=True
    )
    for t, o, h, lo, c in rows:
        walk = reference.on_candle("BTC/USDT", t + MINUTE, o, h, lo, c)
        if walk is not None:
            await walk
    assert len(expected) > 15  # the walk crosses the resting orders often
    assert replayed == expected
    assert engine.last_close == reference.last_close
    assert engine.thresholds("BTC/USDT") == reference.thresholds("BTC/USDT")
    assert sorted(o.id for o in engine.orders()) == sorted(o.id for o in reference.orders())


async def test_driver_wakes_a_clock_sleeper_at_the_candle_that_reaches_its_time() -> None:
    data = _walk(30, seed=3)
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    woke_at: list[int] = []

    async def sleeper() -> None:
        await clock.sleep(10 * MINUTE / 1000)
        woke_at.append(clock.now_ms())

    task = asyncio.get_running_loop().create_task(sleeper())
    await asyncio.sleep(0)  # the sleeper registers its wake time (10 minutes)
    seen: list[int] = []

    async def on_candle(candle: object) -> None:
        seen.append(clock.now_ms())
        await asyncio.sleep(0)  # one event-loop turn per candle: a woken sleeper runs here

    md.channels.ohlcv.subscribe(on_candle, symbol="BTC/USDT", time_frame="1m")
    await BacktestDriver(data, clock=clock, market_data=md).run()
    await task
    assert seen == [(i + 1) * MINUTE for i in range(30)]
    assert woke_at == [10 * MINUTE]


async def test_driver_refuses_to_move_the_clock_backwards() -> None:
    data = _walk(5, seed=1)
    clock = ot.SimulatedClock()
    clock.set_time(3 * MINUTE + 1)  # later than the first candles' close times
    with pytest.raises(ValueError, match="backwards"):
        await BacktestDriver(data, clock=clock, market_data=ExchangeMarketData(clock, synchronized=True)).run()


def _two_series(data: CandleData) -> CandleData:
    """``data``'s 1m series plus the same candles as an ETH/USDT series (a merged replay)."""
    series = data.get("BTC/USDT", "1m")
    other = CandleSeries.from_arrays(
        "ETH/USDT",
        "1m",
        series.times,
        series.opens,
        series.highs,
        series.lows,
        series.closes,
        series.volumes,
    )
    return CandleData([series, other])


@pytest.mark.parametrize("merged", [False, True])
async def test_driver_writes_and_publishes_what_the_hub_does_for_plain_and_async_consumers(merged: bool) -> None:
    """The driver's inlined candle write and payload build against ``on_closed_candle``: the same
    payloads in the same order, the same candle buffers (a small one: compacted several times),
    the same price events fired at the same candles and the same remembered price history."""
    data = _walk(120, seed=5)
    if merged:
        data = _two_series(data)
    symbols = sorted(data.symbols)

    async def record(source: CandleData, use_driver: bool) -> list[tuple[object, ...]]:
        clock = ot.SimulatedClock()
        md = ExchangeMarketData(
            clock, synchronized=True, symbols_data=ExchangeSymbolsData(clock, candle_capacity=16, price_history=8)
        )
        got: list[tuple[object, ...]] = []
        for symbol in symbols:
            events = md.symbols_data.get(symbol).price_events
            for threshold in ("90", "95", "99"):
                events.register(threshold, Crossing.BELOW, lambda e: got.append(("event", e.threshold, clock.now_ms())))
            for threshold in ("101", "105", "110"):
                events.register(threshold, Crossing.ABOVE, lambda e: got.append(("event", e.threshold, clock.now_ms())))

        def plain(candle: CandleUpdate) -> None:
            got.append(("plain", candle))

        async def coroutine(candle: CandleUpdate) -> None:
            got.append(("async", candle))

        for symbol in symbols:
            md.channels.ohlcv.subscribe(plain, symbol=symbol, priority=ChannelPriority.LOW)
            md.channels.ohlcv.subscribe(coroutine, symbol=symbol, priority=ChannelPriority.HIGH)
        if use_driver:
            await BacktestDriver(source, clock=clock, market_data=md).run()
        else:
            rows = []
            for series in source:
                columns = (series.times, series.opens, series.highs, series.lows, series.closes, series.volumes)
                rows += [(series.symbol, *row) for row in zip(*(a.tolist() for a in columns), strict=True)]
            for symbol, t, o, h, lo, c, v in sorted(rows, key=lambda row: (row[1], row[0])):
                clock.set_time(t + MINUTE)
                await md.on_closed_candle(symbol, TimeFrame.M1, t, o, h, lo, c, v)
        for symbol in symbols:
            symbol_data = md.symbols_data.get(symbol)
            buffer = symbol_data.candles(TimeFrame.M1)
            got.append(("buffer", buffer.times().tolist(), buffer.ohlcv().tolist(), buffer.last_close))
            got.append(("history", list(symbol_data.price_events._history or ())))
        return got

    replayed = await record(data, use_driver=True)
    expected = await record(data, use_driver=False)
    candles = [entry for entry in expected if entry[0] in ("plain", "async")]
    assert len(candles) == 2 * 120 * len(symbols)
    assert len([entry for entry in expected if entry[0] == "event"]) == 6 * len(symbols)
    assert all(type(entry[1]) is CandleUpdate for entry in replayed if entry[0] in ("plain", "async"))
    assert replayed == expected
