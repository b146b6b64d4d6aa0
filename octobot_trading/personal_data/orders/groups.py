"""Order groups: one-cancels-the-other and balanced take-profit / stop-loss.

A group only records its members and its kind; the :class:`~octobot_trading.personal_data.trader.Trader`
reacts to a member's fill (cancel the others for OCO, shrink them for BALANCED) through order
hooks, the same way in live, paper and backtest trading.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from octobot_trading.personal_data.orders.order import Order

__all__ = ["GroupKind", "OrderGroup"]


class GroupKind(StrEnum):
    """How members of a group affect each other."""

    OCO = "oco"
    """When one member fills (even partly), the others are canceled."""
    BALANCED = "balanced"
    """Members cover the same amount: a fill of one shrinks the others to its remaining amount."""


class OrderGroup:
    """A set of orders tied together by ``kind``."""

    def __init__(self, kind: GroupKind | str = GroupKind.OCO, name: str | None = None) -> None:
        self.kind = GroupKind(kind)
        self.name = name or f"{self.kind.value}-{uuid.uuid4().hex[:12]}"
        self.orders: list[Order] = []

    def add(self, order: Order) -> None:
        """Add ``order`` to the group (an order belongs to one group at most)."""
        if order.group is not None and order.group is not self:
            raise ValueError(f"order {order.id} already belongs to group {order.group.name}")
        order.group = self
        if order not in self.orders:
            self.orders.append(order)

    def siblings(self, order: Order) -> list[Order]:
        """The other members of the group."""
        return [o for o in self.orders if o is not order]

    def __repr__(self) -> str:
        return f"OrderGroup({self.kind.value}, {self.name}, {len(self.orders)} orders)"
