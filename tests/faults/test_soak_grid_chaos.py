"""A seeded chaos soak: the grid mode trading live against the fake Binance server while a seeded
random schedule injects the suite's faults, then the invariants.

The engine (real ccxt client, private and public websocket streams, a SQLite file) runs in a
child process with ``ot.modes.GridTradingMode``; the fake venue runs in the test's process and
moves its replayed candles forward, so grid orders fill (wholly or partly) and are refilled.
The schedule, drawn from ``random.Random(seed)``, mixes: candles (fills), candles with a fill cap
(partial fills), 429 and 503 answers to a placement (not processed), a 500 after processing, a
held reply (the client times out; the order is placed), a connection cut after processing,
dropped connections and 502 answers on reads, private stream drops, manual cancels on the venue,
and one ``kill -9`` of the engine (at a random moment, or while the venue holds a placement's
reply to an order it places) with a restart on the same file (the venue moving on while it is down). It runs for
``FAULT_SOAK_SECONDS`` seconds (default 180: three minutes, also in CI); ``FAULT_SOAK_SEED`` replays a schedule (the
engine's timing still varies from run to run). The seed is printed and attached to any failure;
``FAULT_SOAK_LOG=<file>`` writes the engine processes' output there.

At the end the faults are cleared and the engine must still run; its reconciled state must equal
the venue's (no order lost, none sent twice, orders, fills and balances equal), then after a clean
stop an engine built again on the file must find the same; no line any engine wrote names a
secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from octobot_trading.testing.fake_exchange import FakeBinanceUserData, FakeExchangeServer
from tests.exchange_data.helpers import until
from tests.faults.crash_harness import (
    EngineProcess,
    Engines,
    assert_snapshot_matches_venue,
    canary_venue,
    check_secrets,
    restart_and_check,
)

ORDER = "/api/v3/order"
GRID = {"levels": 4, "spacing_percent": "0.15", "amount_per_level": "0.002"}
#: (action, weight) of the schedule.
ACTIONS = (
    ("candle", 30),
    ("candles_partial", 10),
    ("placement_429", 5),
    ("placement_503", 5),
    ("placement_500_after", 5),
    ("placement_timeout", 4),
    ("placement_cut", 4),
    ("read_dropped", 5),
    ("read_502", 4),
    ("stream_drop", 6),
    ("manual_cancel", 2),
)


class Soak:
    """The venue, the engine process and the schedule's bookkeeping."""

    def __init__(self, server: FakeExchangeServer, user_data: FakeBinanceUserData, engines: Engines, path: Path):
        self.server = server
        self.user_data = user_data
        self.engines = engines
        self.path = path
        self.engine: EngineProcess | None = None
        self.done: Counter[str] = Counter()

    async def start_engine(self) -> None:
        self.engine = await self.engines.start(self.path, grid=GRID, rest_only=False, poll_seconds=0.5)

    def advance(self, steps: int, cap: str | None = None) -> None:
        market = self.server.state.markets["BTCUSDT"]
        if market.cursor + steps >= len(market.candles):
            return  # the replayed data is exhausted: the venue stays on its last candle
        self.server.state.max_fill_fraction = Decimal(cap) if cap is not None else None
        self.server.advance(steps)

    async def act(self, action: str, rng: random.Random) -> None:
        faults, state = self.server.faults, self.server.state
        if action == "candle":
            self.advance(rng.randint(1, 2))
        elif action == "candles_partial":
            self.advance(rng.randint(1, 3), cap="0.00002")
        elif action == "placement_429":
            faults.status(429, method="POST", path=ORDER, retry_after=1)
        elif action == "placement_503":
            faults.status(503, method="POST", path=ORDER)
        elif action == "placement_500_after":
            faults.status_after(500)
        elif action == "placement_timeout":
            faults.timeout_after(3.0)  # beyond the client's 2 s timeout
        elif action == "placement_cut":
            faults.drop_after()
        elif action == "read_dropped":
            faults.drop_before(method="GET", path=rng.choice(("/api/v3/openOrders", "/api/v3/account", ORDER)))
        elif action == "read_502":
            faults.status(502, method="GET", path=rng.choice(("/api/v3/openOrders", "/api/v3/account", ORDER)))
        elif action == "stream_drop":
            await self.user_data.disconnect()
        elif action == "manual_cancel":
            open_orders = sorted((o for o in state.orders.values() if o.is_open), key=lambda o: o.order_id)
            if open_orders:
                state.cancel_order(rng.choice(open_orders))
        self.done[action] += 1

    async def kill_and_restart(self, rng: random.Random) -> None:
        """``kill -9`` (half the time while the venue holds a placement's reply), the venue moving on
        while the engine is down, then a new engine process on the same file."""
        assert self.engine is not None
        if rng.random() < 0.5:
            await self.kill_during_a_placement()
        else:
            assert await self.engine.kill() == -signal.SIGKILL
        self.done["kill_restart"] += 1
        self.advance(rng.randint(0, 3))  # the venue moves on while the engine is down
        open_orders = sorted((o for o in self.server.state.orders.values() if o.is_open), key=lambda o: o.order_id)
        if open_orders and rng.random() < 0.5:
            self.server.state.cancel_order(rng.choice(open_orders))
        await self.start_engine()

    async def kill_during_a_placement(self) -> None:
        """Hold the next placement's reply (the venue processes it), have the engine place an order
        (a buy far under the market, beside the grid's), and kill it once the request reached the
        venue."""
        assert self.engine is not None
        hold = self.server.faults.timeout_after(30.0)
        placed = len(self.server.state.order_requests)
        market = self.server.state.markets["BTCUSDT"]
        price = (market.last_price * Decimal("0.9")).quantize(market.tick_size)
        await self.engine.send("create_order", type="limit", side="buy", amount="0.001", price=str(price))
        with contextlib.suppress(AssertionError):  # a fault armed earlier may refuse it first
            await until(lambda: len(self.server.state.order_requests) > placed, limit_s=5.0)
        assert await self.engine.kill() == -signal.SIGKILL
        if hold in self.server.faults.faults:
            self.server.faults.faults.remove(hold)
        self.done["killed_during_a_placement"] += len(self.server.state.order_requests) > placed


