"""Cancel and edit of existing orders: what the trader's ``cancel_order`` / ``edit_order`` do.

:class:`OrderChanges` is one of the trader's collaborators, given its dependencies when the trader
is built (and the connector again when the trader's connector changes). Cancels of inactive orders
stay local; an order still in flight is looked up before it can be canceled. Edits adapt the new
terms to the market spec, apply order safety and reserve extra funds BEFORE the venue is asked,
and undo the local change when the venue refuses; an edit the venue makes by cancel-and-replace
(its answer carries a new exchange order id) moves the local order to the new id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import OrderStatus, OrderType
from octobot_trading.errors import AmbiguousOrderOutcome, InvalidOrder, InvalidOrderState, OrderNotFound
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.order_funds import OrderFunds
from octobot_trading.personal_data.order_safety import OrderSafety
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.price_triggers import PriceTriggers
from octobot_trading.util.decimals import to_decimal

__all__ = ["OrderChanges"]

_TRAILING = (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)
_STOP_WITHOUT_LIMIT = (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)


class OrderChanges:
    """Cancels and edits orders of one account.

    ``resolve_in_flight`` looks in-flight orders up by client id; ``apply_placed`` applies the
    venue's reply to an accepted cancel.
    """

    def __init__(
        self,
        connector: ExchangeConnector,
        orders_manager: OrdersManager,
        portfolio_manager: PortfolioManager,
        *,
        funds: OrderFunds,
        safety: OrderSafety,
        triggers: PriceTriggers,
        market: Callable[[str], MarketInfo],
        last_price: Callable[[str], Decimal | None],
        resolve_in_flight: Callable[[], Awaitable[Any]],
        apply_placed: Callable[[Any], Awaitable[None]],
    ) -> None:
        self.connector = connector
        self.orders_manager = orders_manager
        self.portfolio_manager = portfolio_manager
        self.funds = funds
        self.safety = safety
        self.triggers = triggers
        self.market = market
        self._last_price = last_price
        self._resolve_in_flight = resolve_in_flight
        self._apply_placed = apply_placed

    async def cancel(self, order: Order) -> Order:
        """Cancel ``order`` (inactive ones locally); a filled order raises ``InvalidOrderState``."""
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            return order
        if order.is_done:
            raise InvalidOrderState(f"order is {order.status.value}", order_id=order.id, symbol=order.symbol)
        if not order.is_active or order.exchange_order_id is None:
            self.triggers.unwatch(order)
            if order.status is OrderStatus.PENDING_CREATION and order.is_active:
                await self._resolve_in_flight()
                if order.status is OrderStatus.PENDING_CREATION:  # the venue does not show it (yet)
                    raise AmbiguousOrderOutcome(
                        "the order is in flight (placement outcome unknown): it cannot be canceled before "
                        "the venue shows it; retry after the next sync",
                        client_order_id=order.client_order_id,
                        order_id=order.id,
                        symbol=order.symbol,
                    )
                if order.exchange_order_id is None or order.is_done:
                    return order
            else:
                await self.orders_manager.cancel_locally(order)
                return order
        previous = order.status
        order.transition(OrderStatus.CANCELING)
        try:
            try:
                exchange_order = await self.connector.cancel_order(order.exchange_order_id, order.symbol)
            except OrderNotFound:
                exchange_order = await self.connector.fetch_order(order.exchange_order_id, order.symbol)
                if exchange_order.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    raise
        except BaseException:  # (the lookup's failure too): the order is what it was
            if order.status is OrderStatus.CANCELING:
                order.transition(previous)
            raise
        await self._apply_placed(exchange_order)
        return order

    async def edit(
        self,
        order: Order,
        *,
        amount: Decimal | int | str | None = None,
        price: Decimal | int | str | None = None,
        trigger_price: Decimal | int | str | None = None,
    ) -> Order:
        """Change an open order's amount, price and/or trigger; funds are checked before the venue is asked.

        ``price`` is the limit price (a stop-loss / take-profit without a limit has none: there it
        moves the trigger); ``trigger_price`` moves the trigger of a triggered order.
        """
        market = self.market(order.symbol)
        new_amount = None if amount is None else market.spec.adapt_quantity(to_decimal(amount, name="amount"))
        new_price = None if price is None else market.spec.adapt_price(to_decimal(price, name="price"), order.side)
        new_trigger = (
            None
            if trigger_price is None
            else market.spec.adapt_price(to_decimal(trigger_price, name="trigger_price"), rounding="nearest")
        )
        if new_trigger is not None and not order.order_type.is_triggered:
            raise InvalidOrder(
                f"a {order.order_type.value} order has no trigger price", limit="trigger_price", symbol=order.symbol
            )
        if new_amount is not None and new_amount <= order.filled:
            raise InvalidOrder("the new amount must exceed the filled amount", limit="amount", symbol=order.symbol)
        moves_trigger = order.order_type in _STOP_WITHOUT_LIMIT  # its "price" is the trigger
        limit_price = None if moves_trigger else new_price
        trigger = new_trigger if new_trigger is not None else (new_price if moves_trigger else None)
        self._check_edit_safety(order, new_amount, limit_price, trigger)
        if not order.is_active:
            order.amend(amount=new_amount, price=limit_price, trigger_price=trigger)
            if (
                order.self_managed
                and order.order_type not in _TRAILING
                and self.triggers.is_watched(order)
                and (new_trigger is not None or moves_trigger)
            ):
                self.triggers.rewatch(order)  # watch the new trigger
            return order
        order.ensure_status(OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        old = order.amend(amount=new_amount, price=limit_price, trigger_price=trigger)
        try:
            spec_price = order.reference_price or self._last_price(order.symbol)
            market.spec.check_limits(order.remaining, spec_price)
            currency, needed = self.funds.reservation(order)
            needed = max(needed, self.funds.sharers_need(order, currency))  # (group siblings sharing it)
            delta = needed - order.reserved_amount
            if delta > 0:
                self.portfolio_manager.reserve(order, currency, delta)
        except BaseException:
            order.restore_terms(old)
            raise
        try:
            extra = {} if new_trigger is None else {"trigger_price": new_trigger}
            edited = await self.connector.edit_order(
                order.exchange_order_id,  # type: ignore[arg-type]
                order.symbol,
                amount=new_amount,
                price=new_price,
                **extra,
            )
        except BaseException:
            if delta > 0:
                self.portfolio_manager.release(order, delta)
            order.restore_terms(old)
            raise
        if delta < 0:
            self.portfolio_manager.release(order, -delta)
        if edited.id and edited.id != order.exchange_order_id:
            await self._follow_replacement(order, edited.id)
        return order

    async def _follow_replacement(self, order: Order, exchange_order_id: str) -> None:
        """A venue that edits by cancel-and-replace answers with a new order: ``order`` follows it
        (re-indexed under the new exchange id, committed at once when storage is on, so a restart
        does not take the canceled original for the order)."""
        self.orders_manager.forget(order)
        order.replaced_on_venue(exchange_order_id)
        self.orders_manager.add(order)
        journal = self.orders_manager.journal
        if journal is not None:
            await journal.commit(order)

    def _check_edit_safety(
        self, order: Order, amount: Decimal | None, price: Decimal | None, trigger: Decimal | None
    ) -> None:
        """Order safety on an edit's new terms, like on a new order; ``order`` is left as it was."""
        old = order.amend(amount=amount, price=price, trigger_price=trigger)
        try:
            self.safety.check_edit(
                order,
                price_changed=price is not None,
                amount_increased=amount is not None and amount > old.amount,
                holding=self.portfolio_manager.get_portfolio(order.sub_portfolio).total(self.market(order.symbol).base),
            )
        finally:
            order.restore_terms(old)
