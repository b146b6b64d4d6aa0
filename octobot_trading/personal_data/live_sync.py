"""The trader's live-venue synchronisation (:class:`LiveSync`): in-flight lookups and REST polls.

Every update goes through ``OrdersManager.apply_exchange_update`` with the order's REAL trades
(fetched whenever the venue shows fills the local books lack), so fees and prices are the
venue's; a fill is inferred from the order's filled amount only when its trades cannot be read,
and the real trades correct it later. Each order is synced on its own: one that cannot be applied
is logged and retried next poll, never blocking the others. An order whose placement outcome is
unknown stays in flight until the venue can no longer accept it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import OctoBotTradingError, OrderNotFound
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import ExchangeOrder
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.util.decimals import ZERO

__all__ = ["GIVEN_UP_LOOKUP_MS", "IN_FLIGHT_GIVE_UP_MS", "IN_FLIGHT_MIN_LOOKUPS", "VANISHED_MIN_LOOKUPS", "LiveSync"]

#: An in-flight order is given up only after this many lookups found nothing ...
IN_FLIGHT_MIN_LOOKUPS = 3
#: ... and this long after it was sent (Binance's largest recvWindow: older requests are refused).
IN_FLIGHT_GIVE_UP_MS = 60_000
#: A given-up order is still looked up by client id (on polls 1, 2, 4, 8, ... after it was given
#: up) for this long after it was sent: a request processed late may have filled before any poll.
GIVEN_UP_LOOKUP_MS = 24 * 3_600_000
#: An open order the venue no longer knows (unknown by exchange id, neither open nor in its
#: history) is closed locally once this many consecutive syncs could not find it.
VANISHED_MIN_LOOKUPS = 3


class LiveSync:
    """In-flight resolution and the live REST sync of one account (see the module docstring).

    Parameters
    ----------
    connector:
        The venue (``ExchangeConnector`` contract): order lookups, open orders, trades, balances.
    orders_manager, portfolio_manager:
        The account's books; every update goes through ``orders_manager.apply_exchange_update``.
    clock:
        Time source (in-flight and given-up windows).
    logger:
        Where failed lookups and updates are reported (each retried next poll).
    client_order_id_prefix:
        This engine's client order id prefix when several engines share the account: an order
        unknown locally is adopted only when its client id starts with ``<prefix>-`` (None:
        every order found on the account is adopted).
    """

    def __init__(
        self,
        connector: ExchangeConnector,
        orders_manager: OrdersManager,
        portfolio_manager: PortfolioManager,
        *,
        clock: Clock,
        logger: Any,
        client_order_id_prefix: str | None = None,
    ) -> None:
        self.connector = connector
        self.orders_manager = orders_manager
        self.portfolio_manager = portfolio_manager
        self.clock = clock
        self._logger = logger
        self._in_flight_misses: dict[str, int] = {}
        self._given_up_polls: dict[str, int] = {}
        self._vanished_misses: dict[str, int] = {}
        self.client_order_id_prefix = client_order_id_prefix

    def owns(self, client_order_id: str | None) -> bool:
        """True when an order with this client id is this engine's (always, without a prefix)."""
        prefix = self.client_order_id_prefix
        return prefix is None or (client_order_id or "").startswith(f"{prefix}-")

    def is_foreign(self, exchange_order: ExchangeOrder) -> bool:
        """True for an order of the account that is unknown locally and another engine's: left alone."""
        if self.client_order_id_prefix is None or self.owns(exchange_order.client_order_id):
            return False
        manager = self.orders_manager
        if manager.get_by_exchange_id(exchange_order.id) is not None:
            return False
        cid = exchange_order.client_order_id
        if cid is None:
            return True
        known = manager.get_by_client_id(cid) is not None
        return not known and all(o.client_order_id != cid for o in manager.given_up_orders())

    def misses(self, client_order_id: str) -> int:
        """Lookups of the in-flight order ``client_order_id`` that found nothing so far."""
        return self._in_flight_misses.get(client_order_id, 0)

    async def resolve_in_flight(self) -> list[Order]:
        """Look up orders whose placement outcome is unknown by client id; apply what the venue says.

        An order the venue does not know yet stays in flight: a request can be processed late. It
        is given up (rejected, funds released, inactive children set aside) only once the venue can
        no longer accept it: at least :data:`IN_FLIGHT_MIN_LOOKUPS` lookups found nothing AND
        :data:`IN_FLIGHT_GIVE_UP_MS` passed since it was sent. If the venue shows it later anyway,
        it is restored (with its chained orders), not adopted as a stranger. Returns the orders
        resolved (found or given up).
        """
        resolved = []
        for order in self.orders_manager.in_flight():
            try:
                found = await self.connector.fetch_order_by_client_id(order.client_order_id, order.symbol)
            except asyncio.CancelledError:
                raise
            except OctoBotTradingError as exc:  # not a miss: the venue said nothing; retried next poll
                self._logger.error(
                    "lookup of in-flight order %s failed, retried next poll: %r", order.client_order_id, exc
                )
                continue
            if found is None:
                misses = self._in_flight_misses.get(order.client_order_id, 0) + 1
                if misses < IN_FLIGHT_MIN_LOOKUPS or self.clock.now_ms() - order.created_at < IN_FLIGHT_GIVE_UP_MS:
                    self._in_flight_misses[order.client_order_id] = misses
                    continue
                self._in_flight_misses.pop(order.client_order_id, None)
                self._logger.warning(
                    "order %s not on the venue after %d lookups; given up", order.client_order_id, misses
                )
                self.portfolio_manager.release(order)
                order.transition(OrderStatus.REJECTED)
                self.orders_manager.give_up(order)
            else:
                self._in_flight_misses.pop(order.client_order_id, None)
                try:
                    await self.apply_with_trades(found)
                except asyncio.CancelledError:
                    raise
                except OctoBotTradingError as exc:
                    # the venue's acknowledgement (open, exchange id) stands; the fill is retried by
                    # the next poll, which now follows the order by its exchange id
                    self._logger.error(
                        "in-flight order %s found but not applied, retried next poll: %r", order.client_order_id, exc
                    )
                    continue
            resolved.append(order)
        return resolved

    async def look_up_given_up(self) -> list[Order]:
        """Look given-up orders up again by client id; restore (and apply) those the venue shows.

        An order given up as not placed may have been processed late and filled at once, so it never
        shows among the open orders: each one is looked up on polls 1, 2, 4, 8, ... after it was
        given up (cheap: given-up orders are rare), until :data:`GIVEN_UP_LOOKUP_MS` after it was
        sent. A failed lookup or update is logged and retried. Returns the orders restored.
        """
        polls = self._given_up_polls
        restored = []
        for order in self.orders_manager.given_up_orders():
            client_id = order.client_order_id
            if self.clock.now_ms() - order.created_at > GIVEN_UP_LOOKUP_MS:
                self.orders_manager.drop_given_up(client_id)
                polls.pop(client_id, None)
                continue
            count = polls[client_id] = polls.get(client_id, 0) + 1
            if count & (count - 1):  # not a power of two: skipped this poll
                continue
            try:
                found = await self.connector.fetch_order_by_client_id(client_id, order.symbol)
                if found is None:
                    continue
                await self.apply_with_trades(found)  # restores the order and its chained orders
            except asyncio.CancelledError:
                raise
            except OctoBotTradingError as exc:
                self._logger.error("lookup of given-up order %s failed, retried later: %r", client_id, exc)
                continue
            polls.pop(client_id, None)
            restored.append(order)
        return restored

    async def sync(self, symbols: Collection[str] | None = None) -> None:
        """Poll the venue (live REST): apply fills, cancels and unknown open orders, each once."""
        await self.resolve_in_flight()
        await self.look_up_given_up()
        open_orders = await self.connector.fetch_open_orders()
        seen = set()
        for exchange_order in open_orders:
            if symbols is not None and exchange_order.symbol not in symbols:
                continue
            if self.is_foreign(exchange_order):  # another engine's order on the shared account
                continue
            seen.add(exchange_order.id)
            await self._apply_isolated(exchange_order.id, exchange_order)
        pending = [*self.orders_manager.open_orders(), *self.orders_manager.orders_with_inferred_fills()]
        for order in pending:
            if not order.is_active or order.exchange_order_id is None or order.exchange_order_id in seen:
                continue
            if symbols is not None and order.symbol not in symbols:
                continue
            seen.add(order.exchange_order_id)
            await self._apply_isolated(order.exchange_order_id, None, order.symbol)

    async def _apply_isolated(self, order_id: str, exchange_order: Any, symbol: str | None = None) -> None:
        """Fetch (when not given) and apply one order; a failure is logged and retried next poll.

        One order the local books cannot apply (e.g. a fee the venue took from funds the local view
        does not have) never blocks the sync of the others.
        """
        try:
            if exchange_order is None:
                try:
                    exchange_order = await self.connector.fetch_order(order_id, symbol)  # type: ignore[arg-type]
                except OrderNotFound:
                    await self._vanished(order_id)
                    return
            self._vanished_misses.pop(order_id, None)
            await self.apply_with_trades(exchange_order)
        except asyncio.CancelledError:
            raise
        except OctoBotTradingError as exc:
            self._logger.error("sync of order %s failed, retried next poll: %r", order_id, exc)

    async def _vanished(self, order_id: str) -> None:
        """An order the venue does not know by its exchange id: after :data:`VANISHED_MIN_LOOKUPS`
        consecutive misses, and when no order has its client id either, close it locally with the
        fills the venue's trade history still shows (canceled, or filled when they cover it)."""
        local = self.orders_manager.get_by_exchange_id(order_id)
        if local is None or local.is_done:
            self._vanished_misses.pop(order_id, None)
            return
        misses = self._vanished_misses[order_id] = self._vanished_misses.get(order_id, 0) + 1
        if misses < VANISHED_MIN_LOOKUPS:
            self._logger.warning(
                "order %s not found on the venue (lookup %d of %d)", order_id, misses, VANISHED_MIN_LOOKUPS
            )
            return
        found = await self.connector.fetch_order_by_client_id(local.client_order_id, local.symbol)
        if found is not None:  # known under its client order id after all
            self._vanished_misses.pop(order_id, None)
            await self.apply_with_trades(found)
            return
        trades = [t for t in await self.connector.fetch_my_trades(local.symbol) if t.order_id == order_id]
        filled = max(local.filled, sum((t.amount for t in trades), ZERO))
        status = OrderStatus.CLOSED if filled >= local.amount else OrderStatus.CANCELED
        self._logger.warning(
            "order %s vanished from the venue (neither open nor in its history after %d lookups): closed locally as %s",
            order_id,
            misses,
            status.value,
        )
        gone = ExchangeOrder(
            id=order_id,
            client_order_id=local.client_order_id,
            symbol=local.symbol,
            type=local.order_type,
            side=local.side,
            status=status,
            price=local.price,
            amount=local.amount,
            filled=filled,
            remaining=local.amount - filled,
            average=None,  # no fill is inferred: only the venue's trades are applied
            fee=None,
            timestamp=local.created_at,
            last_update_timestamp=self.clock.now_ms(),
        )
        self._vanished_misses.pop(order_id, None)
        await self.orders_manager.apply_exchange_update(gone, sorted(trades, key=lambda t: t.timestamp))

    async def apply_with_trades(self, exchange_order: Any) -> None:
        """Apply the venue's view of an order with its real trades (fetched when it shows new fills).

        A fill is inferred from the order's filled amount only when its trades cannot be fetched;
        the real trades correct it (price, fee) on a later sync.
        """
        local = self.orders_manager.get_by_exchange_id(exchange_order.id)
        if local is None and exchange_order.client_order_id:
            local = self.orders_manager.get_by_client_id(exchange_order.client_order_id)
        known_filled = local.filled if local is not None else ZERO
        inferred = local is not None and self.orders_manager.has_inferred(local)
        if local is not None and local.is_done and exchange_order.filled <= known_filled and not inferred:
            return  # already applied (the reply of a placement whose fills the venue reported first)
        trades: list[Any] = []
        if exchange_order.filled > known_filled or inferred:
            try:
                all_trades = await self.connector.fetch_my_trades(exchange_order.symbol)
                # oldest first: a real trade corrects the oldest inferred fill it covers
                trades = sorted((t for t in all_trades if t.order_id == exchange_order.id), key=lambda t: t.timestamp)
            except OctoBotTradingError as exc:
                self._logger.info("could not fetch fills of %s: %s", exchange_order.id, exc)
        await self.orders_manager.apply_exchange_update(exchange_order, trades)

    async def refresh_balances(self) -> None:
        """Replace the account's balances with the venue's (live trading).

        The venue's free amount already excludes what its open orders lock; funds reserved by
        orders still in flight (the venue may not know them yet) stay reserved locally too.
        """
        balances = await self.connector.fetch_balance()
        held: dict[str, Decimal] = {}
        for order in self.orders_manager.in_flight():
            currency = order.reserved_currency
            if currency is not None and order.reserved_amount:  # (a sub-portfolio's is in the account too)
                held[currency] = held.get(currency, ZERO) + order.reserved_amount
        self.portfolio_manager.refresh_from_balances(
            {c: (b.total, max(ZERO, b.free - held[c]) if c in held else b.free) for c, b in balances.items()}
        )
        self.portfolio_manager.balances_from_venue = True
        self.portfolio_manager.reserved_by_others = self._reserved_by_others

    def _reserved_by_others(self, order: Order, currency: str) -> Decimal:
        """What the open orders other than ``order`` reserve of ``currency`` in the portfolio it
        releases into (every open order's for the account's own portfolio, which holds the
        sub-portfolios' funds too)."""
        held = ZERO
        for other in self.orders_manager.open_orders():
            if other is order or other.reserved_currency != currency or not other.reserved_amount:
                continue
            if order.sub_portfolio is None or other.sub_portfolio == order.sub_portfolio:
                held += other.reserved_amount
        return held
