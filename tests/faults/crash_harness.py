"""The parent side of the crash tests: the engine runs in a child process (``crash_child.py``) that the
test kills with SIGKILL at a chosen point, while the fake Binance server runs in the test's process.

A child is the real engine (real ccxt client, real SQLite file); it reports progress as JSON
lines (see ``crash_child.py``). Every line the child writes, on stdout and stderr (its DEBUG
logs), is kept in :attr:`EngineProcess.output` so a test can check that no secret leaked.
Waits are bounded (``TIMEOUT``) and wait on an event, never on a fixed delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.personal_data import live_sync
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from tests.exchange_data.helpers import until
from tests.exchanges.conftest import FAST, FIXTURES
from tests.faults.conftest import assert_engine_matches_venue, assert_no_secret

__all__ = [
    "TIMEOUT",
    "EngineProcess",
    "Engines",
    "assert_no_secret_in",
    "assert_snapshot_matches_venue",
    "canary_server",
    "canary_venue",
    "check_secrets",
    "give_up_unknown_in_flight",
    "now_clock",
    "price_below",
    "reachable_buy",
    "restart_and_check",
    "restart_builder",
    "stored_statuses",
    "wait_for",
]

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ROOT = Path(__file__).resolve().parents[2]
#: Upper bound of any wait on the child (a guard against a hang, not a timing assertion).
TIMEOUT = 60.0


async def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (loopback I/O with another process), at most ``TIMEOUT`` s."""
    await until(condition, limit_s=TIMEOUT)


