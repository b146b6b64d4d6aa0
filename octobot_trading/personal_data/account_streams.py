"""``AccountStreams``: the account's private websocket streams feeding the live trader.

The trader component of a live (not paper) manager starts it when the venue streams the account
(``exchange.supports_private_streams``) and ``rest_only`` is off. One supervisor task:

1. starts the watchers (``watch_orders``, and when the venue has them ``watch_my_trades``,
   ``watch_balance``, and ``watch_positions`` on futures), then ``subscribe_private_streams()`` (returns once the venue
   confirmed the subscription);
2. reconciles over REST (the trader's ``sync_with_exchange`` then ``refresh_balances``, and on
   futures the venue's positions, replacing the local ones): whatever
   happened before the subscription, or while it was down, is read there;
3. applies every order update, with the fills the stream delivered for it, through the one
   update path ``OrdersManager.apply_exchange_update`` (a fill known by trade id is ignored, so a
   fill delivered by the stream and by a REST poll is applied once);
4. checks every balance update against the local books once the order and fill updates received
   before it are applied: when a currency's total differs (a missed event, a deposit, a fee the
   books lack), the account is reconciled over REST, which applies fills first and then the
   venue's balances (a balance that already counts a fill is never applied before that fill).
   A futures settle currency is not checked so: its total is the venue's wallet, which a contract
   fill's fee and realized PnL and a funding payment change without the local books knowing
   until the next REST read; the update's wallet is taken instead (the available amount moves by
   the same difference, within ``[0, wallet]``), with no reconciliation;
5. detects gaps: an order update announcing more filled than the fills the stream delivered (a
   missed fill), or silence past ``watchdog_seconds`` while orders are open, runs a REST
   reconciliation; when the watchdog's reconciliation finds something the stream missed, the
   connection is dropped and opened again. A venue message carries an order update and its
   trade (Binance's ``ORDER_TRADE_UPDATE``, ``executionReport``), which the two watchers may hand
   over in either order: a fill an order update announces is judged missing only once the trades
   stream handed over the fills received after that update, or ``watchdog_seconds`` after the
   update at the latest whatever else the account streams meanwhile, so a trade applied just
   after its order update is the order's real fill, not a gap (without a trades stream the
   update's fill is a gap at once);
6. on a dropped connection or an error (a failed reconciliation included), reconnects with
   exponential backoff (``backoff_base`` doubling up to ``backoff_max`` seconds; it starts over
   once a connection held ``backoff_max`` seconds) and reconciles again. A venue that turns out to have
   no private streams (``NotSupported``) leaves the account to REST polling.

Updates and reconciliations take one lock (shared with the component's REST poll), so they are
applied one at a time in arrival order. ``healthy`` is True from a confirmed subscription until
the connection fails; the component polls REST at its slower pace only while it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import AuthenticationError, NotSupported, OctoBotTradingError
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data.futures_trading import is_contract_symbol
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.contract_spec import settle_currency
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.logging import get_logger

__all__ = ["AccountStreams"]

#: How many of another engine's order ids the streams remember (to skip their fills).
_FOREIGN_KEPT = 4096


class _Reconnect(Exception):
    """The streams missed updates: drop the connection and subscribe again."""


class AccountStreams:
    """The private streams of one live account (see the module docstring).

    Parameters
    ----------
    exchange:
        ``manager.exchange`` (its ``watch_*`` results pass its ``fix_*`` hooks).
    trader:
        The account's trader (update path, REST reconciliation).
    clock:
        Time source (watchdog, backoff).
    lock:
        Serializes updates and reconciliations (the component's poll takes it too).
    symbols:
        Traded symbols (empty: every symbol); updates of other symbols are ignored.
    futures:
        Also watch positions.
    positions_sync:
        The account's :class:`~octobot_trading.personal_data.futures_sync.LiveFuturesSync` (futures):
        position updates and reconciliations go through it (liquidations and funding are read
        there); without it they go to the positions manager directly.
    on_health_change:
        Called when :attr:`healthy` changes (the component adjusts its poll pace).
    """

    def __init__(
        self,
        exchange: Any,
        trader: Trader,
        *,
        clock: Clock,
        lock: asyncio.Lock,
        symbols: Collection[str] = (),
        futures: bool = False,
        positions_sync: Any = None,
        watchdog_seconds: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        on_health_change: Callable[[], None] | None = None,
    ) -> None:
        self.exchange = exchange
        self.trader = trader
        self.clock = clock
        self.lock = lock
        self.symbols = frozenset(symbols)
        self.futures = futures
        self.positions_sync = positions_sync
        self.watchdog_seconds = watchdog_seconds
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._on_health_change = on_health_change
        self.healthy = False
        #: True once the venue said it has no private streams (the account stays on REST polling),
        #: and while it refuses the account's credentials on them (retried with the backoff).
        self.unavailable = False
        #: Confirmed subscriptions (the first connect, then each reconnect).
        self.connects = 0
        #: REST reconciliations run (on connect, reconnect, detected gap or watchdog).
        self.reconciliations = 0
        #: Gaps detected (a missed fill, a balance the books disagree with, or a watchdog
        #: reconciliation that found missed updates).
        self.gaps = 0
        #: Balance updates whose totals differed from the local books (each starts a reconciliation).
        self.balance_mismatches = 0
        self.last_event_ms = clock.now_ms()
        #: When the next reconnection is due (None unless waiting for the backoff).
        self.reconnect_at_ms: int | None = None
        self._orders: dict[str, ExchangeOrder] = {}
        self._pending: dict[str, list[ExchangeTrade]] = {}
        #: Exchange ids of the latest orders seen that are another engine's (their fills are skipped).
        self._foreign: dict[str, None] = {}
        self._gap = asyncio.Event()
        #: exchange order id -> (the trades batch that must have brought the fills its update announced,
        #: the time by which they must have come: ``watchdog_seconds`` after the update)
        #: (``_trade_batches`` counts the batches the trades stream handed over)
        self._unmatched: dict[str, tuple[int, int]] = {}
        self._trade_batches = 0
        self._trades_streamed = True  # False once the venue said it has no trades stream
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger("personal_data.account_streams")

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the supervisor task (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._supervise(), name="account-streams")

    async def stop(self) -> None:
        """Cancel the streams and close their connection (idempotent)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._set_healthy(False)

    def _set_healthy(self, healthy: bool) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            if self._on_health_change is not None:
                self._on_health_change()

    async def _supervise(self) -> None:
        attempt = 0
        connected_at: int | None = None
        while True:
            tasks = [
                self._spawn(self._watch_orders()),
                self._spawn(self._optional(self._watch_trades)),
                self._spawn(self._optional(self._watch_balance)),
            ]
            if self.futures:
                tasks.append(self._spawn(self._optional(self._watch_positions)))
            try:
                await self.exchange.subscribe_private_streams()
                self.connects += 1
                self.unavailable = False
                connected_at = self.clock.now_ms()
                self.last_event_ms = self.clock.now_ms()
                self._set_healthy(True)
                await self.reconcile()
                tasks.append(self._spawn(self._watchdog()))
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # raises what ended it
            except asyncio.CancelledError:
                await self._cancel(tasks)
                await self._reset()
                raise
            except NotSupported as exc:
                self.unavailable = True
                self._log.info("no private streams, the account is polled over REST: %s", exc)
                await self._cancel(tasks)
                self._set_healthy(False)
                return
            except _Reconnect:
                self._log.warning("private streams missed updates; reconnecting")
            except AuthenticationError as exc:  # a revoked key, or a timestamp still refused after a re-sync
                self.unavailable = True
                self._log.warning("the venue refused the private streams' credentials; polling over REST: %s", exc)
            except OctoBotTradingError as exc:
                self._log.warning("private streams failed, reconnecting: %s", exc)
            except Exception:  # a bug must not end the streams silently: log it, reconnect
                self._log.exception("private streams failed unexpectedly; reconnecting")
            await self._cancel(tasks)
            self._set_healthy(False)
            await self._reset()
            if connected_at is not None and self.clock.now_ms() - connected_at >= self.backoff_max * 1000:
                attempt = 0  # it held a while: not a flapping connection
            connected_at = None
            delay = min(self.backoff_max, self.backoff_base * 2**attempt)
            attempt += 1
            self.reconnect_at_ms = self.clock.now_ms() + round(delay * 1000)
            try:
                await self.clock.sleep(delay)
            finally:
                self.reconnect_at_ms = None

    async def _optional(self, watcher: Callable[[], Awaitable[None]]) -> None:
        """Run a watcher the account can do without: a venue lacking it leaves that part to the
        REST reconciliations (fills: from the orders' filled amounts and REST trades). The
        watcher is started here, so a task cancelled before it ran leaves no coroutine behind."""
        try:
            await watcher()
        except NotSupported as exc:
            self._log.info("%s; that part of the account is read over REST", exc)
            await asyncio.Event().wait()

    @staticmethod
    def _spawn(coro: Any) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _reset(self) -> None:
        self._orders.clear()
        self._pending.clear()
        try:
            await self.exchange.reset_private_streams()
        except OctoBotTradingError as exc:
            self._log.warning("closing the private streams failed: %s", exc)

    # -- reconciliation -------------------------------------------------------------------------
    async def reconcile(self) -> bool:
        """Read orders, fills and balances over REST (under the lock); True when it found updates
        the local books lacked."""
        async with self.lock:
            before = self._fingerprint()
            await self.trader.sync_with_exchange(self.symbols or None)
            await self.trader.refresh_balances()
            if self.positions_sync is not None:  # the venue's positions (those closed meanwhile go)
                await self.positions_sync.refresh()
            elif self.futures:
                positions = await self.exchange.fetch_positions(sorted(self.symbols) or None)
                self.trader.personal_data.positions_manager.update_from_exchange(positions)
            self.reconciliations += 1
            self._unmatched.clear()  # the REST trades matched or replaced what the updates announced
            return self._fingerprint() != before

    def _fingerprint(self) -> tuple[int, tuple[tuple[str, str, str], ...]]:
        orders = self.trader.orders_manager
        return (
            len(orders.trades_manager.trades()),
            tuple((o.id, o.status.value, str(o.filled)) for o in orders.open_orders()),
        )

    async def _watchdog(self) -> None:
        while True:
            wake_ms = self.last_event_ms + self.watchdog_seconds * 1000
            if self._unmatched:  # an announced fill is judged by its deadline, whatever else streams
                wake_ms = min(wake_ms, min(deadline for _, deadline in self._unmatched.values()))
            wait = max(0.0, (wake_ms - self.clock.now_ms()) / 1000)
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            gap = asyncio.ensure_future(self._gap.wait())
            try:
                await asyncio.wait({sleeper, gap}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                gap.cancel()
            if self._gap.is_set():
                self._gap.clear()
                self.gaps += 1
                await self.reconcile()
                continue
            if self._unmatched and self._overdue_unmatched():
                self.gaps += 1
                await self.reconcile()
                continue
            silent = self.clock.now_ms() - self.last_event_ms >= self.watchdog_seconds * 1000
            if not silent:
                continue
            self.last_event_ms = self.clock.now_ms()
            if not self.trader.orders_manager.open_orders() and not self._unmatched:
                continue  # nothing can change on a quiet account
            if await self.reconcile():
                self.gaps += 1
                raise _Reconnect()

    # -- the watchers -----------------------------------------------------------------------------
    def _seen(self) -> None:
        self.last_event_ms = self.clock.now_ms()

    def _wanted(self, symbol: str) -> bool:
        return not self.symbols or symbol in self.symbols

    async def _watch_orders(self) -> None:
        while True:
            orders = await self.exchange.watch_orders()
            self._seen()
            async with self.lock:
                for order in orders:
                    if not self._wanted(order.symbol):
                        continue
                    if self.trader.live_sync.is_foreign(order):  # another engine's, on a shared account
                        self._pending.pop(order.id, None)
                        self._foreign[order.id] = None
                        if len(self._foreign) > _FOREIGN_KEPT:
                            del self._foreign[next(iter(self._foreign))]
                        continue
                    self._orders[order.id] = order
                    await self._apply(order, self._pending.pop(order.id, []))

    async def _watch_trades(self) -> None:
        while True:
            try:
                trades = await self.exchange.watch_my_trades()
            except NotSupported:
                self._trades_streamed = False
                raise
            self._trade_batches += 1
            batch = self._trade_batches
            self._seen()
            async with self.lock:
                manager = self.trader.orders_manager
                for trade in trades:
                    if not self._wanted(trade.symbol) or manager.trades_manager.has(trade.id):
                        continue
                    if (trade.order_id or "") in self._foreign:
                        continue
                    order = self._orders.get(trade.order_id or "")
                    local = manager.get_by_exchange_id(trade.order_id or "")
                    if (
                        order is not None
                        and local is not None
                        and (order.filled > local.filled or manager.has_inferred(local))
                    ):
                        await self._apply(order, [trade], batch)  # its order update came first
                    else:
                        self._pending.setdefault(trade.order_id or "", []).append(trade)
                if self._unmatched:
                    self._judge_unmatched(batch)

    def _overdue_unmatched(self) -> bool:
        """Forget the announced fills past their deadline; True when one of them never came."""
        manager, now, missed = self.trader.orders_manager, self.clock.now_ms(), False
        for exchange_id, (_, deadline) in list(self._unmatched.items()):
            if deadline <= now:
                del self._unmatched[exchange_id]
                local = manager.get_by_exchange_id(exchange_id)
                missed = missed or (local is not None and manager.has_inferred(local))
        return missed

    def _judge_unmatched(self, batch: int) -> None:
        """After the trades ``batch``: an order whose update announced fills this batch had to bring
        and still shows inferred fills missed them (a gap)."""
        manager = self.trader.orders_manager
        for exchange_id, (due, _) in list(self._unmatched.items()):
            local = manager.get_by_exchange_id(exchange_id)
            if local is None or not manager.has_inferred(local):
                del self._unmatched[exchange_id]  # its real fills came
            elif due <= batch:
                del self._unmatched[exchange_id]
                self._gap.set()

    async def _apply(self, order: ExchangeOrder, trades: list[ExchangeTrade], batch: int | None = None) -> None:
        """Apply an order update with the fills delivered for it (``batch``: the trades batch that
        delivered them, None from the orders watcher)."""
        manager = self.trader.orders_manager
        try:
            local = await manager.apply_exchange_update(order, trades)
        except OctoBotTradingError as exc:  # one bad update never stops the others: REST repairs it
            self._log.error("stream update of order %s failed, reconciling over REST: %r", order.id, exc)
            self._gap.set()
            return
        if manager.has_inferred(local):  # the venue counts fills the stream did not deliver (yet)
            if not self._trades_streamed:
                self._gap.set()
            else:  # judged after the trades batch that brings what came with or after this update
                due = batch if batch is not None else self._trade_batches + 1
                known = self._unmatched.get(order.id)
                deadline = self.clock.now_ms() + int(self.watchdog_seconds * 1000)
                self._unmatched[order.id] = (due, deadline) if known is None else (min(due, known[0]), known[1])
        elif order.status.is_final or order.status is OrderStatus.FILLED:
            self._orders.pop(order.id, None)

    async def _watch_balance(self) -> None:
        portfolio = self.trader.portfolio_manager.portfolio
        while True:
            balances = await self.exchange.watch_balance()
            self._seen()
            async with self.lock:  # after the order and fill updates that came before it
                mismatch = False
                for currency, balance in balances.items():
                    if self._is_settle(currency):
                        self._follow_wallet(currency, balance.total)
                    elif not balance.wallet_only and portfolio.get_currency_portfolio(currency).total != balance.total:
                        mismatch = True
                if mismatch:
                    self.balance_mismatches += 1
                    self._gap.set()  # a missed event, a deposit, a fee the books lack: read it all over REST

    def _is_settle(self, currency: str) -> bool:
        """True for the settle (margin) currency of a traded contract (on a futures account traded
        for every symbol: every currency)."""
        if not self.futures:
            return False
        contracts = [s for s in self.symbols if is_contract_symbol(s)]
        return not contracts or any(settle_currency(s) == currency for s in contracts)

    def _follow_wallet(self, currency: str, wallet: Decimal) -> None:
        """Take the venue's wallet of a settle currency (fees, realized PnL and funding the books
        learn at the next REST read); the available amount moves by the same difference."""
        portfolio = self.trader.portfolio_manager.portfolio
        held = portfolio.get_currency_portfolio(currency)
        if wallet < 0 or wallet == held.total:
            return
        available = min(max(held.available + wallet - held.total, ZERO), wallet)
        portfolio.set_balances({currency: (wallet, available)})

    async def _watch_positions(self) -> None:
        while True:
            positions = await self.exchange.watch_positions()
            self._seen()
            async with self.lock:  # only the positions the update names change (0 contracts: closed)
                if self.positions_sync is not None:
                    await self.positions_sync.apply_updates(positions)
                else:
                    self.trader.personal_data.positions_manager.apply_updates(positions)
