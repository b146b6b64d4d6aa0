"""Process-wide cache of loaded ccxt markets, shared by connectors on the same venue.

Entries are keyed by ``(exchange id, market type, sandboxed, public api url)`` — the url part
keeps two fake servers (or a proxy and the real venue) apart — and expire after a TTL measured
on the caller's clock. A lock per key makes concurrent loads of one venue hit it only once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

__all__ = ["MarketsCache", "MarketsEntry", "markets_cache"]

CacheKey = tuple[str, str, bool, str]


@dataclass(frozen=True)
class MarketsEntry:
    """ccxt's raw ``markets`` and ``currencies`` and when (clock seconds) they were loaded."""

    markets: dict[str, Any]
    currencies: dict[str, Any]
    loaded_at: float


class MarketsCache:
    """The cache; use the module-level :data:`markets_cache`."""

    def __init__(self) -> None:
        self._entries: dict[CacheKey, MarketsEntry] = {}
        self._locks: dict[CacheKey, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    def lock(self, key: CacheKey) -> asyncio.Lock:
        """The lock serialising loads of ``key`` (one per event loop)."""
        loop = asyncio.get_running_loop()
        current = self._locks.get(key)
        if current is None or current[0] is not loop:
            current = (loop, asyncio.Lock())
            self._locks[key] = current
        return current[1]

    def get(self, key: CacheKey, now: float, ttl: float) -> MarketsEntry | None:
        """The entry of ``key`` if loaded less than ``ttl`` seconds before ``now``."""
        entry = self._entries.get(key)
        if entry is None or now - entry.loaded_at >= ttl:
            return None
        return entry

    def put(self, key: CacheKey, entry: MarketsEntry) -> None:
        """Store an entry."""
        self._entries[key] = entry

    def clear(self) -> None:
        """Forget every entry (tests, or to force a reload everywhere)."""
        self._entries.clear()
        self._locks.clear()


markets_cache = MarketsCache()