class EngineProcess:
    """One engine process on ``server``'s account and the SQLite file ``storage``."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._new_event = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, True)),
            asyncio.ensure_future(self._read(process.stderr, False)),
        ]

    @classmethod
    async def start(
        cls,
        server: FakeExchangeServer,
        storage: Path,
        *,
        grid: dict[str, Any] | None = None,
        rest_only: bool = True,
        poll_seconds: float = 0.3,
    ) -> EngineProcess:
        """Start a child building the engine (it prints ``ready`` or ``build_failed``)."""
        settings = {
            "port": server.port,
            "api_key": server.api_key,
            "api_secret": server.api_secret,
            "storage": str(storage),
            "grid": grid,
            "rest_only": rest_only,
            "poll_seconds": poll_seconds,
        }
        env = {**os.environ, "FAULT_CHILD_SETTINGS": json.dumps(settings), "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(ROOT),
            env=env,
        )
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader, events: bool) -> None:
        while True:
            line = await stream.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.output.append(text)
            if events and text.startswith("{"):
                self.events.append(json.loads(text))
                self._new_event.set()

    async def expect(self, *names: str) -> dict[str, Any]:
        """The next event (after those already returned) named one of ``names``; fail on another
        terminal event or on the child's exit."""
        seen = getattr(self, "_seen", 0)

        async def next_event() -> dict[str, Any]:
            index = seen
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if event["event"] in names:
                        self._seen = index
                        return event
                if self.process.returncode is not None and all(r.done() for r in self._readers):
                    tail = "\n".join(self.output[-30:])
                    raise AssertionError(f"the engine exited ({self.process.returncode}) before {names}:\n{tail}")
                self._new_event.clear()
                waiter = asyncio.ensure_future(self._new_event.wait())
                exited = asyncio.ensure_future(self.process.wait())
                await asyncio.wait({waiter, exited}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if exited.done():
                    await asyncio.gather(*self._readers)
                else:
                    exited.cancel()

        return await asyncio.wait_for(next_event(), TIMEOUT)

    async def send(self, cmd: str, **args: Any) -> None:
        """Send one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        await self.process.stdin.drain()

    async def snapshot(self) -> dict[str, Any]:
        """The engine's orders, trades and balances after one reconciliation."""
        await self.send("snapshot")
        return await self.expect("snapshot")

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the child."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await asyncio.gather(*self._readers)
        assert self.process.returncode == -signal.SIGKILL

    async def exited(self) -> int:
        """Wait for the child to exit by itself (e.g. after ``build_failed``); return its exit code."""
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> int:
        """A clean stop (the child writes its state and exits); return its exit code."""
        if self.process.returncode is None:
            await self.send("stop")
            await self.expect("stopped")
            assert self.process.stdin is not None
            self.process.stdin.close()
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.gather(*self._readers)
        return code


def assert_no_secret_in(texts: list[str], *secrets: str) -> None:
    """No secret, nor any 6-character piece of one, in ``texts``."""
    for secret in secrets:
        pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
        for text in texts:
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"secret piece {leaked[0]!r} in: {text[:200]}"


class Engines:
    """Starts engine processes for one test and kills those still running at its end."""

    def __init__(self, server: FakeExchangeServer) -> None:
        self.server = server
        self.started: list[EngineProcess] = []

    async def start(self, storage: Path, **options: Any) -> EngineProcess:
        """:meth:`EngineProcess.start` on this test's server."""
        engine = await EngineProcess.start(self.server, storage, **options)
        self.started.append(engine)
        return engine

    @property
    def output(self) -> list[str]:
        """Every line every engine wrote."""
        return [line for engine in self.started for line in engine.output]

    async def close(self) -> None:
        """Kill what still runs (a failed test must not leave a process behind)."""
        for engine in self.started:
            if engine.process.returncode is None:
                await engine.kill()


CANARY_KEY = "crash-canary-key-5d81e0"
CANARY_SECRET = "crash-canary-secret-93ac47"
D = Decimal


def _canary_markets_server() -> FakeExchangeServer:
    return FakeExchangeServer(
        default_markets(FIXTURES, "5m"), start_index=100, api_key=CANARY_KEY, api_secret=CANARY_SECRET
    )


@contextlib.asynccontextmanager
async def canary_server() -> AsyncIterator[FakeExchangeServer]:
    """The fake Binance server (5m fixture candles, from candle 100) with a canary account."""
    async with _canary_markets_server() as srv:
        yield srv


@contextlib.asynccontextmanager
async def canary_venue() -> AsyncIterator[tuple[FakeExchangeServer, FakeBinanceUserData]]:
    """:func:`canary_server` with its public websocket streams and the account's user-data stream."""
    server = _canary_markets_server()
    FakeBinanceStreams(server)
    user_data = FakeBinanceUserData(server)
    async with server:
        yield server, user_data


def restart_builder(server: FakeExchangeServer, path: Path, clock: SimulatedClock) -> ot.ExchangeBuilder:
    """The engine built again on ``path`` in the test's process (REST only, on ``clock``)."""
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .with_clock(clock)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10})
        .rest_only(True)
        .use_real_trader()
        .with_storage(path)
    )


def now_clock() -> SimulatedClock:
    """An engine clock starting at the wall clock's time (orders the child sent have wall times)."""
    return SimulatedClock(LiveClock().now_ms())


async def give_up_unknown_in_flight(manager: ExchangeManager, clock: SimulatedClock) -> None:
    """Move past the venue's window for a late request and look the in-flight orders up as often as
    the engine does before giving one up (what its polls do over that minute)."""
    clock.set_time(clock.now_ms() + live_sync.IN_FLIGHT_GIVE_UP_MS + 1)
    for _ in range(live_sync.IN_FLIGHT_MIN_LOOKUPS):
        await manager.trader.resolve_in_flight()


def price_below(server: FakeExchangeServer, fraction: str) -> Decimal:
    """A price ``fraction`` under the last close, on the tick."""
    market = server.state.markets["BTCUSDT"]
    return (market.last_price * (1 - D(fraction))).quantize(market.tick_size, rounding=ROUND_FLOOR)


def reachable_buy(server: FakeExchangeServer, steps: int) -> Decimal:
    """A buy price under the last close that the next ``steps`` candles reach."""
    market = server.state.markets["BTCUSDT"]
    low = min(c[3] for c in market.candles[market.cursor + 1 : market.cursor + 1 + steps])
    assert low + market.tick_size < market.last_price
    return low + market.tick_size