@pytest.fixture
async def venue() -> AsyncIterator[tuple[FakeExchangeServer, FakeBinanceUserData]]:
    async with canary_venue() as pair:
        yield pair


#: The run's length (seconds); the test's time limit grows with it.
SOAK_SECONDS = float(os.environ.get("FAULT_SOAK_SECONDS", "180"))


@pytest.mark.timeout(SOAK_SECONDS + 240)
async def test_grid_mode_under_a_seeded_fault_schedule_keeps_the_engine_equal_to_the_venue(venue, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    seed = int(os.environ.get("FAULT_SOAK_SEED") or random.SystemRandom().randrange(2**32))
    duration = SOAK_SECONDS
    print(f"fault soak seed {seed} ({duration:g} s); replay with FAULT_SOAK_SEED={seed}")
    server, user_data = venue
    engines = Engines(server)
    try:
        await soak(server, user_data, engines, tmp_path / "state.sqlite", random.Random(seed), duration, caplog)
    except BaseException as exc:
        exc.add_note(f"fault soak seed {seed}: replay with FAULT_SOAK_SEED={seed}")
        raise
    finally:
        await engines.close()
        write_log(engines)


def write_log(engines: Engines) -> None:
    """``FAULT_SOAK_LOG=<file>``: every line the engine processes wrote, to investigate a replay."""
    log = os.environ.get("FAULT_SOAK_LOG")
    if log:
        Path(log).write_text("\n".join(engines.output), encoding="utf-8")


async def soak(
    server: FakeExchangeServer,
    user_data: FakeBinanceUserData,
    engines: Engines,
    path: Path,
    rng: random.Random,
    duration: float,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = Soak(server, user_data, engines, path)
    await run.start_engine()
    names, weights = zip(*ACTIONS, strict=True)
    loop = asyncio.get_running_loop()
    start = loop.time()
    kill_at = start + duration * rng.uniform(0.2, 0.6)
    while loop.time() - start < duration:
        if run.done["kill_restart"] == 0 and loop.time() >= kill_at:
            await run.kill_and_restart(rng)
        else:
            await run.act(rng.choices(names, weights)[0], rng)
        await asyncio.sleep(rng.uniform(0.05, 0.3))  # the engine trades between two faults

    server.faults.clear()
    server.state.max_fill_fraction = None
    engine = run.engine
    assert engine is not None and engine.process.returncode is None, "the engine process died"
    snapshot = await engine.snapshot()
    assert_snapshot_matches_venue(snapshot, server)
    fills = sum(len(o.fills) for o in server.state.orders.values())
    assert fills >= 3 and run.done["kill_restart"] == 1, (fills, run.done)  # it traded, and was killed once
    assert await engine.stop() == 0
    await restart_and_check(server, path, in_flight_window=True)
    check_secrets(caplog, server, engines)
    print(f"fault soak: {dict(run.done)}, {len(server.state.order_requests)} placements, {fills} fills")
