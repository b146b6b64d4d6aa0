"""Clocks."""

import asyncio

import pytest

from octobot_trading.clock import Clock, LiveClock, SimulatedClock


def test_protocol():
    assert isinstance(LiveClock(), Clock)
    assert isinstance(SimulatedClock(), Clock)


def test_live_clock_reads_time():
    clock = LiveClock()
    assert clock.now_ms() > 1_600_000_000_000
    assert abs(clock.now() * 1000 - clock.now_ms()) < 1000


def test_simulated_clock_never_goes_back():
    clock = SimulatedClock(1_000)
    clock.advance(500)
    assert clock.now_ms() == 1_500 and clock.now() == 1.5
    with pytest.raises(ValueError):
        clock.set_time(1_000)
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_simulated_sleep_resolves_when_time_passes():
    clock = SimulatedClock(0)
    woke: list[int] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.now_ms())

    tasks = [asyncio.create_task(sleeper(s)) for s in (3, 1, 2)]
    await asyncio.sleep(0)
    assert clock.next_wake_ms == 1_000
    clock.set_time(1_500)
    await asyncio.sleep(0)
    assert woke == [1_500]
    await clock.run_until(10_000)
    await asyncio.gather(*tasks)
    assert woke == [1_500, 2_000, 3_000]
    assert clock.now_ms() == 10_000


async def test_run_until_lets_sleepers_chain():
    clock = SimulatedClock(0)
    ticks: list[int] = []

    async def ticker() -> None:
        for _ in range(5):
            await clock.sleep(1)
            ticks.append(clock.now_ms())

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await clock.run_until(10_000)
    await task
    assert ticks == [1_000, 2_000, 3_000, 4_000, 5_000]


async def test_zero_sleep_and_cancel():
    clock = SimulatedClock(0)
    await clock.sleep(0)
    task = asyncio.create_task(clock.sleep(5))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_wake_ms is None
