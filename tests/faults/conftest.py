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
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.rate_limit import venue_rate_gate
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from octobot_trading.testing.fake_exchange.state import FakeOrder
from tests.clock_driving import build_live, drive_task, until_backoffs_pass
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
    "live_engine",
    "reconcile",
    "resting_buy",
    "settle",
    "sim_clock",
    "started",
    "until",
    "until_backoffs_pass",
    "venue_orders",
]

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


@contextlib.asynccontextmanager
async def live_engine(
    venue: Venue, *, rest_only: bool = False, **options: Any
) -> AsyncIterator[tuple[ExchangeManager, SimulatedClock]]:
    """The real trader on ``venue`` (:func:`live_builder` with ``options``; ``rest_only``: no
    websocket streams) built with :func:`build_live` on a fresh :func:`sim_clock`:
    ``(manager, clock)``; stopped on exit."""
    clock = sim_clock(venue.server)
    builder = live_builder(venue, clock, **options)
    manager = await build_live(clock, builder.rest_only(True) if rest_only else builder)
    try:
        yield manager, clock
    finally:
        await manager.stop()


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


async def settle(seconds: float = 0.05) -> None:
    """Let loopback websocket messages already sent reach the engine (bounded)."""
    await asyncio.sleep(seconds)
