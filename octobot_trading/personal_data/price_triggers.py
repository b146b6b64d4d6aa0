"""Price triggers and self-managed orders: orders held locally until a price crosses a threshold.

A :class:`PriceTrigger` keeps an order inactive (not sent, nothing reserved) until the market
data's price events report the crossing. Orders of a type the venue cannot hold
(``Trader.supported_order_types``) are *self-managed*: held locally, their trigger watched the
same way, then sent as a market order (limit types: a limit at their price); a self-managed
trailing stop also re-arms a "new extreme" event one tick beyond the best price seen to move its
stop. Event callbacks are synchronous; the submission runs in a task owned by
:class:`PriceTriggers` (cancelled by ``Trader.stop()``), except when :attr:`PriceTriggers.due` is a
list (synchronized backtests, ``Trader.due_triggers``): fired orders then queue there and whoever
drives the replay awaits :meth:`PriceTriggers.run_due` directly, with no task and no event-loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import InvalidOrder, OctoBotTradingError
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.util.decimals import to_decimal

__all__ = ["PriceTrigger", "PriceTriggers", "SubmitOrder"]

_T = OrderType


class PriceTrigger:
    """Keep an order inactive until the price of its symbol crosses ``threshold``.

    ``above=True``: fire at a price >= threshold; otherwise at a price <= threshold.
    """

    def __init__(self, threshold: Decimal | int | str, *, above: bool) -> None:
        self.threshold = to_decimal(threshold, name="threshold")
        self.above = above


class SubmitOrder(Protocol):
    """``await submit(order, as_type=...)``: reserve, register and send ``order`` (the trader's)."""

    def __call__(self, order: Order, *, as_type: OrderType | None = None) -> Awaitable[None]: ...


class PriceTriggers:
    """Orders held locally until a price crosses their threshold (see the module docstring).

    Parameters
    ----------
    orders_manager:
        Registry of the held orders (added when held, canceled locally when refused).
    market:
        ``market(symbol)``: the market of a symbol (its tick moves trailing stops).
    last_price:
        ``last_price(symbol)``: the price a self-managed trailing stop starts from.
    submit:
        Sends an order once its trigger fires.
    price_events_for:
        ``price_events_for(symbol)`` returns an object with ``register(threshold, crossing,
        callback)`` (the market-data layer's ``PriceEventsManager``); None: no trigger possible.
    logger:
        Where a refused triggered order is reported.
    """

    def __init__(
        self,
        orders_manager: OrdersManager,
        *,
        market: Callable[[str], MarketInfo],
        last_price: Callable[[str], Decimal | None],
        submit: SubmitOrder,
        price_events_for: Callable[[str], Any] | None,
        logger: Any,
    ) -> None:
        self.orders_manager = orders_manager
        self.market = market
        self.last_price = last_price
        self.submit = submit
        self.price_events_for = price_events_for
        self.logger = logger
        #: None: each fired trigger is submitted in a task owned by this object. A list (set by the
        #: backtest assembly): fired orders queue here until :meth:`run_due` is awaited.
        self.due: list[Order] | None = None
        self._events: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def available_for(self, symbol: str) -> bool:
        """True when price events of ``symbol`` can be watched (self-managed orders, price triggers)."""
        if self.price_events_for is None:
            return False
        try:
            self.price_events_for(symbol)
        except OctoBotTradingError:
            return False
        return True

    def watch(self, order: Order, threshold: Decimal, above: bool) -> None:
        """Submit ``order`` when the price crosses ``threshold`` (upward when ``above``)."""
        if self.price_events_for is None:
            raise InvalidOrder("price triggers need a price-event source", limit="price_trigger", symbol=order.symbol)
        events = self.price_events_for(order.symbol)

        def fire(_event: Any) -> None:
            self._events.pop(order.id, None)
            due = self.due
            if due is not None:
                due.append(order)
                return
            task = asyncio.get_running_loop().create_task(self._on_trigger(order))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._events[order.id] = events.register(threshold, "above" if above else "below", fire)

    def trigger_of(self, order: Order) -> PriceTrigger | None:
        """The price trigger ``order`` waits on (threshold and direction), None when it waits on none."""
        event = self._events.get(order.id)
        if event is None:
            return None
        return PriceTrigger(event.threshold, above=str(event.crossing) == "above")

    def is_watched(self, order: Order) -> bool:
        """True while a price event of ``order`` is registered."""
        return order.id in self._events

    def unwatch(self, order: Order) -> None:
        """Cancel the price events of ``order`` (its trigger and a trailing stop's extreme); idempotent."""
        for key in (order.id, f"{order.id}:trail"):
            event = self._events.pop(key, None)
            if event is not None:
                event.cancel()

    def self_manage(self, order: Order) -> None:
        """Hold a type the venue lacks locally; send a market (or limit) order when it triggers."""
        order.self_managed = True
        order.is_active = False
        self.orders_manager.add(order)
        trigger = order.trigger_price
        assert trigger is not None
        if order.order_type in (_T.TRAILING_STOP, _T.TRAILING_STOP_LIMIT):
            best = self.last_price(order.symbol)
            self._trail(order, best if best is not None else trigger)
            return
        # stop-loss sells and take-profit buys trigger on the way down, the others on the way up
        down = (order.side is OrderSide.SELL) == (order.order_type in (_T.STOP_LOSS, _T.STOP_LOSS_LIMIT))
        self.watch(order, trigger, not down)

    def rearm(self, order: Order, price_trigger: PriceTrigger | None = None) -> None:
        """Watch the price for a restored inactive ``order`` again: a self-managed order's trigger, or
        ``price_trigger``; ``InvalidOrder`` when neither applies or no price events exist."""
        if order.self_managed:
            self.self_manage(order)
        elif price_trigger is not None:
            self.watch(order, price_trigger.threshold, price_trigger.above)
        else:
            raise InvalidOrder(
                "an inactive order needs a price trigger to wait on", limit="price_trigger", symbol=order.symbol
            )

    def rewatch(self, order: Order) -> None:
        """Watch the (moved) trigger of a self-managed order that is not a trailing stop."""
        event = self._events.pop(order.id, None)
        if event is not None:
            event.cancel()
        self.self_manage(order)

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
            order.amend(trigger_price=stop)
        self.unwatch(order)
        if self.price_events_for is None:
            raise InvalidOrder(
                "self-managed trailing stops need a price-event source", limit="price_trigger", symbol=order.symbol
            )
        events = self.price_events_for(order.symbol)

        def new_extreme(event: Any) -> None:
            self._events.pop(f"{order.id}:trail", None)
            self._trail(order, event.price)

        extreme = best + spec.price_tick if sell else best - spec.price_tick
        self._events[f"{order.id}:trail"] = events.register(extreme, "above" if sell else "below", new_extreme)
        if not order.is_done and order.trigger_price is not None and order.id not in self._events:
            self.watch(order, order.trigger_price, not sell)  # (a re-entrant call may have armed it)

    async def run_due(self) -> None:
        """Submit, in firing order, the orders queued in :attr:`due` (and any their submission fires in turn)."""
        due = self.due
        while due:
            await self._on_trigger(due.pop(0))

    async def _on_trigger(self, order: Order) -> None:
        if order.is_done or order.is_active:
            return
        try:
            if order.self_managed:
                limit_typed = order.order_type.is_limit_priced and order.price is not None
                await self.submit(order, as_type=_T.LIMIT if limit_typed else _T.MARKET)
            else:
                await self.submit(order)
        except OctoBotTradingError as exc:
            self.logger.warning("triggered order %s refused: %s", order.id, exc)
            if not order.is_done:
                await self.orders_manager.cancel_locally(order)

    async def stop(self) -> None:
        """Cancel every price event and the submissions in progress (idempotent)."""
        for event in self._events.values():
            event.cancel()
        self._events.clear()
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
            except Exception as exc:
                self.logger.warning("price trigger task ended with %r", exc)
