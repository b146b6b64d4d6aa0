"""Channels: synchronized direct dispatch and live async_channel consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.channels import ChannelName, ChannelPriority, ExchangeChannels
from octobot_trading.exchange_data.payloads import CandleUpdate, TickerUpdate
from octobot_trading.exchanges.types import Ticker


def _candle(symbol: str = "BTC/USDT", tf: TimeFrame = TimeFrame.H1, ts: int = 0) -> CandleUpdate:
    return CandleUpdate(symbol, tf, ts, 1.0, 2.0, 0.5, 1.5, 10.0)


async def test_synchronized_publish_calls_matching_consumers_in_priority_order():
    channels = ExchangeChannels(synchronized=True)
    calls: list[str] = []

    def recorder(name: str):
        async def cb(payload: CandleUpdate) -> None:
            calls.append(f"{name}:{payload.symbol}:{payload.time_frame}:{payload.timestamp}")

        return cb

    channels.ohlcv.subscribe(recorder("low"), priority=ChannelPriority.LOW)
    channels.ohlcv.subscribe(recorder("btc1h"), symbol="BTC/USDT", time_frame="1h")
    channels.ohlcv.subscribe(recorder("high"), priority=ChannelPriority.HIGH)
    channels.ohlcv.subscribe(recorder("eth"), symbol="ETH/USDT")
    channels.ohlcv.subscribe(recorder("5m"), time_frame=TimeFrame.M5)

    await channels.ohlcv.publish(_candle(ts=1))
    await channels.ohlcv.publish(_candle("ETH/USDT", TimeFrame.M5, ts=2))
    assert calls == [
        "high:BTC/USDT:1h:1",
        "btc1h:BTC/USDT:1h:1",
        "low:BTC/USDT:1h:1",
        "high:ETH/USDT:5m:2",
        "eth:ETH/USDT:5m:2",
        "5m:ETH/USDT:5m:2",
        "low:ETH/USDT:5m:2",
    ]


async def test_synchronized_publish_runs_inline_without_event_loop_turn():
    channels = ExchangeChannels(synchronized=True)
    seen: list[int] = []

    async def cb(payload: CandleUpdate) -> None:
        seen.append(payload.timestamp)

    channels.ohlcv.subscribe(cb)
    coro = channels.ohlcv.publish(_candle(ts=7))
    # a coroutine that never suspends finishes on the first send: no task, no loop turn
    with pytest.raises(StopIteration):
        coro.send(None)
    assert seen == [7]


async def test_callbacks_for_is_a_live_list_updated_in_place():
    channels = ExchangeChannels(synchronized=True)
    route = channels.ohlcv.callbacks_for("BTC/USDT", "1h")
    assert route == []

    async def a(payload: object) -> None: ...
    async def b(payload: object) -> None: ...

    sub_a = channels.ohlcv.subscribe(a, symbol="BTC/USDT")
    sub_b = channels.ohlcv.subscribe(b, priority=ChannelPriority.HIGH)
    assert route == [b, a]
    assert channels.ohlcv.callbacks_for("BTC/USDT", TimeFrame.H1) is route
    channels.ohlcv.unsubscribe(sub_a)
    assert route == [b]
    channels.ohlcv.unsubscribe(sub_b)
    channels.ohlcv.unsubscribe(sub_b)  # idempotent
    assert route == []


async def test_synchronized_consumer_error_propagates_to_publisher():
    channels = ExchangeChannels(synchronized=True)

    async def broken(payload: object) -> None:
        raise RuntimeError("boom")

    channels.ticker.subscribe(broken)
    with pytest.raises(RuntimeError, match="boom"):
        await channels.ticker.publish(TickerUpdate("BTC/USDT", Ticker("BTC/USDT", 0, None)))


async def test_subscribe_rejects_bad_arguments():
    channels = ExchangeChannels(synchronized=True)

    async def ok(payload: object) -> None: ...

    with pytest.raises(TypeError, match="must be callable"):
        channels.ohlcv.subscribe("not a function")  # type: ignore[arg-type]
    assert not channels.ohlcv.subscriptions
    with pytest.raises(ConfigurationError):
        channels.ticker.subscribe(ok, time_frame="1h")
    with pytest.raises(ConfigurationError):
        channels.ohlcv.subscribe(ok, time_frame="7m")
    with pytest.raises(ConfigurationError):
        channels.get("nope")
    assert channels.get("ohlcv") is channels.ohlcv
    assert {c.name for c in channels} == set(ChannelName)
    assert all(not c.subscriptions for c in channels)


async def test_plain_function_consumers_are_called_in_priority_order_among_async_ones():
    channels = ExchangeChannels(synchronized=True)
    calls: list[str] = []

    def plain(payload: CandleUpdate) -> None:
        calls.append(f"plain:{payload.timestamp}")

    async def coroutine(payload: CandleUpdate) -> None:
        calls.append(f"async:{payload.timestamp}")

    class Waiting:
        # a plain callable returning an awaitable: what it returns is awaited
        def __call__(self, payload: CandleUpdate) -> Coroutine[Any, Any, None]:
            calls.append(f"returns:{payload.timestamp}")
            return coroutine(payload)

    channels.ohlcv.subscribe(plain, priority=ChannelPriority.LOW)
    channels.ohlcv.subscribe(coroutine)
    channels.ohlcv.subscribe(Waiting(), priority=ChannelPriority.HIGH)
    await channels.ohlcv.publish(_candle(ts=1))
    assert calls == ["returns:1", "async:1", "async:1", "plain:1"]


async def test_plain_function_consumer_error_propagates_to_synchronized_publisher():
    channels = ExchangeChannels(synchronized=True)

    def broken(payload: object) -> None:
        raise RuntimeError("plain boom")

    channels.ohlcv.subscribe(broken)
    with pytest.raises(RuntimeError, match="plain boom"):
        await channels.ohlcv.publish(_candle())


async def test_live_channel_delivers_to_plain_function_consumers_and_survives_their_errors():
    channels = ExchangeChannels(synchronized=False)
    got: list[int] = []

    def plain(payload: CandleUpdate) -> None:
        if payload.timestamp == 1:
            raise ValueError("plain consumer bug")
        got.append(payload.timestamp)

    channels.ohlcv.subscribe(plain)
    await channels.start()
    for ts in range(3):
        await channels.ohlcv.publish(_candle(ts=ts))
    await channels.join()
    await channels.stop()
    assert got == [0, 2]


async def test_live_channels_deliver_through_consumer_tasks_and_stop_cleanly():
    channels = ExchangeChannels(synchronized=False)
    got: list[tuple[str, int]] = []

    async def first(payload: CandleUpdate) -> None:
        got.append(("first", payload.timestamp))

    async def broken(payload: CandleUpdate) -> None:
        raise ValueError("consumer bug")

    async def btc(payload: CandleUpdate) -> None:
        got.append(("btc", payload.timestamp))

    channels.ohlcv.subscribe(first)
    channels.ohlcv.subscribe(broken)
    channels.ohlcv.subscribe(btc, symbol="BTC/USDT")
    before = set(asyncio.all_tasks())
    await channels.start()
    assert len(set(asyncio.all_tasks()) - before) == 3
    for ts in range(3):
        await channels.ohlcv.publish(_candle(ts=ts))
    await channels.ohlcv.publish(_candle("ETH/USDT", ts=9))
    await channels.join()
    assert [g for g in got if g[0] == "first"] == [("first", 0), ("first", 1), ("first", 2), ("first", 9)]
    assert [g for g in got if g[0] == "btc"] == [("btc", 0), ("btc", 1), ("btc", 2)]

    # a consumer added while running gets its own task
    late: list[int] = []

    async def late_cb(payload: CandleUpdate) -> None:
        late.append(payload.timestamp)

    channels.ohlcv.subscribe(late_cb)
    await channels.ohlcv.publish(_candle(ts=3))
    await channels.join()
    assert late == [3]

    await channels.stop()
    await channels.stop()  # idempotent
    assert set(asyncio.all_tasks()) - before == set()

    # restartable
    await channels.start()
    await channels.ohlcv.publish(_candle(ts=4))
    await channels.join()
    assert late == [3, 4]
    await channels.stop()
    assert set(asyncio.all_tasks()) - before == set()


async def test_live_unsubscribe_then_stop_leaves_no_task():
    channels = ExchangeChannels(synchronized=False)
    got: list[int] = []

    async def cb(payload: CandleUpdate) -> None:
        got.append(payload.timestamp)

    before = set(asyncio.all_tasks())
    await channels.start()
    sub = channels.ohlcv.subscribe(cb)
    await channels.ohlcv.publish(_candle(ts=1))
    await channels.join()
    channels.ohlcv.unsubscribe(sub)
    await channels.ohlcv.publish(_candle(ts=2))  # nobody listens any more
    await channels.stop()
    assert got == [1]
    assert set(asyncio.all_tasks()) - before == set()
