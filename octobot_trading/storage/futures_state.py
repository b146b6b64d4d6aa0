"""The futures part of the state file.

* Live futures: where the venue's funding and liquidation histories were read up to (a
  :class:`~octobot_trading.personal_data.futures_sync.HistoryCursor`, kept in the ``meta`` table
  under :data:`META_FUTURES_HISTORY`), so that a restart records what the venue applied while
  the engine was down, once.
"""

from __future__ import annotations

import json

from octobot_trading.errors import StorageError
from octobot_trading.personal_data.futures_sync import HistoryCursor

__all__ = ["META_FUTURES_HISTORY", "cursor_from_meta", "cursor_to_meta"]

#: ``meta`` key of the live futures history cursor (absent: the account was never followed with storage).
META_FUTURES_HISTORY = "futures_history"


def cursor_to_meta(cursor: HistoryCursor) -> str:
    """Describe ``cursor`` (sorted ids: the same cursor always gives the same text)."""
    return json.dumps(
        {
            "funding_since": cursor.funding_since,
            "funding_before": sorted(cursor.funding_before),
            "liquidations_since": cursor.liquidations_since,
            "liquidations_before": sorted(cursor.liquidations_before),
        },
        separators=(",", ":"),
    )


def _since(raw: dict[str, object], key: str) -> int | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise TypeError(f"{key} is not a time in milliseconds")
    return value


def _ids(raw: dict[str, object], key: str) -> frozenset[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise TypeError(f"{key} is not a list of ids")
    return frozenset(value)


def cursor_from_meta(text: str | None) -> HistoryCursor | None:
    """Rebuild what :func:`cursor_to_meta` wrote (None when absent); ``StorageError`` when invalid."""
    if not text:
        return None
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return HistoryCursor(
            _since(raw, "funding_since"),
            _ids(raw, "funding_before"),
            _since(raw, "liquidations_since"),
            _ids(raw, "liquidations_before"),
        )
    except (ValueError, TypeError) as exc:
        raise StorageError(f"invalid {META_FUTURES_HISTORY} ({exc})") from exc
