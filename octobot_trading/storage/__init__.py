"""Persistence of an account's trading state (``ExchangeBuilder.with_storage(path)``) and restart recovery."""

from __future__ import annotations

from octobot_trading.storage.component import StorageComponent
from octobot_trading.storage.history import HistoryPolicy
from octobot_trading.storage.models import HistoryRow
from octobot_trading.storage.store import SCHEMA_VERSION, SqliteStore, StoredState

__all__ = ["SCHEMA_VERSION", "HistoryPolicy", "HistoryRow", "SqliteStore", "StorageComponent", "StoredState"]
