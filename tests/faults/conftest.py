"""Shared helpers of the live-path fault suite.

Every scenario runs the real engine (``ot.ExchangeBuilder("binance")...use_real_trader()``, the
real ccxt client) against the project's fake Binance server on 127.0.0.1 with its public and
user-data websocket streams, on a simulated engine clock. After a fault, a scenario checks the
suite's invariants with :func:`assert_engine_matches_venue` (no order lost, none placed twice,
local orders, trades and balances equal to the venue's, the engine still running) and
:func:`assert_no_secret` (no api key or secret in a log line or an error's text).
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, TypeVar

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.rate_limit import venue_rate_gate
from octobot_trading.exchanges.retry import retry_read
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from octobot_trading.testing.fake_exchange.state import FakeOrder
from tests.exchange_data.helpers import until
from tests.exchanges.conftest import FAST, FIXTURES

__all__ = [
    "API_KEY",
    "API_SECRET",
    "HOUR",
    "ORDER_PATH",
    "WATCHDOG",
    "Venue",
    "VenueClock",
    "assert_engine_matches_venue",
    "assert_no_secret",
    "build_live",
    "drive_task",
    "far_buy_price",
    "forget_back_off",
    "live_builder",
    "reconcile",
    "resting_buy",
    "settle",
    "sim_clock",
    "started",
    "until",
    "until_backoffs_pass",
    "venue_orders",
]

T = TypeVar("T")
HOUR = 3600.0
#: Silence of the private streams (with orders open) after which the engine reconciles over REST.
WATCHDOG = 30.0
ORDER_PATH = "/api/v3/order"

#: Venue status -> the local statuses that mean the same thing.
_STATUS = {
    "NEW": {OrderStatus.OPEN},
    "PARTIALLY_FILLED": {OrderStatus.PARTIALLY_FILLED},
    "FILLED": {OrderStatus.FILLED, OrderStatus.CLOSED},
    "CANCELED": {OrderStatus.CANCELED},
    "EXPIRED": {OrderStatus.EXPIRED, OrderStatus.CANCELED},
}


@dataclass
class Venue:
    """The fake Binance server with its public streams and the account's user-data stream."""

    server: FakeExchangeServer
    streams: FakeBinanceStreams
    user_data: FakeBinanceUserData


#: Credentials of the suite's account: random-looking, so a piece found in a log line is a leak.
API_KEY = "Kf7Qz2Lm9Xw4Rt6YbV1c"
API_SECRET = "s3CrEtHv8Np1Jd5Gq0ZbWu2M"


def forget_back_off(server: FakeExchangeServer) -> None:
    """Clear the process-wide rate-limit gate of the server's url: another test's server may have
    had the same loopback port, with bans stamped by another clock."""
    gate = venue_rate_gate.get("binance", server.url + "/api/v3")
    gate.cool_until_ms = gate.banned_until_ms = 0


class VenueClock(LiveClock):
    """The venue's wall clock, ``offset_ms`` away from this machine's (a test moves it)."""

    def __init__(self) -> None:
        super().__init__()
        self.offset_ms = 0

    def now_ms(self) -> int:
        return super().now_ms() + self.offset_ms


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    """A fresh fake venue (5m fixture candles, started at candle 100) with its websocket streams;
    its clock is a :class:`VenueClock` (``venue.server.clock.offset_ms``)."""
    server = FakeExchangeServer(
        default_markets(FIXTURES, "5m"),
        start_index=100,
        api_key=API_KEY,
        api_secret=API_SECRET,
        clock=VenueClock(),
    )
    streams = FakeBinanceStreams(server)
    user_data = FakeBinanceUserData(server)
    async with server:
        forget_back_off(server)
        try:
            yield Venue(server, streams, user_data)
        finally:
            forget_back_off(server)


def sim_clock(server: FakeExchangeServer) -> SimulatedClock:
    """An engine clock just after the venue's current candle (prices read now are fresh)."""
    return SimulatedClock(int(server.state.markets["BTCUSDT"].current[0]) + 300_000)


def live_builder(
    venue: Venue,
    clock: SimulatedClock,
    *,
    api_key: str | None = None,
    api_secret: str | None = None,
    ccxt_options: dict[str, Any] | None = None,
    **trading: Any,
) -> ot.ExchangeBuilder:
    """The real trader on the fake venue (REST polls an hour apart: what is seen soon came from a
    stream or a reconciliation the scenario caused)."""
    settings: dict[str, Any] = {
        "order_safety": {"max_price_age_seconds": 10**10},
        "account_poll_seconds": HOUR,
        "streaming_poll_seconds": 10 * HOUR,
        "stream_watchdog_seconds": WATCHDOG,
        **trading,
    }
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(
            api_key=api_key or venue.server.api_key,
            api_secret=api_secret or venue.server.api_secret,
        )
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options({**FAST, **(ccxt_options or {})})
        .with_client_hook(venue.streams.client_hook)
        .with_clock(clock)
        .with_trading_config(**settings)
        .use_real_trader()
    )


