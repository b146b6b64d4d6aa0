"""Open and past orders, and the ONE path by which exchange updates reach the portfolio.

:meth:`OrdersManager.apply_exchange_update` receives the venue's view of an order plus its new
fills, from whichever source (the simulator's listener, a live REST poll, later a private
websocket). It applies each fill once (deduplicated by exchange trade id), settles it in the
portfolio, records the trade and its fee transaction, then applies cancels / expiries and runs
the order's hooks. Orders unknown locally (placed elsewhere) are adopted once.

With storage, :attr:`OrdersManager.journal` is set: every status change is noted as it happens
and what changed is committed to the file before an order hook runs (hooks are how trading
modes and the trader's links hear of opens, fills, closes and cancels) and at the end of each
update, so what a mode is told is durable. Without storage the journal is None: one check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderStatus
from octobot_trading.errors import InvalidOrderState
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.personal_data.orders.groups import pass_on_reservation
from octobot_trading.personal_data.orders.order import Order, OrderEvent
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.trades.trade import Trade, TradesManager
from octobot_trading.personal_data.transactions.transaction import TransactionsManager
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.logging import get_logger
from octobot_trading.util.records import record_builder
from octobot_trading.util.symbols import parse_symbol

__all__ = ["OrderJournal", "OrdersManager"]

_CLOSING = (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)
# enum members as module constants (class attribute access on an Enum is slow on the update path)
_PENDING_CREATION = OrderStatus.PENDING_CREATION
_REJECTED = OrderStatus.REJECTED
_CANCELING = OrderStatus.CANCELING
_FILLED = OrderStatus.FILLED
_CLOSED = OrderStatus.CLOSED
_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_EV_OPEN, _EV_FILL, _EV_CANCEL, _EV_CLOSE = OrderEvent.OPEN, OrderEvent.FILL, OrderEvent.CANCEL, OrderEvent.CLOSE
_new_trade = record_builder(Trade)  # Trade(...) without the class call (once per fill)
#: a real trade's correction of inferred fills: (covered, cost change, covered fee, deltas, taken from the reservation)
_Correction = tuple[Decimal, Decimal, Decimal, list[tuple[str, Decimal, Decimal]], Decimal]


class OrderJournal(Protocol):
    """Where the update path reports order changes (storage; see the module docstring)."""

    def note(self, order: Order) -> None:
        """``order``'s status may have changed (cheap, synchronous: remembered for the next commit)."""

    async def commit(self, order: Order) -> None:
        """Make what changed (``order``, its links, new trades, balances) durable, in one transaction."""


