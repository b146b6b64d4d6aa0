"""ReadinessTracker: topics, wait_ready on a simulated clock, typed timeout naming what is missing."""

from __future__ import annotations

import asyncio

import pytest

from octobot_trading import errors
from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.readiness import ReadinessTopic, ReadinessTracker, topic


def test_default_topics_spot_and_futures():
    tracker = ReadinessTracker(SimulatedClock())
    tracker.require_defaults(["BTC/USDT"], ["1m", "1h"])
    assert tracker.missing == (
        "balance",
        "candles:BTC/USDT:1h",
        "candles:BTC/USDT:1m",
        "markets",
        "orders",
        "price:BTC/USDT",
    )
    futures = ReadinessTracker(SimulatedClock())
    futures.require_defaults(["BTC/USDT:USDT"], ["1h"], is_future=True)
    assert {"positions", "contracts", "funding:BTC/USDT:USDT"} <= set(futures.missing)
    with pytest.raises(ConfigurationError):
        topic(ReadinessTopic.CANDLES, "BTC/USDT")
    with pytest.raises(ConfigurationError):
        topic("price")


async def test_wait_ready_returns_when_all_seen():
    clock = SimulatedClock()
    tracker = ReadinessTracker(clock)
    tracker.require("balance", "markets")
    waiter = asyncio.ensure_future(tracker.wait_ready(30))
    await asyncio.sleep(0)
    tracker.mark_ready("balance")
    await asyncio.sleep(0)
    assert not waiter.done()
    tracker.mark_ready("markets")
    await waiter
    assert tracker.is_ready
    await tracker.wait_ready(0)  # already ready: returns at once


async def test_wait_ready_times_out_on_the_clock_naming_missing_topics():
    clock = SimulatedClock()
    tracker = ReadinessTracker(clock)
    tracker.require_defaults(["BTC/USDT"], ["1h"])
    tracker.mark_ready("balance")
    tracker.mark_ready("orders")
    before = set(asyncio.all_tasks())
    waiter = asyncio.ensure_future(tracker.wait_ready(30, exchange="binance"))
    await asyncio.sleep(0)
    await clock.run_until(29_999)
    assert not waiter.done()
    await clock.run_until(30_000)
    with pytest.raises(errors.ReadinessTimeout) as info:
        await waiter
    assert info.value.missing == ("candles:BTC/USDT:1h", "markets", "price:BTC/USDT")
    assert "candles:BTC/USDT:1h" in str(info.value) and "binance" in str(info.value)
    assert isinstance(info.value, TimeoutError)
    assert set(asyncio.all_tasks()) - before == set()


async def test_cancelling_wait_ready_propagates_and_leaves_no_task():
    tracker = ReadinessTracker(SimulatedClock())
    tracker.require("balance")
    before = set(asyncio.all_tasks())
    waiter = asyncio.ensure_future(tracker.wait_ready(10))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.sleep(0)
    assert set(asyncio.all_tasks()) - before == set()