def stored_statuses(path: Path) -> list[str]:
    """The order statuses in the file (read by another connection, as a second process would)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return sorted(row[0] for row in db.execute("SELECT status FROM orders"))
    except sqlite3.Error:  # not created yet
        return []


def check_secrets(caplog: pytest.LogCaptureFixture, server: FakeExchangeServer, engines: Engines) -> None:
    """No secret in the test's logs nor in any line the engine processes wrote (DEBUG logs included)."""
    assert_no_secret(server, caplog)
    assert engines.output, "the engine processes wrote nothing (their logs are checked for secrets)"
    assert_no_secret_in(engines.output, server.api_key, server.api_secret)


async def restart_and_check(server: FakeExchangeServer, path: Path, *, in_flight_window: bool = False) -> Any:
    """Build the engine again on ``path``, check the invariants, stop it; return its orders."""
    clock = now_clock()
    manager = await restart_builder(server, path, clock).build()
    async with manager:
        if in_flight_window:
            await give_up_unknown_in_flight(manager, clock)
        await assert_engine_matches_venue(manager, server)
        return list(manager.exchange_personal_data.orders_manager.all_orders())


#: Venue status -> the local statuses (as the child prints them) meaning the same thing.
_SAME_STATUS = {
    "NEW": {"open"},
    "PARTIALLY_FILLED": {"partially_filled"},
    "FILLED": {"filled", "closed"},
    "CANCELED": {"canceled"},
    "EXPIRED": {"expired", "canceled"},
}


def assert_snapshot_matches_venue(snapshot: dict[str, Any], server: FakeExchangeServer) -> None:
    """The invariants of ``assert_engine_matches_venue`` on a running engine process's snapshot
    (taken right after a reconciliation): each client order id sent once; every venue order known
    locally with its exchange id, status and filled amount; no order open locally only; local
    trades equal to the venue's fills; balances equal to the venue's, where an order still in
    flight (sent, outcome unknown, not on the venue) keeps its funds reserved locally."""
    key = server.api_key
    sent = [cid for k, cid in server.state.order_requests if k == key]
    assert len(sent) == len(set(sent)), f"orders sent more than once: {sorted(c for c in sent if sent.count(c) > 1)}"
    local = {o["client_order_id"]: o for o in snapshot["orders"]}
    venue = [o for o in server.state.orders.values() if o.api_key == key]
    for fake in venue:
        mine = local.get(fake.client_order_id)
        assert mine is not None, f"venue order {fake.client_order_id} ({fake.status}) unknown locally"
        assert mine["exchange_order_id"] == str(fake.order_id), fake.client_order_id
        assert Decimal(mine["filled"]) == fake.executed_qty, (fake.client_order_id, mine["filled"])
        assert mine["status"] in _SAME_STATUS[fake.status], (fake.client_order_id, mine["status"], fake.status)
    on_venue = {o.client_order_id for o in venue}
    venue_open = {o.client_order_id for o in venue if o.is_open}
    held: dict[str, Decimal] = {}
    for order in snapshot["orders"]:
        if order["status"] in ("open", "partially_filled"):
            assert order["client_order_id"] in venue_open, f"{order['client_order_id']} open locally only"
        if order["status"] == "pending_creation":
            assert order["client_order_id"] not in on_venue, f"{order['client_order_id']} on the venue, still in flight"
            currency, amount = order["reserved"]
            if currency is not None:
                held[currency] = held.get(currency, Decimal(0)) + Decimal(amount)
    fills = sorted((str(f.id), str(f.order_id), f.price, f.qty, f.commission) for o in venue for f in o.fills)
    trades = sorted((t[0], t[1], Decimal(t[2]), Decimal(t[3]), Decimal(t[4])) for t in snapshot["trades"])
    assert trades == fills
    account = server.account(key)
    for asset in account.assets():
        free, locked = account.free.get(asset, Decimal(0)), account.locked.get(asset, Decimal(0))
        total, available = (Decimal(v) for v in snapshot["balances"][asset])
        assert (total, available) == (free + locked, max(Decimal(0), free - held.get(asset, Decimal(0)))), asset