async def started(manager: ExchangeManager, *, streams: bool = True) -> TraderComponent:
    """The manager's trader component once its private streams are up and reconciled once."""
    component = manager.get_component("trader", TraderComponent)
    account_streams = component.account_streams
    if streams:
        assert account_streams is not None
        clock = manager.clock
        condition = lambda: account_streams.healthy and account_streams.reconciliations >= 1  # noqa: E731
        if isinstance(clock, SimulatedClock):  # the first reconciliation's reads may be retried
            await until_backoffs_pass(condition, clock, what="private streams up and reconciled once")
        else:
            await until(condition)
    return component


def _retry_backoff_wake_ms(clock: SimulatedClock) -> int | None:
    """The earliest wake time of a task sleeping a read's retry backoff on ``clock`` (its innermost
    awaits are :func:`retry_read` then :meth:`SimulatedClock.sleep`), or None."""
    wakes = []
    for task in asyncio.all_tasks():
        chain = _await_chain(task)
        if len(chain) < 2 or chain[-2].f_code is not retry_read.__code__:
            continue
        wake = _clock_wait_ms(task, clock)
        if wake is not None:
            wakes.append(wake)
    return min(wakes, default=None)


async def until_backoffs_pass(
    condition: Callable[[], Any], clock: SimulatedClock, *, what: str, limit_s: float = 10.0
) -> None:
    """Wait (on real loopback I/O) until ``condition()`` holds, moving ``clock`` to a read's retry
    backoff wake time whenever a task sleeps one (a read timed out on a loaded machine): nothing else
    moves the clock meanwhile, and no other sleeper's wake is run through. Fails naming ``what`` after
    ``limit_s`` real seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not met after {limit_s} s: {what}")
        wake = _retry_backoff_wake_ms(clock)
        if wake is not None and wake > clock.now_ms():
            clock.set_time(wake)
        await asyncio.sleep(0.005)


def resting_buy(server: FakeExchangeServer, symbol_id: str = "BTCUSDT") -> tuple[Decimal, int]:
    """A buy price under the last close that a later candle's low reaches, and the candles to
    advance for it."""
    market = server.state.markets[symbol_id]
    last = market.last_price
    for steps, row in enumerate(market.candles[market.cursor + 1 :], start=1):
        if row[3] < last - market.tick_size:
            return row[3].quantize(market.tick_size, rounding=ROUND_CEILING), steps
    raise AssertionError("no later candle goes under the last close")


def far_buy_price(server: FakeExchangeServer, symbol_id: str = "BTCUSDT") -> Decimal:
    """A buy price 5 % under the last close, which the next candles do not reach."""
    market = server.state.markets[symbol_id]
    return (market.last_price * Decimal("0.95")).quantize(market.tick_size, rounding=ROUND_FLOOR)


async def reconcile(manager: ExchangeManager) -> None:
    """One REST reconciliation of the account (what a poll does), taken under the sync lock.

    The simulated clock is moved meanwhile: a stream reconciliation holding the lock may be
    waiting for a retry's backoff on it."""
    component = manager.get_component("trader", TraderComponent)

    async def locked() -> None:
        async with component.sync_lock:
            await manager.trader.sync_with_exchange(manager.symbols)
            await manager.trader.refresh_balances()

    clock = manager.clock
    if isinstance(clock, SimulatedClock):
        await drive_task(clock, locked())
    else:
        await locked()


def venue_orders(server: FakeExchangeServer, api_key: str | None = None) -> list[FakeOrder]:
    """The account's orders in the venue's store (every status), oldest first."""
    key = api_key or server.api_key
    return sorted((o for o in server.state.orders.values() if o.api_key == key), key=lambda o: o.order_id)


