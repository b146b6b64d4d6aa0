"""Observers of the trader's order operations (create, edit, cancel): the public hook signals use.

``trader.add_order_listener(callback)`` registers ``await callback(event)``, called once per
operation a caller asked the trader for, after the trader has done it (a refused operation is
not reported). ``event`` is an :class:`OrderOperationEvent`: the operation, the order, the
arguments of the call and whether the trader did it by itself. An operation done while another
one runs (a trading mode's order placed from the fill hook of a market entry) is reported on its
own, before the one that caused it. The cancels and resizes a group applies when a member fills are reported too, with
``event.automatic`` set: a listener tells them from the operations a caller asked for (a user's
cancel of a group member after a sibling's fill is not automatic). A listener's failure is
logged and never reaches the caller.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from octobot_trading.util.logging import get_logger

if TYPE_CHECKING:
    from octobot_trading.personal_data.orders.order import Order

__all__ = [
    "OrderListener",
    "OrderListeners",
    "OrderOperation",
    "OrderOperationEvent",
    "automatic_operations",
    "reports_operation",
]


class OrderOperation(StrEnum):
    """What a caller asked the trader to do with an order."""

    CREATE = "create"
    EDIT = "edit"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class OrderOperationEvent:
    """One order operation done by the trader.

    Attributes
    ----------
    operation
        Create, edit or cancel.
    order
        The order (for a create, the entry: its bundled exits are ``order.chained_orders``).
    arguments
        The call's arguments by parameter name (e.g. ``price_trigger``, ``chained_to``,
        ``stop_loss_price`` of a create; ``amount`` / ``price`` / ``trigger_price`` of an edit).
    previous_amount
        The order's amount before an edit (None otherwise).
    automatic
        True when the trader did it by itself because of a fill (a group member's fill canceling
        or shrinking its siblings); False for every operation a caller asked for.
    """

    operation: OrderOperation
    order: Order
    arguments: Mapping[str, Any] = field(default_factory=dict)
    previous_amount: Decimal | None = None
    automatic: bool = False


OrderListener = Callable[[OrderOperationEvent], Awaitable[None]]
_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])
_logger = get_logger("personal_data.order_listeners")
_automatic: ContextVar[bool] = ContextVar("automatic_order_operation", default=False)


@contextmanager
def automatic_operations() -> Iterator[None]:
    """Mark the trader operations called directly inside the block as automatic (fill reactions).

    Only the outermost reported call is marked: an operation that call itself causes (a mode's
    order placed from a fill hook) is reported as not automatic.
    """
    token = _automatic.set(True)
    try:
        yield
    finally:
        _automatic.reset(token)


class OrderListeners:
    """The listeners of one trader's order operations (``trader.order_listeners``)."""

    def __init__(self) -> None:
        self._listeners: tuple[OrderListener, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def add(self, listener: OrderListener) -> Callable[[], None]:
        """Call ``await listener(event)`` after each order operation; return a function removing it."""
        self._listeners = (*self._listeners, listener)
        return lambda: self.remove(listener)

    def remove(self, listener: OrderListener) -> None:
        """Stop calling ``listener`` (unknown listeners are ignored)."""
        self._listeners = tuple(known for known in self._listeners if known is not listener)

    async def report(self, event: OrderOperationEvent) -> None:
        """Call every listener with ``event``; a listener's failure is logged, never raised."""
        for listener in self._listeners:
            try:
                await listener(event)
            except Exception as exc:  # an observer never breaks the operation it observes
                _logger.error(
                    "order listener %r failed on %s of %s: %r", listener, event.operation.value, event.order.id, exc
                )


def reports_operation(operation: OrderOperation) -> Callable[[_F], _F]:
    """Decorate a trader method so that its successful calls are reported to ``self.order_listeners``."""

    def decorate(method: _F) -> _F:
        signature = inspect.signature(method)

        @functools.wraps(method)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            listeners: OrderListeners = self.order_listeners
            if not listeners._listeners:  # (the tuple itself: no __bool__ call on every order)
                return await method(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            arguments = {name: value for name, value in bound.arguments.items() if name != "self"}
            target = arguments.get("order")
            previous = getattr(target, "amount", None) if operation is OrderOperation.EDIT else None
            automatic = _automatic.get()
            token = _automatic.set(False)  # what this operation causes is not marked by the caller's block
            try:
                result = await method(self, *args, **kwargs)
            finally:
                _automatic.reset(token)
            await listeners.report(OrderOperationEvent(operation, result, arguments, previous, automatic))
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
