"""The order state machine: which status may follow which.

``pending_creation -> open -> partially_filled -> filled -> closed``; ``open`` /
``partially_filled -> canceling -> canceled``; ``pending_creation -> rejected``;
``open`` / ``partially_filled -> expired``. A fill may still arrive while a cancel is in flight
(``canceling -> partially_filled | filled``), and a refused cancel returns the order to ``open``
or ``partially_filled``. An inactive order (chained, price-triggered) that is dropped before it
was ever sent goes ``pending_creation -> canceled``.
"""

from __future__ import annotations

from types import MappingProxyType

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import InvalidOrderState

__all__ = ["TRANSITIONS", "check_transition"]

_S = OrderStatus

TRANSITIONS: MappingProxyType[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING_CREATION: frozenset({_S.OPEN, _S.REJECTED, _S.CANCELED}),
        _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELING, _S.CANCELED, _S.EXPIRED}),
        _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELING, _S.CANCELED, _S.EXPIRED}),
        _S.CANCELING: frozenset({_S.CANCELED, _S.PARTIALLY_FILLED, _S.FILLED, _S.OPEN, _S.EXPIRED}),
        _S.FILLED: frozenset({_S.CLOSED}),
        _S.CLOSED: frozenset(),
        _S.CANCELED: frozenset(),
        _S.EXPIRED: frozenset(),
        _S.REJECTED: frozenset(),
    }
)
"""Allowed next statuses for every status."""

_ALLOWED_VALUES: dict[str, frozenset[str]] = {
    current.value: frozenset(n.value for n in allowed) for current, allowed in TRANSITIONS.items()
}


def check_transition(
    current: OrderStatus, new: OrderStatus, *, order_id: str | None = None, symbol: str | None = None
) -> None:
    """Raise ``InvalidOrderState`` unless ``current -> new`` is an allowed transition."""
    # keyed by the plain str values: Enum.__hash__ is a Python-level call, str hashes are cached
    if new._value_ not in _ALLOWED_VALUES[current._value_]:
        raise InvalidOrderState(
            f"invalid order transition {current.value} -> {new.value}", order_id=order_id, symbol=symbol
        )
