"""``exchanges_registry``: the live ``ExchangeManager`` objects of the process, by id and by name.

The builder registers a manager once it has started; ``ExchangeManager.stop()`` removes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from octobot_trading.exchanges.manager import ExchangeManager

__all__ = ["ExchangesRegistry", "exchanges_registry"]


class ExchangesRegistry:
    """Live exchange managers, in registration order."""

    def __init__(self) -> None:
        self._managers: dict[str, ExchangeManager] = {}

    def add(self, manager: ExchangeManager) -> None:
        """Register ``manager`` under its ``id`` (idempotent)."""
        self._managers[manager.id] = manager

    def remove(self, manager_id: str) -> None:
        """Forget a manager (no error when unknown)."""
        self._managers.pop(manager_id, None)

    def get(self, manager_id: str) -> ExchangeManager | None:
        """The manager with this id, or None."""
        return self._managers.get(manager_id)

    def get_by_name(self, exchange_name: str) -> list[ExchangeManager]:
        """Every live manager on this exchange (ccxt id), oldest first."""
        name = exchange_name.strip().lower()
        return [m for m in self._managers.values() if m.exchange_name == name]

    def ids(self) -> list[str]:
        """Ids of the live managers."""
        return list(self._managers)

    def __contains__(self, manager_id: object) -> bool:
        return manager_id in self._managers

    def __iter__(self) -> Iterator[ExchangeManager]:
        return iter(list(self._managers.values()))

    def __len__(self) -> int:
        return len(self._managers)

    def __repr__(self) -> str:
        return f"ExchangesRegistry({len(self)} managers)"


exchanges_registry = ExchangesRegistry()