async def assert_engine_matches_venue(
    manager: ExchangeManager,
    server: FakeExchangeServer,
    *,
    api_key: str | None = None,
    owns: Callable[[str], bool] | None = None,
    do_reconcile: bool = True,
) -> None:
    """Check the fault suite's invariants between one engine and the venue's account.

    * the manager is still running;
    * no client order id was sent to the venue more than once (the venue's placement log);
    * no order lost: every venue order of this engine (``owns(client_order_id)``, default: every
      order of the account) is known locally by its client order id, with the venue's exchange
      id, status and filled amount; no local order is open that the venue does not hold open,
      and none is left in flight;
    * every fill applied once: the local trades equal the venue's fills of those orders (trade
      id, order, price, amount, fee);
    * balances: every asset's local total and available equal the venue's total and free.

    ``do_reconcile`` first runs one REST reconciliation (what the engine's next poll does).
    """
    key = api_key or server.api_key
    assert manager.is_running, "the engine stopped"
    if do_reconcile:
        await reconcile(manager)
    sent = Counter(cid for k, cid in server.state.order_requests if k == key)
    twice = sorted(cid for cid, count in sent.items() if count > 1)
    assert not twice, f"orders sent more than once: {twice}"
    orders_manager = manager.exchange_personal_data.orders_manager
    symbols = {s.replace("/", "") for s in manager.symbols}
    mine = [
        o for o in venue_orders(server, key) if o.symbol_id in symbols and (owns is None or owns(o.client_order_id))
    ]
    for fake in mine:
        local = orders_manager.get_by_client_id(fake.client_order_id)
        assert local is not None, f"venue order {fake.client_order_id} ({fake.status}) unknown locally"
        assert local.exchange_order_id == str(fake.order_id), fake.client_order_id
        assert local.filled == fake.executed_qty, (fake.client_order_id, local.filled, fake.executed_qty)
        assert local.status in _STATUS[fake.status], (fake.client_order_id, local.status, fake.status)
    venue_open = {str(o.order_id) for o in mine if o.is_open}
    for local in orders_manager.all_orders():
        if local.is_active and not local.is_done:
            assert local.status is not OrderStatus.PENDING_CREATION, f"{local.client_order_id} still in flight"
            assert local.exchange_order_id in venue_open, f"{local.client_order_id} open locally only"
    venue_fills = sorted((str(f.id), str(f.order_id), f.price, f.qty, f.commission) for o in mine for f in o.fills)
    local_trades = sorted(
        (t.id, str(t.exchange_order_id), t.price, t.amount, t.fee)
        for t in manager.exchange_personal_data.trades_manager.trades()
    )
    assert local_trades == venue_fills  # (another engine's fills are not this engine's trades)
    account = server.account(key)
    portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
    for asset in account.assets():
        free, locked = account.free.get(asset, Decimal(0)), account.locked.get(asset, Decimal(0))
        local_asset = portfolio.get_currency_portfolio(asset)
        assert (local_asset.total, local_asset.available) == (free + locked, free), asset


def assert_no_secret(server: FakeExchangeServer, caplog: pytest.LogCaptureFixture, *errors: BaseException) -> None:
    """No api key or secret (nor a 6+ character piece of one) in any captured log line or error text."""
    texts = [record.getMessage() for record in caplog.records] + [caplog.text]
    for error in errors:
        texts += [str(error), repr(error)]
        cause = error.__cause__ or error.__context__
        while cause is not None:
            texts += [str(cause), repr(cause)]
            cause = cause.__cause__ or cause.__context__
    for secret in (server.api_key, server.api_secret):
        pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
        for text in texts:
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"secret piece {leaked[0]!r} in: {text[:200]}"


async def drive_task(clock: SimulatedClock, awaitable: Awaitable[T], *, limit_s: float = 30.0) -> T:
    """Await ``awaitable`` (real loopback I/O) while moving ``clock`` to each pending wake time;
    fail, showing where it waits, when it has not finished after ``limit_s`` real seconds."""
    task = asyncio.ensure_future(awaitable)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        if loop.time() > deadline:
            stack = io.StringIO()
            task.print_stack(file=stack)
            task.cancel()
            raise AssertionError(f"not finished after {limit_s} s:\n{stack.getvalue()}")
        wake = clock.next_wake_ms
        if wake is not None and not task.done():
            clock.set_time(wake)
    return task.result()


def _await_chain(task: asyncio.Task[Any]) -> list[Any]:
    """The frames of the coroutines ``task`` is suspended in, outermost first (``Task.get_stack``
    shows only the outermost one of a suspended task)."""
    frames: list[Any] = []
    coro: Any = task.get_coro()
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frames.append(coro.cr_frame)
        coro = getattr(coro, "cr_await", None)
    return frames


def _clock_wait_ms(task: asyncio.Task[Any], clock: SimulatedClock) -> int | None:
    """The wake time ``task`` itself waits for on ``clock`` (its innermost await is
    :meth:`SimulatedClock.sleep`, e.g. a read's retry backoff), or None when it waits on anything else."""
    frames = _await_chain(task)
    if not frames:
        return None
    inner = frames[-1]
    if inner.f_code is not SimulatedClock.sleep.__code__ or inner.f_locals.get("self") is not clock:
        return None
    wake = inner.f_locals.get("wake")
    return wake if isinstance(wake, int) else None


async def build_live(clock: SimulatedClock, builder: ot.ExchangeBuilder, *, limit_s: float = 30.0) -> ExchangeManager:
    """``builder.build()`` on the simulated ``clock``, moving the clock only when the build itself
    waits on it (a startup read retried after a timeout sleeps its backoff on the engine clock,
    which nothing else moves during a build), and only to that wait's wake time: the background
    tasks' periodic sleeps are not run through. Fails, showing where the build waits, when it has
    not finished after ``limit_s`` real seconds."""
    task = asyncio.ensure_future(builder.build())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not task.done():
        await asyncio.wait({task}, timeout=0.005)
        if task.done():
            break
        if loop.time() > deadline:
            where = "\n".join(
                f"  {f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}" for f in _await_chain(task)
            )
            task.cancel()
            raise AssertionError(f"the manager's build not finished after {limit_s} s, waiting in:\n{where}")
        wake = _clock_wait_ms(task, clock)
        if wake is not None and wake > clock.now_ms():
            clock.set_time(wake)
    return task.result()


async def settle(seconds: float = 0.05) -> None:
    """Let loopback websocket messages already sent reach the engine (bounded)."""
    await asyncio.sleep(seconds)
