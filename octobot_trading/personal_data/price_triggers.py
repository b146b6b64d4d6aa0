"""Price triggers and self-managed orders: orders held locally until a price crosses a threshold.

A :class:`PriceTrigger` keeps an order inactive (not sent, nothing reserved) until the market
data's price events report the crossing. Orders of a type the venue cannot hold
(``Trader.supported_order_types``) are *self-managed*: held locally, their trigger watched the
same way, then sent as a market order (limit types: a limit at their price); a self-managed
trailing stop also re-arms a "new extreme" event one tick beyond the best price seen to move its
stop. Event callbacks are synchronous; the submission runs in a task owned by the trader
(cancelled by ``Trader.stop()``), except when :attr:`PriceTriggersMixin.due_triggers` is a list
(synchronized backtests): fired orders then queue there and whoever drives the replay awaits
:meth:`PriceTriggersMixin.run_due_triggers` directly, with no task and no event-loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import InvalidOrder, OctoBotTradingError
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.util.decimals import to_decimal

__all__ = ["PriceTrigger", "PriceTriggersMixin"]

_T = OrderType


class PriceTrigger:
    """Keep an order inactive until the price of its symbol crosses ``threshold``.

    ``above=True``: fire at a price >= threshold; otherwise at a price <= threshold.
    """

    def __init__(self, threshold: Decimal | int | str, *, above: bool) -> None:
        self.threshold = to_decimal(threshold, name="threshold")
        self.above = above


class PriceTriggersMixin:
    """The trader's price-trigger and self-managed-order machinery (mixed into ``Trader``)."""

    price_events_for: Callable[[str], Any] | None
    orders_manager: OrdersManager
    _price_events: dict[str, Any]
    _tasks: set[asyncio.Task[Any]]
    _logger: Any
    #: None: each fired trigger is submitted in a task owned by the trader. A list (set by the
    #: backtest wiring): fired orders queue here until :meth:`run_due_triggers` is awaited.
    due_triggers: list[Order] | None = None

    def market(self, symbol: str) -> MarketInfo:  # provided by Trader
        raise NotImplementedError

    def _last_price(self, symbol: str) -> Decimal | None:  # provided by Trader
        raise NotImplementedError

    async def _submit(self, order: Order, *, as_type: OrderType | None = None,
                      reservation: tuple[str, Decimal] | None = None) -> None:  # provided by Trader
        raise NotImplementedError

    def _watch(self, order: Order, threshold: Decimal, above: bool) -> None:
        if self.price_events_for is None:
            raise InvalidOrder("price triggers need a price-event source", limit="price_trigger",
                               symbol=order.symbol)
        events = self.price_events_for(order.symbol)

        def fire(_event: Any) -> None:
            self._price_events.pop(order.id, None)
            due = self.due_triggers
            if due is not None:
                due.append(order)
                return
            task = asyncio.get_running_loop().create_task(self._on_trigger(order))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._price_events[order.id] = events.register(threshold, "above" if above else "below", fire)

    def _self_manage(self, order: Order) -> None:
        """Hold a type the venue lacks locally; send a market (or limit) order when it triggers."""
        order.self_managed = True
        order.is_active = False
        self.orders_manager.add(order)
        trigger = order.trigger_price
        assert trigger is not None
        if order.order_type in (_T.TRAILING_STOP, _T.TRAILING_STOP_LIMIT):
            best = self._last_price(order.symbol)
            self._trail(order, best if best is not None else trigger)
            return
        # stop-loss sells and take-profit buys trigger on the way down, the others on the way up
        down = (order.side is OrderSide.SELL) == (order.order_type in (_T.STOP_LOSS, _T.STOP_LOSS_LIMIT))
        self._watch(order, trigger, not down)

    def _trail(self, order: Order, best: Decimal) -> None:
        """Self-managed trailing stop: arm the stop, and a "new extreme" event one tick beyond ``best``
        that moves the stop (never backwards) and re-arms both."""
        if order.is_done or order.is_active:
            return
        spec = self.market(order.symbol).spec
        sell = order.side is OrderSide.SELL
        # like the simulated venue: a sell stop rounds down to the tick, a buy stop up (never a
        # better stop than the path allows)
        stop = spec.adapt_price(order.stop_from(best), rounding="down" if sell else "up")  # type: ignore[attr-defined]
        current = order.trigger_price
        if current is None or (stop > current if sell else stop < current):
            order.trigger_price = stop
        for key in (order.id, f"{order.id}:trail"):
            event = self._price_events.pop(key, None)
            if event is not None:
                event.cancel()
        if self.price_events_for is None:
            raise InvalidOrder("self-managed trailing stops need a price-event source", limit="price_trigger",
                               symbol=order.symbol)
        events = self.price_events_for(order.symbol)

        def new_extreme(event: Any) -> None:
            self._price_events.pop(f"{order.id}:trail", None)
            self._trail(order, event.price)

        extreme = best + spec.price_tick if sell else best - spec.price_tick
        self._price_events[f"{order.id}:trail"] = events.register(extreme, "above" if sell else "below",
                                                                  new_extreme)
        if not order.is_done and order.trigger_price is not None and order.id not in self._price_events:
            self._watch(order, order.trigger_price, not sell)  # (a re-entrant call may have armed it)

    async def run_due_triggers(self) -> None:
        """Submit, in firing order, the orders queued in :attr:`due_triggers` (and any their
        submission fires in turn)."""
        due = self.due_triggers
        while due:
            await self._on_trigger(due.pop(0))

    async def _on_trigger(self, order: Order) -> None:
        if order.is_done or order.is_active:
            return
        try:
            if order.self_managed:
                limit_typed = order.order_type.is_limit_priced and order.price is not None
                await self._submit(order, as_type=_T.LIMIT if limit_typed else _T.MARKET)
            else:
                await self._submit(order)
        except OctoBotTradingError as exc:
            self._logger.warning("triggered order %s refused: %s", order.id, exc)
            if not order.is_done:
                await self.orders_manager.cancel_locally(order)
