"""Historical order status storage (optional): every status change of every order, with pruning.

Enabled with ``ExchangeBuilder.with_storage(path, history=True)``. Each change becomes one
``order_history`` row (order id, client order id, from / to status, filled amount after the
change, the manager's clock time in ms), written in the same transaction as the state change
itself. Pruning runs with the periodic writes, on the manager's clock (never the wall clock):
rows older than ``retention`` and, when ``max_rows`` is set, all but the newest ``max_rows``
are deleted. The recorder knows how many rows the file holds and the time of the oldest, so a
pass prunes (and commits) only when a row is due for deletion: an idle engine writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import ConfigurationError
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.storage.models import HistoryRow
from octobot_trading.util.decimals import decimal_to_str

__all__ = ["DEFAULT_HISTORY_RETENTION", "HistoryPolicy", "HistoryRecorder"]

#: How long status changes are kept by default.
DEFAULT_HISTORY_RETENTION = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    """What is kept: rows younger than ``retention`` (None: no age limit), at most ``max_rows`` (None: no cap)."""

    retention: timedelta | None = DEFAULT_HISTORY_RETENTION
    max_rows: int | None = None

    @classmethod
    def build(cls, retention: timedelta | float | int | None, max_rows: int | None) -> HistoryPolicy:
        """Validate user settings (``retention`` in seconds or a ``timedelta``); ``ConfigurationError`` when invalid."""
        if isinstance(retention, bool) or not isinstance(retention, timedelta | int | float | None):
            raise ConfigurationError("history_retention must be a timedelta or seconds", field="history_retention")
        if isinstance(retention, int | float):
            try:  # nan, inf and values past timedelta's range are refused like any other bad setting
                retention = timedelta(seconds=retention)
            except (OverflowError, ValueError) as exc:
                raise ConfigurationError(
                    f"history_retention {retention!r} is not a usable number of seconds", field="history_retention"
                ) from exc
        if retention is not None and retention <= timedelta(0):
            raise ConfigurationError("history_retention must be positive", field="history_retention")
        if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
            raise ConfigurationError("history_max_rows must be a positive integer", field="history_max_rows")
        return cls(retention, max_rows)

    def prune_bounds(self, now_ms: int) -> tuple[int | None, int | None]:
        """``(delete rows older than this time, keep this many rows)`` at ``now_ms``."""
        before = None if self.retention is None else now_ms - self.retention // timedelta(milliseconds=1)
        return before, self.max_rows


class HistoryRecorder:
    """Turns observed order statuses into history rows (one per change) until they are written."""

    def __init__(self, policy: HistoryPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._last: dict[str, OrderStatus] = {}
        self._pending: list[HistoryRow] = []
        #: rows in the file and the time of the oldest (None: no row), see :meth:`stored`
        self._stored_rows = 0
        self._oldest_ms: int | None = None

    def seed(self, orders: list[Order]) -> None:
        """Statuses already recorded (restored orders): only later changes are rows."""
        for order in orders:
            self._last[order.id] = order.status

    def note(self, order: Order) -> None:
        """Record a row if ``order``'s status differs from the last one seen."""
        status = order.status
        last = self._last.get(order.id)
        if last is status:
            return
        self._last[order.id] = status
        self._pending.append(
            HistoryRow(
                order_id=order.id,
                client_order_id=order.client_order_id,
                from_status=None if last is None else last.value,
                to_status=status.value,
                filled=decimal_to_str(order.filled),
                time=self.clock.now_ms(),
            )
        )

    def pending(self) -> list[HistoryRow]:
        """Rows not written yet (the caller calls :meth:`written` once they are committed)."""
        return list(self._pending)

    def stored(self, rows: int, oldest_ms: int | None) -> None:
        """What the file holds: ``rows`` history rows, the oldest at ``oldest_ms`` (None: none)."""
        self._stored_rows = rows
        self._oldest_ms = oldest_ms

    def prune_due(self, now_ms: int) -> tuple[int | None, int | None] | None:
        """The pruning bounds at ``now_ms`` when a stored or pending row is due for deletion, else None."""
        before, keep = self.policy.prune_bounds(now_ms)
        rows = self._stored_rows + len(self._pending)
        oldest = self._oldest_ms
        if self._pending:
            first = min(row.time for row in self._pending)
            oldest = first if oldest is None else min(oldest, first)
        if (before is not None and oldest is not None and oldest < before) or (keep is not None and rows > keep):
            return before, keep
        return None

    def written(self, count: int) -> None:
        """The first ``count`` pending rows are committed."""
        for row in self._pending[:count]:
            self._stored_rows += 1
            self._oldest_ms = row.time if self._oldest_ms is None else min(self._oldest_ms, row.time)
        del self._pending[:count]
