"""The ``"storage"`` component: restore an account's state at start, keep the file up to date.

The builder creates it with ``with_storage(path)`` for live and paper builds, after the trader
component and before the trading modes (a backtest refuses storage: it restarts from its data).

Recovery sequence (see ``docs/storage.md``):

1. inside the trader component's start, after markets are loaded and before its first sync
   (a restore hook), the file is opened and validated, then its state is put back into the
   trading core: trades (so a re-delivered fill is applied once), recorded transactions, orders
   with their links, sub-portfolios; a simulated trader also gets its balances back and its open
   orders re-placed on the simulated venue;
2. the trader's first sync reconciles with the venue: in-flight orders are looked up by client
   order id (found: adopted once; not found: rejected, never re-sent, except a chained exit of a
   filled parent, sent by :meth:`StorageComponent.start`), open orders are refreshed
   (fills made while down applied once, cancels detected) and unknown open orders adopted;
3. this component's :meth:`StorageComponent.start` (after the trader, before the trading modes)
   refreshes a real account's balances, writes the reconciled state and starts the writer task,
   which saves what changed every ``flush_seconds`` in one SQLite transaction; :meth:`stop`
   writes a last batch and closes the file.

From the restore on (the file stays open and locked until stop), the component is also the
write-ahead journal of the order path:

* ``trader.pre_send`` (:meth:`StorageComponent.journal_intent`): an order's row (client order
  id, symbol, side, type, amount, prices, links, sub-portfolio, tag) and the balances that
  reserve for it are committed BEFORE its placement request leaves; a failed commit refuses
  a caller's order (nothing is sent), not a fired trigger or a released chained exit;
* ``orders_manager.journal`` (:meth:`note` / :meth:`commit`): what an update changed (orders,
  new trades, balances) is committed before any order hook runs (how modes hear of opens,
  fills, closes, cancels) and at the end of each update, in one transaction.

Managers without ``with_storage`` keep both hooks None: one check on the order path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import ConfigurationError, OctoBotTradingError, StorageError
from octobot_trading.personal_data.futures_trading import is_contract_symbol
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.price_triggers import PriceTrigger
from octobot_trading.storage import codec, futures_state
from octobot_trading.storage.history import HistoryPolicy, HistoryRecorder
from octobot_trading.storage.models import BalanceRow, OrderRow
from octobot_trading.storage.store import SqliteStore, StoredState
from octobot_trading.util.logging import get_logger

if TYPE_CHECKING:
    from octobot_trading.exchanges.manager import ExchangeManager
    from octobot_trading.personal_data.trader import Trader

__all__ = ["COMPONENT_NAME", "StorageComponent"]

COMPONENT_NAME = "storage"
#: Seconds between two writes of what changed.
DEFAULT_FLUSH_SECONDS = 1.0


class StorageComponent:
    """Persists one manager's trading state in a SQLite file (see the module docstring).

    Parameters
    ----------
    manager:
        The manager; its ``"trader"`` component must already be created.
    path:
        The SQLite file.
    flush_seconds:
        Interval of the writer task (on the manager's clock).
    history:
        A :class:`~octobot_trading.storage.history.HistoryPolicy` to record every order status
        change (None: no history).
    """

    name = COMPONENT_NAME

    def __init__(
        self,
        manager: ExchangeManager,
        path: Any,
        *,
        flush_seconds: float = DEFAULT_FLUSH_SECONDS,
        history: HistoryPolicy | None = None,
    ) -> None:
        trader_component = manager.get_component("trader")
        if trader_component is None or not manager.has_account:
            raise ConfigurationError("with_storage needs the trader component (live or paper trading)", field="storage")
        self.manager = manager
        self.trader: Trader = manager.trader
        self.store = SqliteStore(path)
        self.flush_seconds = flush_seconds
        self.restored = False
        self._trader_component: Any = trader_component
        self._saved_orders: dict[str, tuple[Any, ...]] = {}
        self._objects: dict[str, Order] = {}
        self._saved_trades = 0
        self._saved_trade_ids: set[str] = set()
        self._superseded: set[str] = set()
        self._saved_meta: dict[str, str] = {
            codec.META_INFERRED: codec.inferred_to_meta({}),
            codec.META_GIVEN_UP: codec.ids_to_meta(()),
        }
        self._saved_transactions: set[str] = set()
        self._saved_balances: list[BalanceRow] | None = None
        self._stored_starting: dict[str, Decimal] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._started = False
        self._flushing = asyncio.Lock()
        #: paper trading: the simulated venue's futures account
        self._paper_futures = (
            futures_state.PaperFuturesState(manager.exchange.connector, path) if manager.is_simulated else None
        )
        #: the order status history (None unless enabled)
        self.history = None if history is None else HistoryRecorder(history, manager.clock)
        self._log = get_logger("storage")
        hooks = getattr(trader_component, "restore_hooks", None)
        stop_hooks = getattr(trader_component, "stop_hooks", None)
        if hooks is None or stop_hooks is None:
            raise ConfigurationError("the trader component does not accept restore / stop hooks", field="storage")
        hooks.append(self.restore)
        stop_hooks.append(self._close_if_not_started)

    @property
    def _personal(self) -> Any:
        return self.manager.exchange_personal_data

    def _account(self) -> dict[str, str]:
        manager = self.manager
        return {
            "exchange": manager.exchange_name,
            "trader": "simulated" if manager.is_simulated else "real",
            "market_type": str(manager.exchange_config.market_type),
        }

    # -- restore ---------------------------------------------------------------------------------------
    async def restore(self) -> None:
        """Open and lock the file, put its state back into the trading core and start journaling
        (before the trader's first sync: what the sync changes is journaled too)."""
        # read and validated before the file is switched to WAL or migrated: a refused file is left as it was
        await self.store.open(account=self._account(), upgrade=False)
        try:
            state = await self.store.load()
            await self._restore_state(state)
            await self.store.upgrade()  # (a file without state: nothing to validate)
        except BaseException:
            await self.store.close()
            raise
        if self.history is not None:
            self.history.seed(list(self._objects.values()))
            self.history.stored(*await self.store.history_extent())
        self.trader.pre_send = self.journal_intent
        self._personal.orders_manager.journal = self

    async def _restore_state(self, state: StoredState) -> None:
        if state.is_empty:
            return
        try:  # everything is decoded and checked before anything changes
            orders = codec.orders_from_rows(state.orders, self.manager.clock)
            trades = [codec.trade_from_row(row) for row in state.trades]
            transactions = [codec.transaction_from_row(row) for row in state.transactions]
            balances = codec.balances_by_scope(state.balances)
            inferred = codec.inferred_from_meta(state.meta.get(codec.META_INFERRED))
            superseded = codec.ids_from_meta(codec.META_SUPERSEDED, state.meta.get(codec.META_SUPERSEDED))
            given_up_ids = set(codec.ids_from_meta(codec.META_GIVEN_UP, state.meta.get(codec.META_GIVEN_UP)))
            cursor = futures_state.cursor_from_meta(state.meta.get(futures_state.META_FUTURES_HISTORY))
        except StorageError as exc:
            raise StorageError(f"storage file {self.store.path}: {exc.message}", order_id=exc.order_id) from exc
        except (ValueError, ArithmeticError) as exc:
            raise StorageError(f"storage file {self.store.path}: invalid stored value ({exc})") from exc
        await self.store.upgrade()  # everything decoded: journal settings and migration, before any change
        personal = self._personal
        pm = personal.portfolio_manager
        for trade in trades:
            personal.trades_manager.add(trade)
        for trade_id in superseded:  # inferred fills replaced by real trades: their ids stay known
            personal.trades_manager.supersede(trade_id)
        # in-flight orders given up as not placed stay restorable (looked up again, not re-armed)
        given_up = [o for o in orders if o.client_order_id in given_up_ids and o.status is OrderStatus.REJECTED]
        parked = {o.id for g in given_up for o in (g, *g.chained_orders) if o is g or not (o.is_done or o.is_active)}
        all_orders, orders = orders, [o for o in orders if o.id not in parked]
        for transaction in transactions:
            personal.transactions_manager.record(transaction)
        sync = getattr(self._trader_component, "futures_sync", None)
        if sync is not None and cursor is not None:  # the first sync records what was missed while down
            sync.resume(cursor)
        if "account" in balances:
            # real account: the balances at the last write are the base the fills made while down
            # settle on; the trader's first poll then replaces them with the venue's
            pm.portfolio.set_balances(balances["account"])
        for scope, snapshot in balances.items():
            if scope.startswith("sub:"):
                pm.restore_sub_portfolio(scope[4:], snapshot)
        if "starting" in balances:
            self._stored_starting = {c: total for c, (total, _) in balances["starting"].items()}
            pm.starting_totals = dict(self._stored_starting)
        if self.manager.is_simulated:
            self._drop_unsent_intents(orders)
            await self._restore_simulated_venue(orders, trades, balances.get("account", {}), state)
        for order in orders:
            personal.orders_manager.add(order)
        if self._paper_futures is not None:  # positions and margin, less the restored orders' reservations
            await self._paper_futures.push()
        for order in given_up:
            personal.orders_manager.give_up(order)
            if order.group is not None or order.chained_orders:  # its exits follow it if it is restored
                self.trader.follow_links(order)
        known = {order.id for order in all_orders}
        personal.orders_manager.restore_inferred({k: v for k, v in inferred.items() if k in known})
        await self._rearm(orders, state.orders)
        self._remember(state, all_orders)
        self._superseded = set(superseded)
        for key in (codec.META_INFERRED, codec.META_GIVEN_UP, futures_state.META_FUTURES_HISTORY):
            if key in state.meta:
                self._saved_meta[key] = state.meta[key]
        self._objects = {order.id: order for order in all_orders}
        self.restored = True
        open_count = sum(1 for o in orders if not o.is_done)
        self._log.info(
            "restored %d orders (%d not done), %d trades from %s", len(orders), open_count, len(trades), self.store.path
        )

    def _drop_unsent_intents(self, orders: list[Order]) -> None:
        """Paper trading: the simulated venue is rebuilt from the file, so an intent it never
        acknowledged was never placed: rejected, its funds released, its waiting children canceled;
        a chained exit of a filled parent is set back to waiting instead (:meth:`start` sends it)."""
        pm = self._personal.portfolio_manager
        filled = {o.id for o in orders if o.status in (OrderStatus.FILLED, OrderStatus.CLOSED)}
        for order in orders:
            if order.status is OrderStatus.PENDING_CREATION and order.is_active and order.exchange_order_id is None:
                pm.release(order)
                if order.parent_id in filled:  # a chained exit of a filled parent: sent when storage starts
                    order.is_active = False
                    continue
                order.transition(OrderStatus.REJECTED)
                for child in order.chained_orders:
                    if child.status is OrderStatus.PENDING_CREATION and not child.is_active:
                        child.transition(OrderStatus.CANCELED)
                self._log.warning("order %s was not placed before the last stop; rejected", order.client_order_id)

    async def _restore_simulated_venue(
        self, orders: list[Order], trades: list[Any], account: dict[str, tuple[Decimal, Decimal]], state: StoredState
    ) -> None:
        """Give the simulated venue its balances (and futures account) back and re-place the active open orders."""
        from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector

        connector = self.manager.exchange.connector
        if not isinstance(connector, SimulatedConnector):
            return
        # venue ids continue after the stored ones, so a new id never collides with a stored order or fill
        settled = {row.currency for row in state.futures.wallets}  # in the futures wallets, not the spot account
        connector.restore_account(
            {c: total for c, (total, _) in account.items() if c not in settled},
            known_ids=[o.exchange_order_id for o in orders] + [t.id for t in trades],
        )
        if self._paper_futures is not None:
            self._paper_futures.restore(state.futures, [t.id for t in trades], self.trader.futures)
        placed: dict[str, str] = {}
        for order in orders:
            if order.is_done or not order.is_active or order.exchange_order_id is None:
                continue
            params: dict[str, Any] = {
                name: getattr(order, name)
                for name in ("trailing_percent", "trailing_offset", "limit_offset")
                if getattr(order, name) is not None
            }
            if order.reduce_only and is_contract_symbol(order.symbol):  # the contract terms, as the trader sent them
                params["reduceOnly"] = True
            if order.position_side is not None:
                params["positionSide"] = order.position_side.value
            owner = order.reservation_owner
            if owner is not None and owner.id in placed:
                params["shares_funds_with"] = placed[owner.id]
            as_type = order.order_type
            price = order.price
            if order.self_managed:
                continue
            # through the exchange class (its hooks and checks), onto the simulated venue it wraps
            view = await self.manager.exchange.create_order(
                as_type,
                order.side,
                order.symbol,
                order.remaining,
                price,
                client_order_id=order.client_order_id,
                trigger_price=order.trigger_price if as_type.is_triggered else None,
                params=params,
            )
            order.replaced_on_venue(view.id)
            placed[order.id] = view.id

    async def _rearm(self, orders: Iterable[Order], rows: Iterable[OrderRow]) -> None:
        """Re-install the trader's reactions (groups, chains) and price watches of restored orders."""
        trader = self.manager.trader
        triggers = {row.id: row for row in rows if row.price_trigger is not None}
        for order in orders:
            if order.is_done:
                continue
            if order.group is not None or order.chained_orders:
                trader.follow_links(order)
            if order.is_active or order.parent_id is not None:
                continue
            try:
                if order.self_managed:
                    trader.rearm(order)
                elif order.id in triggers:
                    row = triggers[order.id]
                    trader.rearm(order, PriceTrigger(str(row.price_trigger), above=bool(row.price_trigger_above)))
                else:
                    raise StorageError("inactive order without a stored trigger", order_id=order.id)
            except OctoBotTradingError as exc:
                self._log.warning("restored inactive order %s cannot be re-armed (%s); canceled locally", order.id, exc)
                await self._personal.orders_manager.cancel_locally(order)

    def _remember(self, state: StoredState, orders: Iterable[Order]) -> None:
        """Record what the file already holds, so the first write only carries what recovery changed."""
        self._saved_trades = len(state.trades)
        self._saved_trade_ids = {row.id for row in state.trades}
        self._saved_transactions = {row.id for row in state.transactions}
        stored = {row.id: row for row in state.orders}
        for order in orders:
            if codec.order_row(order, self._trigger_of(order)) == stored.get(order.id):
                self._saved_orders[order.id] = self._mark(order)

    @staticmethod
    def _mark(order: Order) -> tuple[Any, ...]:
        """What a write of ``order`` depends on (compared with the last written one)."""
        return (
            order.status,
            order.filled,
            order.amount,
            order.price,
            order.trigger_price,
            order.exchange_order_id,
            order.is_active,
            order.reserved_amount,
            order.updated_at,
            len(order.chained_orders),
            order.group.name if order.group is not None else None,
        )

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Finish recovery (real account balances, stored starting point), write the state, start the writer."""
        await self.store.open(account=self._account())  # (already open since the restore)
        self._started = True
        pm = self._personal.portfolio_manager
        if self._stored_starting is not None:
            pm.starting_totals = dict(self._stored_starting)
        # chained orders of parents filled before the stop whose children were not sent yet
        await self.trader.resume_interrupted_chains()
        await self._finish_interrupted_fills()
        if not self.manager.is_simulated:
            await self.trader.refresh_balances()  # fills applied by the sync are in the venue's balances
        await self.flush()
        self._task = asyncio.get_running_loop().create_task(self._writer(), name="storage-writer")

    async def _finish_interrupted_fills(self) -> None:
        """Orders stored FILLED (committed, then killed before their reactions ran): react and close."""
        orders_manager = self._personal.orders_manager
        for order in orders_manager.all_orders():
            if order.status is OrderStatus.FILLED:
                if order.group is not None or order.chained_orders:
                    self.trader.follow_links(order)
                self._log.info("finishing the fill of %s interrupted by the last stop", order.client_order_id)
                await orders_manager.finish_interrupted_fill(order)

    async def _writer(self) -> None:
        clock = self.manager.clock
        while True:
            await clock.sleep(self.flush_seconds)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep writing later batches; the state stays in memory
                self._log.error("storage write failed: %r", exc)

    def _trigger_of(self, order: Order) -> tuple[Decimal, bool] | None:
        if order.is_active or order.is_done or order.self_managed or order.parent_id is not None:
            return None
        trigger = self.trader.price_trigger_of(order)
        return None if trigger is None else (trigger.threshold, trigger.above)

    # -- the journal (order path) -------------------------------------------------------------------------
    async def journal_intent(self, order: Order) -> None:
        """``trader.pre_send``: commit ``order``'s intent (and the funds it reserves) before its request.

        Raises (``StorageError``) when the file cannot be written: the trader refuses a caller's order
        and sends a fired trigger or a released chained exit anyway (logged, durability suspended).
        """
        await self.flush(self._related(order))

    def note(self, order: Order) -> None:
        """``orders_manager.journal``: ``order``'s status may have changed (history row when enabled)."""
        if self.history is not None:
            self.history.note(order)

    async def commit(self, order: Order) -> None:
        """``orders_manager.journal``: commit what changed (``order`` and its links, new trades,
        balances) before a hook hears of it.

        A failed write is logged and trading goes on (the hook is still run: a mode that is never
        told of a fill would lose track of it); the writer task retries the same rows.
        """
        try:
            await self.flush(self._related(order))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._log.error("storage journal write failed (retried by the writer): %r", exc)

    def _related(self, order: Order) -> list[Order]:
        """``order``, the order it is chained to, its chained orders and its group: rows a restore links."""
        related = {order.id: order}
        if order.parent_id is not None:
            parent = self._personal.orders_manager.get(order.parent_id) or self._objects.get(order.parent_id)
            if parent is not None:
                related[parent.id] = parent
        for other in (*order.chained_orders, *(order.group.orders if order.group is not None else ())):
            related[other.id] = other
        return list(related.values())

    async def flush(self, touched: list[Order] | None = None) -> int:
        """Write what changed since the last write in one transaction; return the number of rows written.

        ``touched``: only these orders are compared (the journal); None: every order (the writer).
        New trades, transactions, balances and follow-up state are always included.
        """
        async with self._flushing:
            return await self._flush(touched)

    async def _flush(self, touched: list[Order] | None) -> int:
        personal = self._personal
        orders = []
        fingerprints = {}
        if touched is None:
            current = personal.orders_manager.all_orders()
            # an order the trader dropped (placement rejected, in-flight order unknown to the venue) keeps
            # its last state in the file: written once more, as rejected, then no longer followed
            present = {order.id for order in current}
            candidates = [*current, *(o for i, o in self._objects.items() if i not in present)]
        else:
            current = candidates = self._with_orders_of_new_trades(touched)
        history = self.history
        for order in candidates:
            mark = self._mark(order)
            if self._saved_orders.get(order.id) != mark:
                orders.append(codec.order_row(order, self._trigger_of(order)))
                fingerprints[order.id] = mark
                if history is not None:
                    history.note(order)
        trades_manager = personal.trades_manager
        trade_count = len(trades_manager)
        meta: dict[str, str] = {}
        dropped: list[str] = []
        inferred = codec.inferred_to_meta(personal.orders_manager.inferred_entries())
        if inferred != self._saved_meta[codec.META_INFERRED]:
            # an inferred fill was added or matched by a real trade (rare): its record may have been
            # replaced or dropped, so every trade is rewritten and the dropped ones deleted
            all_trades = trades_manager.trades()
            dropped = sorted(self._saved_trade_ids - {t.id for t in all_trades})
            new_trades = [codec.trade_row(t) for t in all_trades]
            meta[codec.META_INFERRED] = inferred
            if dropped:
                meta[codec.META_SUPERSEDED] = codec.ids_to_meta(self._superseded.union(dropped))
        else:  # otherwise trades are only ever appended
            new_trades = (
                []
                if trade_count == self._saved_trades
                else [codec.trade_row(t) for t in trades_manager.trades()[self._saved_trades :]]
            )
        given_up = codec.ids_to_meta(o.client_order_id for o in personal.orders_manager.given_up_orders())
        if given_up != self._saved_meta[codec.META_GIVEN_UP]:
            meta[codec.META_GIVEN_UP] = given_up
        cursor = self._futures_cursor()
        if cursor is not None and cursor != self._saved_meta.get(futures_state.META_FUTURES_HISTORY):
            meta[futures_state.META_FUTURES_HISTORY] = cursor
        new_transactions = [
            codec.transaction_row(t)
            for t in personal.transactions_manager.recorded()
            if t.id not in self._saved_transactions
        ]
        balances = codec.balance_rows(personal.portfolio_manager)
        balances_changed = balances != self._saved_balances
        history_rows = history.pending() if history is not None else []
        futures = self._paper_futures.pending() if self._paper_futures is not None else None
        prune = None
        if history is not None and touched is None:  # (None unless a row is due for deletion)
            prune = history.prune_due(self.manager.clock.now_ms())
        if not (
            orders or new_trades or new_transactions or balances_changed or meta or history_rows or prune or futures
        ):
            self._seen(current, touched is None)
            return 0
        await self.store.save(
            orders=orders,
            trades=new_trades,
            transactions=new_transactions,
            balances=balances if balances_changed else None,
            replace_trades=bool(meta),
            delete_trades=dropped,
            meta=meta,
            history=history_rows,
            prune_history=prune,
            futures=futures,
        )
        if futures is not None and self._paper_futures is not None:
            self._paper_futures.written(futures)
        if history is not None:
            history.written(len(history_rows))
            if prune is not None:  # what the deletions left
                history.stored(*await self.store.history_extent())
        self._saved_orders.update(fingerprints)
        self._seen(current, touched is None)
        self._saved_trades = trade_count
        self._saved_trade_ids.update(t.id for t in new_trades)
        self._saved_trade_ids.difference_update(dropped)
        self._superseded.update(dropped)
        self._saved_meta.update(meta)
        self._saved_transactions.update(t.id for t in new_transactions)
        self._saved_balances = balances
        return len(orders) + len(new_trades) + len(new_transactions) + (len(balances) if balances_changed else 0)

    def _futures_cursor(self) -> str | None:
        """Live futures: where the funding and liquidation histories were read up to (None before)."""
        sync = getattr(self._trader_component, "futures_sync", None)
        cursor = None if sync is None else sync.history_cursor()
        return None if cursor is None else futures_state.cursor_to_meta(cursor)

    def _with_orders_of_new_trades(self, touched: list[Order]) -> list[Order]:
        """``touched`` plus the orders of the trades not written yet: a batch never holds a fill
        without the row of its order."""
        personal = self._personal
        trades_manager = personal.trades_manager
        if len(trades_manager) == self._saved_trades:
            return touched
        present = {order.id for order in touched}
        extra: list[Order] = []
        for trade in trades_manager.trades()[self._saved_trades :]:
            if trade.order_id in present:
                continue
            order = personal.orders_manager.get(trade.order_id) or self._objects.get(trade.order_id)
            if order is not None:
                present.add(order.id)
                extra.append(order)
        return [*touched, *extra] if extra else touched

    def _seen(self, orders: list[Order], complete: bool) -> None:
        """Remember the orders followed (all of them after a full write, added to after a journal one)."""
        if complete:
            self._objects = {order.id: order for order in orders}
        else:
            self._objects.update((order.id, order) for order in orders)

    def _stop_journal(self) -> None:
        if self.trader.pre_send == self.journal_intent:
            self.trader.pre_send = None
        orders_manager = self._personal.orders_manager
        if orders_manager.journal is self:
            orders_manager.journal = None

    async def _close_if_not_started(self) -> None:
        """The trader component's stop hook: a build that failed after the restore releases the file."""
        if not self._started:
            self._stop_journal()
            await self.store.close()

    async def stop(self) -> None:
        """Stop the trader's poll, then the writer, write a last batch and close the file (idempotent)."""
        if not self._stopped:
            # the trader's account poll ends first: no order is placed or synced once the journal is
            # detached (a chained exit released then would reach the venue unjournaled)
            await self._trader_component.stop_poll()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
        if self._stopped:
            return
        self._stopped = True
        if task is not None:
            try:
                await self.flush()
            except Exception as exc:  # stop must finish: the file keeps the previous batch
                self._log.error("last storage write failed: %r", exc)
        self._stop_journal()
        await self.store.close()
