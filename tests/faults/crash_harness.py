"""The crash tests' side of the engine-process harness: the engine runs in a child process
(:mod:`octobot_trading.testing.engine_process`) that the test kills with SIGKILL at a chosen point,
while the fake Binance server runs in the test's process.

A child is the real engine (real ccxt client, real SQLite file) with its DEBUG logs; every line it
writes, on stdout and stderr, is kept so a test can check that no secret leaked. Waits are
bounded (``TIMEOUT``) and wait on an event, never on a fixed delay.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.personal_data import live_sync
from octobot_trading.testing.engine_process import EngineProcess, EngineSpec, EngineStartError
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from tests.exchange_data.helpers import until
from tests.exchanges.conftest import FAST, FIXTURES
from tests.faults.conftest import assert_engine_matches_venue, assert_no_secret, build_live

__all__ = [
    "SYMBOL",
    "TIMEOUT",
    "TIME_FRAME",
    "EngineProcess",
    "EngineStartError",
    "Engines",
    "assert_no_secret_in",
    "assert_snapshot_matches_venue",
    "canary_server",
    "canary_venue",
    "check_secrets",
    "give_up_unknown_in_flight",
    "now_clock",
    "place",
    "price_below",
    "reachable_buy",
    "restart_and_check",
    "restart_builder",
    "stored_statuses",
    "wait_for",
]

SYMBOL = "BTC/USDT"
TIME_FRAME = "5m"
#: Upper bound of any wait on the child (a guard against a hang, not a timing assertion).
TIMEOUT = 60.0


async def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (loopback I/O with another process), at most ``TIMEOUT`` s."""
    await until(condition, limit_s=TIMEOUT)


def assert_no_secret_in(texts: list[str], *secrets: str) -> None:
    """No secret, nor any 6-character piece of one, in ``texts``."""
    for secret in secrets:
        pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
        for text in texts:
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"secret piece {leaked[0]!r} in: {text[:200]}"


async def place(engine: EngineProcess, **order: Any) -> dict[str, Any]:
    """Have ``engine`` place an order (``type``, ``side``, ``amount``, ``price``); the placed order's row."""
    answer = await engine.request("create_order", timeout=TIMEOUT, **order)
    assert answer["ok"], f"the engine refused the order: {answer}"
    order_row: dict[str, Any] = answer["order"]
    return order_row


class Engines:
    """Starts engine processes (:class:`~octobot_trading.testing.engine_process.EngineProcess`) for one
    test and kills those still running at its end."""

    def __init__(self, server: FakeExchangeServer) -> None:
        self.server = server
        self.started: list[EngineProcess] = []

    async def start(
        self,
        storage: Path,
        *,
        grid: dict[str, Any] | None = None,
        rest_only: bool = True,
        poll_seconds: float = 0.3,
    ) -> EngineProcess:
        """An engine process on this test's server and the SQLite file ``storage`` (returned once
        built: restored and reconciled), optionally with the grid mode and the websocket streams;
        :class:`EngineStartError` if its build failed. DEBUG logs, the storage writer's own period."""
        spec = EngineSpec.for_server(
            self.server,
            storage,
            symbols=[SYMBOL],
            time_frames=[TIME_FRAME],
            grid=grid,
            rest_only=rest_only,
            poll_seconds=poll_seconds,
            trading_config={"streaming_poll_seconds": poll_seconds * 10, "stream_watchdog_seconds": 2.0},
            ccxt_options={"rateLimit": 1, "timeout": 2000},
            flush_seconds=None,
            log_level="DEBUG",
        )
        try:
            engine = await EngineProcess.start(spec, timeout=TIMEOUT)
        except EngineStartError as exc:
            self.started.append(exc.engine)  # its output is checked for secrets too
            raise
        self.started.append(engine)
        return engine

    @property
    def output(self) -> list[str]:
        """Every line every engine wrote."""
        return [line for engine in self.started for line in engine.output]

    async def close(self) -> None:
        """Kill what still runs (a failed test must not leave a process behind)."""
        for engine in self.started:
            await engine.kill()


# Letters outside the hex alphabet and no words: no 6-character piece can be part of a client
# order id (hex digits), a venue id or an ordinary log word by chance.
CANARY_KEY = "QzKwXvJmPyTrLnGhUoSk"
CANARY_SECRET = "WjYqRzVxKtMnPgHsLuZo"
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
    manager = await build_live(clock, restart_builder(server, path, clock))
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
    trades = sorted(
        (t["id"], t["exchange_order_id"], Decimal(t["price"]), Decimal(t["amount"]), Decimal(t["fee"]))
        for t in snapshot["trades"]
    )
    assert trades == fills
    account = server.account(key)
    for asset in account.assets():
        free, locked = account.free.get(asset, Decimal(0)), account.locked.get(asset, Decimal(0))
        total, available = (Decimal(v) for v in snapshot["balances"][asset])
        assert (total, available) == (free + locked, max(Decimal(0), free - held.get(asset, Decimal(0)))), asset
