"""PriceEventsManager: exactly-once firing, already-crossed thresholds, cancel, awaitables."""

from __future__ import annotations

import asyncio
import functools
from decimal import Decimal as D

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.exchange_data.price_events import Crossing, PriceEvent, PriceEventsManager


def _manager() -> PriceEventsManager:
    return PriceEventsManager("BTC/USDT", SimulatedClock(1_000))


def _append_tag(order: list[str], tag: str, _event: PriceEvent) -> None:
    order.append(tag)


def test_fires_exactly_once_when_crossed():
    events = _manager()
    fired: list[tuple[str, D | None]] = []
    stop = events.register("100", Crossing.BELOW, lambda e: fired.append(("stop", e.price)))
    take = events.register(D("120"), "above", lambda e: fired.append(("take", e.price)))
    events.on_price(D("110"))
    assert fired == [] and events.pending == 2
    events.on_price(D("99.5"))
    events.on_price(D("98"))
    events.on_price(D("100"))
    assert fired == [("stop", D("99.5"))] and stop.fired and not take.done
    events.on_price(120.0)  # float prices (candles) compare exactly and become Decimals when firing
    events.on_price(130.0)
    assert fired == [("stop", D("99.5")), ("take", D("120.0"))]
    assert events.pending == 0
    assert not stop.cancel()  # already fired


def test_threshold_equal_fires_and_nearest_first():
    events = _manager()
    order: list[str] = []
    for threshold in ("105", "101", "103"):
        events.register(threshold, Crossing.ABOVE, functools.partial(_append_tag, order, threshold))
    events.on_price(D("103"))
    assert order == ["101", "103"]
    events.on_price_range(D("90"), D("110"), D("95"))
    assert order == ["101", "103", "105"]


def test_already_crossed_fires_at_registration():
    events = _manager()
    late = events.register("100", Crossing.ABOVE)
    assert not late.fired  # no price yet
    events.on_price(D("101"))
    assert late.fired and late.price == D("101")
    now = events.register("100", Crossing.ABOVE)
    assert now.fired and now.price == D("101")
    below = events.register("102", Crossing.BELOW)
    assert below.fired


def test_since_checks_recent_history_not_only_last_price():
    clock = SimulatedClock(10_000)
    events = PriceEventsManager("BTC/USDT", clock)
    events.on_price(D("100"))
    clock.advance(1_000)
    events.on_price_range(D("95"), D("108"), D("101"))  # a spike to 108 then back to 101
    clock.advance(1_000)
    events.on_price(D("102"))
    assert not events.register("105", Crossing.ABOVE).fired  # last price only: 102
    spike = events.register("105", Crossing.ABOVE, since_ms=10_500)
    assert spike.fired and spike.price == D("108")
    assert not events.register("99", Crossing.BELOW, since_ms=11_500).fired
    assert events.register("99", Crossing.BELOW, since_ms=11_000).fired


def test_cancel_and_bad_threshold():
    events = _manager()
    calls: list[PriceEvent] = []
    ev = events.register("100", Crossing.BELOW, calls.append)
    assert ev.cancel() and not ev.cancel()
    events.on_price(D("50"))
    assert calls == [] and events.pending == 0
    with pytest.raises(TypeError):
        events.register(100.0, Crossing.BELOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        events.register("100", "sideways")


def test_failing_callback_does_not_block_others():
    events = _manager()
    fired: list[str] = []

    def broken(event: PriceEvent) -> None:
        raise RuntimeError("callback bug")

    events.register("100", Crossing.ABOVE, broken)
    events.register("100", Crossing.ABOVE, lambda e: fired.append("ok"))
    events.on_price(D("100"))
    assert fired == ["ok"] and events.pending == 0


async def test_awaitable_resolves_once_and_cancel_raises():
    events = _manager()
    ev = events.register("100", Crossing.ABOVE)
    waiter = asyncio.ensure_future(ev.wait())
    other = asyncio.ensure_future(ev.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    other.cancel()  # one waiter giving up does not cancel the event
    await asyncio.sleep(0)
    events.on_price(D("100.5"))
    assert await waiter == D("100.5")
    assert await ev.wait() == D("100.5")
    ev2 = events.register("1", Crossing.BELOW)
    waiter2 = asyncio.ensure_future(ev2.wait())
    await asyncio.sleep(0)
    ev2.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter2
    with pytest.raises(asyncio.CancelledError):
        await ev2.wait()