class OrdersManager:
    """Orders indexed by internal id, exchange id, client order id and symbol."""

    def __init__(
        self,
        *,
        clock: Clock,
        portfolio_manager: PortfolioManager,
        trades_manager: TradesManager,
        transactions_manager: TransactionsManager,
    ) -> None:
        self.clock = clock
        self.portfolio_manager = portfolio_manager
        self.trades_manager = trades_manager
        self.transactions_manager = transactions_manager
        self._orders: dict[str, Order] = {}
        self._by_exchange_id: dict[str, Order] = {}
        self._by_client_id: dict[str, Order] = {}
        self._open_by_symbol: dict[str, dict[str, Order]] = {}
        #: order id -> fills inferred from the venue's filled amount, not yet matched by real trades:
        #: ``[synthetic trade id, amount still unmatched, price]``, oldest first
        self._inferred: dict[str, list[list]] = {}
        #: client order id -> in-flight orders given up as not placed (restored if the venue shows them)
        self._given_up: dict[str, tuple[Order, list[Order]]] = {}
        #: ``order -> (fee rate, fee charged in the spent currency?)`` for reserving an order found on
        #: the venue (adopted / restored) like a placed one; set by the trader (markets' fee side)
        self.fee_terms: Callable[[Order], tuple[Decimal, bool | None]] | None = None
        #: ``symbol -> contract size`` (None: spot or not known) recorded on contract fills; set by the trader
        self.contract_size_of: Callable[[str], Decimal | None] | None = None
        #: storage's journal (None without storage): committed before any order hook runs
        self.journal: OrderJournal | None = None
        self._logger = get_logger("personal_data.orders")

    # -- registry -------------------------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Register ``order`` (pending, open or inactive)."""
        self._orders[order.id] = order
        self._by_client_id[order.client_order_id] = order
        if order.exchange_order_id:
            self._by_exchange_id[order.exchange_order_id] = order
        if not order.is_done:
            self._open_by_symbol.setdefault(order.symbol, {})[order.id] = order

    def forget(self, order: Order) -> None:
        """Drop ``order`` from every index (a rejected placement leaves no trace)."""
        self._orders.pop(order.id, None)
        self._by_client_id.pop(order.client_order_id, None)
        if order.exchange_order_id:
            self._by_exchange_id.pop(order.exchange_order_id, None)
        self._open_by_symbol.get(order.symbol, {}).pop(order.id, None)

    def _index_exchange_id(self, order: Order) -> None:
        if order.exchange_order_id:
            self._by_exchange_id[order.exchange_order_id] = order

    def _mark_done(self, order: Order) -> None:
        self._open_by_symbol.get(order.symbol, {}).pop(order.id, None)

    def get(self, order_id: str) -> Order | None:
        """Order by internal id."""
        return self._orders.get(order_id)

    def get_by_exchange_id(self, exchange_order_id: str) -> Order | None:
        """Order by the exchange's id."""
        return self._by_exchange_id.get(exchange_order_id)

    def get_by_client_id(self, client_order_id: str) -> Order | None:
        """Order by client order id."""
        return self._by_client_id.get(client_order_id)

    def open_orders(self, symbol: str | None = None, *, include_inactive: bool = True) -> list[Order]:
        """Orders not done yet (pending, open, partially filled, canceling; inactive ones too by default)."""
        if symbol is None:
            orders = [o for by_symbol in self._open_by_symbol.values() for o in by_symbol.values()]
        else:
            orders = list(self._open_by_symbol.get(symbol, {}).values())
        return orders if include_inactive else [o for o in orders if o.is_active]

    def count_open(self, symbol: str) -> int:
        """Number of orders not done on ``symbol`` (inactive ones included)."""
        return len(self._open_by_symbol.get(symbol, ()))

    def all_orders(self) -> list[Order]:
        """Every order known, in creation order."""
        return list(self._orders.values())

    def in_flight(self) -> list[Order]:
        """Active orders sent but not acknowledged (ambiguous outcome): to look up by client id."""
        return [o for o in self.open_orders() if o.is_active and o.status is OrderStatus.PENDING_CREATION]

    def reserved_by_open_orders(self, sub_portfolio: str | bool | None = False) -> dict[str, Decimal]:
        """Sum of reservations of orders not done, by currency (all sub-portfolios by default)."""
        result: dict[str, Decimal] = {}
        for order in self.open_orders():
            if sub_portfolio is not False and order.sub_portfolio != sub_portfolio:
                continue
            if order.reserved_currency is not None and order.reserved_amount:
                result[order.reserved_currency] = result.get(order.reserved_currency, ZERO) + order.reserved_amount
        return result

    # -- the update path -----------------------------------------------------------------------------
    async def apply_exchange_update(self, exchange_order: ExchangeOrder, trades: Sequence[ExchangeTrade] = ()) -> Order:
        """Apply the venue's view of one order and its fills, each fill exactly once.

        Returns the local order (adopted when it was unknown).
        """
        order = self._by_exchange_id.get(exchange_order.id)
        if order is None and exchange_order.client_order_id:
            order = self._by_client_id.get(exchange_order.client_order_id)
        if order is None and exchange_order.client_order_id in self._given_up:
            order = self._restore_given_up(exchange_order)
        if order is None:
            order = self._adopt(exchange_order)
        elif not trades and order.is_done and exchange_order.filled <= order.filled:
            return order  # already applied (e.g. the reply of a placement whose fills were reported)
        journal = self.journal
        if order.status is _PENDING_CREATION and exchange_order.status is not _REJECTED:
            order.mark_open(exchange_order.id)
            self._index_exchange_id(order)
            if journal is not None:
                journal.note(order)
            if order.has_hooks(_EV_OPEN):
                await self._emit(order, _EV_OPEN)
        for trade in trades:
            await self._apply_fill(order, trade)
        if exchange_order.filled > order.filled and exchange_order.average is not None:
            # The venue reports more filled than the fills we know (no trades, or a lagging trade
            # list): synthesize one fill for the gap with a deterministic id, so a repeat of this
            # report is applied once; the real trades correct it when they show up.
            synthetic = ExchangeTrade(
                id=f"{exchange_order.id}:filled:{exchange_order.filled}",
                order_id=exchange_order.id,
                symbol=order.symbol,
                side=order.side,
                price=self._delta_price(order, exchange_order),
                amount=exchange_order.filled - order.filled,
                fee=None,
                fee_currency=None,
                timestamp=exchange_order.last_update_timestamp or self.clock.now_ms(),
            )
            await self._apply_fill(order, synthetic, inferred=True)
            if self.trades_manager.has(synthetic.id):
                self._inferred.setdefault(order.id, []).append([synthetic.id, synthetic.amount, synthetic.price])
        if exchange_order.status in _CLOSING and not order.is_done:
            await self._close_unfilled(order, exchange_order.status)
        elif order.status is _CANCELING and exchange_order.status in _RESTING:
            # a cancel that failed without the venue's word: the venue says the order still rests
            order.transition(OrderStatus.PARTIALLY_FILLED if order.filled else OrderStatus.OPEN)
        if journal is not None:
            await journal.commit(order)  # what this update changed, in one transaction
        return order

    async def _emit(self, order: Order, event: OrderEvent) -> None:
        """Run ``order``'s hooks for ``event`` once what changed is committed (with storage)."""
        if self.journal is not None:
            await self.journal.commit(order)
        await order.emit(event)

    @staticmethod
    def _delta_price(order: Order, exchange_order: ExchangeOrder) -> Decimal:
        average = exchange_order.average or exchange_order.price or ZERO
        delta = exchange_order.filled - order.filled
        price = (average * exchange_order.filled - order.filled_cost) / delta if delta else average
        return price if price > 0 else average

    async def _apply_fill(self, order: Order, trade: ExchangeTrade, *, inferred: bool = False) -> None:
        """Apply one fill; ``inferred``: a fill synthesized from the venue's filled amount, which adds
        to the earlier inferred fills (only a real trade corrects them)."""
        if self.trades_manager.has(trade.id):
            return
        if order.status is _CANCELING or order.is_open:
            pass
        elif order.status is _PENDING_CREATION:
            order.mark_open(trade.order_id or f"unknown-{order.client_order_id}")
            self._index_exchange_id(order)
            if self.journal is not None:
                self.journal.note(order)
        elif not self._inferred or order.id not in self._inferred:
            self._logger.warning("fill %s for %s order %s ignored", trade.id, order.status.value, order.id)
            return
        amount, price = trade.amount, trade.price
        if amount <= 0 or price <= 0:  # validated before anything changes
            raise InvalidOrderState(
                f"invalid fill {trade.id}: {amount} @ {price}", order_id=order.id, symbol=order.symbol
            )
        fee = trade.fee or ZERO
        correction: _Correction | None = None
        if not inferred and self._inferred and order.id in self._inferred:
            # the real trade of a fill already applied as inferred: correct price and fee, add the rest
            correction = self._correction(order, trade, fee)
            amount, fee = trade.amount - correction[0], fee - correction[2]
        if amount > (order.amount - order.filled if order.filled else order.amount):  # (the remaining amount)
            raise InvalidOrderState(
                f"fill {trade.id} of {amount} exceeds the remaining {order.remaining}",
                order_id=order.id,
                symbol=order.symbol,
            )
        if correction is not None and correction[3]:
            self.portfolio_manager.get_portfolio(order.sub_portfolio).apply_deltas(correction[3])  # atomic
            order.reserved_amount -= correction[4]
        if amount > 0:
            try:
                self.portfolio_manager.settle_fill(order, amount, price, fee, trade.fee_currency)
            except BaseException:
                if correction is not None and correction[3]:
                    undo = [(c, -t, -a) for c, t, a in correction[3]]
                    self.portfolio_manager.get_portfolio(order.sub_portfolio).apply_deltas(undo)
                    order.reserved_amount += correction[4]
                raise
            order.apply_fill(amount, price, fee, trade.fee_currency)
            if self.journal is not None:
                self.journal.note(order)
        if correction is not None:
            self._commit_correction(order, trade, correction)
        self.trades_manager.add(
            _new_trade(
                id=trade.id,
                order_id=order.id,
                exchange_order_id=order.exchange_order_id,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                price=price,
                amount=trade.amount,
                fee=trade.fee or ZERO,
                fee_currency=trade.fee_currency,
                timestamp=trade.timestamp,
                taker_or_maker=trade.taker_or_maker,
                sub_portfolio=order.sub_portfolio,
                realized_pnl=trade.realized_pnl,
                contract_size=None if self.contract_size_of is None else self.contract_size_of(order.symbol),
            )
        )
        if amount <= 0:
            return
        if order.has_hooks(_EV_FILL):
            await self._emit(order, _EV_FILL)
        if order.status is _FILLED:
            self.portfolio_manager.release(order)
            order.transition(_CLOSED)
            self._mark_done(order)
            if self.journal is not None:
                self.journal.note(order)
            if order.has_hooks(_EV_CLOSE):
                await self._emit(order, _EV_CLOSE)

    async def finish_interrupted_fill(self, order: Order) -> None:
        """Finish a fill whose reactions a crash interrupted (restart recovery; a no-op unless FILLED).

        A fill is committed before its hooks run, so a file can hold an order FILLED but not yet
        closed: its FILL hooks (group siblings, chained orders) run now, then it is closed.
        """
        if order.status is not _FILLED:
            return
        if order.has_hooks(_EV_FILL):
            await self._emit(order, _EV_FILL)
        if order.status is _FILLED:
            self.portfolio_manager.release(order)
            order.transition(_CLOSED)
            self._mark_done(order)
            if self.journal is not None:
                self.journal.note(order)
            if order.has_hooks(_EV_CLOSE):
                await self._emit(order, _EV_CLOSE)
            elif self.journal is not None:
                await self.journal.commit(order)

    def has_inferred(self, order: Order) -> bool:
        """True when ``order`` has inferred fills that real trades must still match."""
        return bool(self._inferred) and order.id in self._inferred

    def give_up(self, order: Order) -> None:
        """Forget an in-flight ``order`` (already rejected) and its inactive children, restorable.

        If the venue shows the order later (it processed the request late), the next update of it
        restores the order and its chained orders instead of adopting a stranger.
        """
        children = [c for c in order.chained_orders if not c.is_done and not c.is_active]
        for child in children:
            self.forget(child)
        self.forget(order)
        self._given_up[order.client_order_id] = (order, children)

    def given_up_orders(self) -> list[Order]:
        """In-flight orders given up as not placed that the venue may still show (oldest first)."""
        return [order for order, _children in self._given_up.values()]

    def drop_given_up(self, client_order_id: str) -> None:
        """Stop following a given-up order (its lookup window is over); unknown ids are ignored."""
        self._given_up.pop(client_order_id, None)

    def inferred_entries(self) -> dict[str, list[tuple[str, Decimal, Decimal]]]:
        """Inferred fills real trades must still match, by order id: ``(trade id, amount left, price)``.

        Persisted by storage, so a real trade seen after a restart corrects its inferred fill
        instead of being applied as a new one.
        """
        return {order_id: [(e[0], e[1], e[2]) for e in entries] for order_id, entries in self._inferred.items()}

    def restore_inferred(self, entries: dict[str, list[tuple[str, Decimal, Decimal]]]) -> None:
        """Put back inferred-fill entries saved by :meth:`inferred_entries` (restart recovery)."""
        for order_id, items in entries.items():
            if items:
                self._inferred[order_id] = [[trade_id, left, price] for trade_id, left, price in items]

    def _restore_given_up(self, exchange_order: ExchangeOrder) -> Order:
        """Bring back an order given up as not placed that the venue shows after all."""
        order, children = self._given_up.pop(exchange_order.client_order_id)  # type: ignore[arg-type]
        order.reopen_given_up()
        self.add(order)
        for child in children:
            self.add(child)
        self._logger.warning(
            "order %s given up as not placed is on the venue after all; restored", order.client_order_id
        )
        if exchange_order.status not in _CLOSING:
            try:
                currency, amount = self.portfolio_manager.reservation_for(
                    order, order.price or exchange_order.price, *self._fee_terms(order)
                )
                self.portfolio_manager.reserve(order, currency, amount)
            except Exception as exc:  # the venue holds the funds; the local view is refreshed from balances
                self._logger.warning("could not reserve funds for restored order %s: %s", order.id, exc)
        return order

    def _fee_terms(self, order: Order) -> tuple[Decimal, bool | None]:
        return (ZERO, None) if self.fee_terms is None else self.fee_terms(order)

    def orders_with_inferred_fills(self) -> list[Order]:
        """Orders with fills inferred from the venue's filled amount that real trades must still match."""
        return [self._orders[order_id] for order_id in self._inferred if order_id in self._orders]

    def _correction(self, order: Order, trade: ExchangeTrade, fee: Decimal) -> _Correction:
        """How ``trade`` corrects the order's inferred fills (oldest first); nothing is changed here.

        Return ``(amount covered, cost change, fee share of the covered part, portfolio deltas,
        amount taken from the order's reservation)``: the covered part adds no amount, its cost
        moves from the inferred price to the real one and its share of the fee is charged. While
        the order is open, what it costs in the reserved currency (e.g. a fee charged in the spent
        currency, reserved with the order) comes out of its reservation, not the free funds.
        """
        covered, inferred_cost, need = ZERO, ZERO, trade.amount
        for _trade_id, left, price in self._inferred[order.id]:
            if need <= 0:
                break
            take = min(need, left)
            covered += take
            inferred_cost += take * price
            need -= take
        covered_fee = fee if covered == trade.amount else fee * covered / trade.amount
        cost_delta = covered * trade.price - inferred_cost
        deltas: list[tuple[str, Decimal, Decimal]] = []
        if cost_delta:
            signed = -cost_delta if order.side is OrderSide.BUY else cost_delta
            deltas.append((parse_symbol(order.symbol).quote, signed, signed))
        if covered_fee and trade.fee_currency:
            deltas.append((trade.fee_currency, -covered_fee, -covered_fee))
        taken = ZERO
        if order.reserved_amount and order.reserved_currency is not None and not order.is_done:
            charged = -sum((a for c, _t, a in deltas if c == order.reserved_currency), ZERO)
            taken = min(charged, order.reserved_amount) if charged > 0 else ZERO
            if taken:
                deltas.append((order.reserved_currency, ZERO, taken))
        return covered, cost_delta, covered_fee, deltas, taken

    def _commit_correction(self, order: Order, trade: ExchangeTrade, correction: _Correction) -> None:
        """Apply a :meth:`_correction` to the order and supersede the inferred fills it matched."""
        covered, cost_delta, covered_fee, _deltas, _taken = correction
        order.correct_fill(cost_delta, covered_fee, trade.fee_currency)
        entries = self._inferred[order.id]
        while covered > 0 and entries:
            entry = entries[0]
            take = min(covered, entry[1])
            entry[1] -= take
            covered -= take
            record = self.trades_manager.get(entry[0])
            if entry[1] == 0:
                entries.pop(0)
                self.trades_manager.supersede(entry[0])
            elif record is not None:
                self.trades_manager.supersede(entry[0], replace(record, amount=entry[1]))
        if not entries:
            del self._inferred[order.id]

    async def _close_unfilled(self, order: Order, status: OrderStatus) -> None:
        if status is _REJECTED and order.status is not _PENDING_CREATION:
            status = OrderStatus.CANCELED
        order.transition(status)
        pass_on_reservation(order)  # (a group sibling still open may share its reservation)
        self.portfolio_manager.release(order)
        self._mark_done(order)
        if self.journal is not None:
            await self.journal.commit(order)
        if order.has_hooks(_EV_CANCEL):
            await order.emit(_EV_CANCEL)

    async def cancel_locally(self, order: Order, status: OrderStatus = OrderStatus.CANCELED) -> None:
        """Finish ``order`` without the exchange (inactive orders, or cancel confirmed by the venue)."""
        if order.is_done:
            return
        await self._close_unfilled(order, status)

    def _adopt(self, exchange_order: ExchangeOrder) -> Order:
        """Register an order found on the exchange but unknown locally (placed elsewhere)."""
        price = (
            exchange_order.price
            if exchange_order.type.is_limit_priced or exchange_order.type.value == "limit"
            else None
        )
        order = create_order_instance(
            exchange_order.type,
            exchange_order.side,
            exchange_order.symbol,
            exchange_order.amount,
            price,
            clock=self.clock,
            trigger_price=exchange_order.trigger_price
            or (exchange_order.price if exchange_order.type.is_triggered and price is None else None),
            client_order_id=exchange_order.client_order_id,
            trailing_percent=_trailing_default(exchange_order),
        )
        self.add(order)
        self._logger.info("adopted order %s found on the exchange", exchange_order.id)
        if exchange_order.status not in _CLOSING:
            try:
                currency, amount = self.portfolio_manager.reservation_for(
                    order, exchange_order.price, *self._fee_terms(order)
                )
                self.portfolio_manager.reserve(order, currency, amount)
            except Exception as exc:  # the exchange holds the funds; local view refreshed from balances
                self._logger.warning("could not reserve funds for adopted order %s: %s", exchange_order.id, exc)
        return order


def _trailing_default(exchange_order: ExchangeOrder) -> Decimal | None:
    """The trailing percent an adopted trailing order is given (the venue's view has none)."""
    return Decimal(1) if exchange_order.type.value.startswith("trailing") else None
