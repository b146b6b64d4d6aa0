"""Links between orders and what a linked order's fill or cancel does to the others.

* **Bundled exits**: ``stop_loss_price`` / ``take_profit_price`` of an entry become chained
  orders on the other side, grouped BALANCED when both are given.
* **Chained orders** wait (inactive, nothing reserved) for their parent's complete fill; then
  each is submitted, its amount cut to what the parent really delivered after fees (dropped
  when that falls below the market minimum). Canceling the parent cancels them.
* **Groups**: the group's rule (:meth:`~.orders.groups.OrderGroup.on_fill`) returns actions that
  :class:`OrderLinks` executes: a cancel through the trader, a resize through the trader's edit
  for an order resting on the venue, through :meth:`~.orders.order.Order.shrink` for one held
  locally. A failed action is logged: it never breaks the fill being applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.errors import OctoBotTradingError, OrderNotFound
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.futures_trading import is_contract_symbol
from octobot_trading.personal_data.order_listeners import automatic_operations
from octobot_trading.personal_data.orders.groups import CancelOrder, GroupKind, OrderGroup
from octobot_trading.personal_data.orders.order import Order, OrderEvent
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.price_triggers import PriceTriggers, SubmitOrder
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.symbols import cached_symbol

__all__ = ["OrderLinks", "group_owner"]


def group_owner(order: Order, group: OrderGroup) -> Order | None:
    """The group member whose reservation ``order`` shares (same symbol and side), if any."""
    if group.kind not in (GroupKind.OCO, GroupKind.BALANCED):
        return None
    for sibling in group.orders:
        if sibling.side is order.side and sibling.symbol == order.symbol and not sibling.is_done:
            return sibling.reservation_owner or sibling
    return None


class OrderLinks:
    """Bundled exits, groups and chained orders of one trader (see the module docstring).

    Parameters
    ----------
    orders_manager:
        Registry of the orders (chained children are registered inactive).
    clock:
        Time source of the exit orders it creates.
    market:
        ``market(symbol)``: the market spec exits and children are adapted to.
    triggers:
        Holds children of a type the venue lacks (self-managed).
    is_native:
        ``is_native(order_type)``: True when the venue holds the type.
    submit, cancel, edit:
        The trader's placement, ``cancel_order`` and ``edit_order``.
    logger:
        Where failed reactions are reported.
    """

    def __init__(
        self,
        orders_manager: OrdersManager,
        *,
        clock: Clock,
        market: Callable[[str], MarketInfo],
        triggers: PriceTriggers,
        is_native: Callable[[OrderType], bool],
        submit: SubmitOrder,
        cancel: Callable[[Order], Awaitable[Order]],
        edit: Callable[..., Awaitable[Order]],
        logger: Any,
    ) -> None:
        self.orders_manager = orders_manager
        self.clock = clock
        self.market = market
        self.triggers = triggers
        self.is_native = is_native
        self.submit = submit
        self.cancel = cancel
        self.edit = edit
        self.logger = logger

    def build_exits(self, entry: Order, market: MarketInfo, stop_loss: Any, take_profit: Any) -> list[Order]:
        """The exit orders bundled with ``entry`` (not registered yet), adapted to the market."""
        exits: list[Order] = []
        if stop_loss is None and take_profit is None:
            return exits
        side = entry.side.opposite
        # on a contract the exits only close what the entry opened (never open a position after
        # a liquidation or a manual close) and close its side in hedge mode
        closing: dict[str, Any] = (
            {"reduce_only": True, "position_side": entry.position_side} if is_contract_symbol(entry.symbol) else {}
        )
        if stop_loss is not None:
            exits.append(
                create_order_instance(
                    OrderType.STOP_LOSS,
                    side,
                    entry.symbol,
                    entry.amount,
                    clock=self.clock,
                    trigger_price=stop_loss,
                    sub_portfolio=entry.sub_portfolio,
                    **closing,
                )
            )
        if take_profit is not None:
            exits.append(
                create_order_instance(
                    OrderType.LIMIT,
                    side,
                    entry.symbol,
                    entry.amount,
                    take_profit,
                    clock=self.clock,
                    sub_portfolio=entry.sub_portfolio,
                    **closing,
                )
            )
        spec = market.spec
        for child in exits:
            child.amend(
                price=None if child.price is None else spec.adapt_price(child.price, child.side),
                trigger_price=None
                if child.trigger_price is None
                else spec.adapt_price(child.trigger_price, rounding="nearest"),
            )
        if len(exits) == 2:
            group = OrderGroup(GroupKind.BALANCED)
            for child in exits:
                self.join_group(child, group)
        return exits

    def join_group(self, order: Order, group: OrderGroup) -> None:
        """Add ``order`` to ``group`` (sharing a sibling's reservation when they sell the same funds)."""
        if order.reservation_owner is None:
            order.reservation_owner = group_owner(order, group)
        group.add(order)
        self.follow(order)

    def chain(self, child: Order, parent: Order) -> None:
        """Keep ``child`` inactive until ``parent`` fills; register it."""
        self.follow(parent)
        child.is_active = False
        parent.add_chained(child)
        self.orders_manager.add(child)

    def follow(self, order: Order) -> None:
        """Install the fill / cancel reactions on ``order`` once; plain orders carry none."""
        if not order.has_hooks(OrderEvent.FILL):
            order.add_hook(OrderEvent.FILL, self._after_fill)
            order.add_hook(OrderEvent.CANCEL, self._after_cancel)

    async def _after_fill(self, order: Order) -> None:
        group = order.group
        if group is not None:
            for action in group.on_fill(order):
                target = action.order
                if target.is_done:  # (an earlier action may have ended it)
                    continue
                try:
                    if isinstance(action, CancelOrder):
                        with automatic_operations():
                            await self._cancel_quietly(target)
                    elif target.is_active and target.exchange_order_id:
                        with automatic_operations():
                            await self.edit(target, amount=action.amount)
                    else:
                        target.shrink(action.amount)
                except OctoBotTradingError as exc:  # never break the fill being applied
                    self.logger.error("group %s: could not adjust order %s: %s", group.name, target.id, exc)
        if order.status is OrderStatus.FILLED and order.chained_orders:
            await self.release_children(order)

    async def _cancel_quietly(self, order: Order) -> None:
        try:
            await self.cancel(order)
        except OrderNotFound:
            self.logger.info("group sibling %s already gone", order.id)

    async def release_children(self, parent: Order) -> None:
        """Submit the inactive chained orders of the filled ``parent``, cut to what it delivered after fees."""
        received = _net_received(parent)
        for child in list(parent.chained_orders):
            if child.is_done or child.is_active:
                continue
            market = self.market(child.symbol)
            amount = child.amount
            if child.side is not parent.side:
                limit = received if parent.side is OrderSide.BUY else None
                if limit is None and child.reference_price:
                    limit = received / child.reference_price
                if limit is not None and amount > limit:
                    amount = market.spec.adapt_quantity(limit)
            if amount <= 0 or not market.spec.passes_limits(amount, child.reference_price):
                self.logger.warning("chained order %s below the market minimum after fees; dropped", child.id)
                await self.orders_manager.cancel_locally(child)
                continue
            if amount != child.amount:
                child.amend(amount=amount)
            try:
                if not self.is_native(child.order_type):
                    self.triggers.self_manage(child)
                else:
                    await self.submit(child)
            except OctoBotTradingError as exc:  # never break the parent's fill being applied
                self.logger.error("chained order %s refused: %s", child.id, exc)
                if not child.is_done and child.status is OrderStatus.PENDING_CREATION and not child.is_active:
                    await self.orders_manager.cancel_locally(child)

    async def _after_cancel(self, order: Order) -> None:
        for child in order.chained_orders:
            if not child.is_done and not child.is_active:
                await self.orders_manager.cancel_locally(child)

    async def resume_interrupted(self, connector: Any) -> None:
        """Submit the chained orders of parents filled before a restart whose children were not sent.

        A child may have reached the venue before the stop without the local state knowing: one
        with an exchange id, or found by its client order id, is followed as placed; only the
        others are submitted (adjusted for the parent's fees, like on a fill). That includes a
        child whose intent was committed but whose request never reached the venue (a stop right
        after the commit): its reservation is released and it is submitted again under the same
        client order id (a venue that refuses a duplicate client order id refuses a late copy).
        """
        for parent in self.orders_manager.all_orders():
            if parent.status not in (OrderStatus.FILLED, OrderStatus.CLOSED) or not parent.chained_orders:
                continue
            for child in parent.chained_orders:
                if child.exchange_order_id is not None and not child.is_active:
                    child.is_active = True  # matched on the venue by the first sync (client order id)
            waiting = [
                c
                for c in parent.chained_orders
                if c.status is OrderStatus.PENDING_CREATION and c.exchange_order_id is None
            ]
            if not waiting:
                continue
            for child in waiting:
                found = await connector.fetch_order_by_client_id(child.client_order_id, child.symbol)
                if found is not None:
                    child.is_active = True
                    await self.orders_manager.apply_exchange_update(found, [])
                elif child.is_active:  # its intent was committed, the venue never got it: submit it again
                    self.logger.warning("chained order %s was not sent before the last stop; sending it", child.id)
                    self.orders_manager.portfolio_manager.release(child)
                    child.is_active = False
            self.logger.info("submitting the chained orders of %s interrupted by the last stop", parent.id)
            await self.release_children(parent)


def _net_received(parent: Order) -> Decimal:
    """What the parent's fills delivered, net of the fees taken from it."""
    symbol = cached_symbol(parent.symbol)
    if parent.side is OrderSide.BUY:
        return parent.filled - parent.fees.get(symbol.base, ZERO)
    return parent.filled_cost - parent.fees.get(symbol.quote, ZERO)
