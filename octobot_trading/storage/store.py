"""The SQLite file behind ``ExchangeBuilder.with_storage(path)``, on aiosqlite.

One file holds one exchange account's trading state: orders (open, inactive and past), trades
(unique by exchange trade id), recorded transactions (unique by id), the portfolio (account,
sub-portfolios and the starting point), optionally the history of order status changes and, for a
paper futures account, its positions, contract settings, wallets and accounting transactions.

Durability: the file runs in WAL mode with ``synchronous=FULL`` (and ``fullfsync`` on macOS), so
every commit fsyncs the write-ahead log before :meth:`SqliteStore.save` returns: a committed
batch survives a killed process AND a power loss. One engine per file: an exclusive OS lock
(:mod:`.file_lock`) is taken on open and released on close or when the process dies.

The file carries a schema version checked on open: an older version is migrated forward in one
transaction (:mod:`.schema`); a file that is not a database, was written by a newer version,
belongs to another account or is locked by another engine raises
:class:`~octobot_trading.errors.StorageError` naming the file, and nothing is written to it.
Money is TEXT (decimal strings), never REAL. Credentials are never given to this module, so
they cannot reach the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from pydantic import BaseModel, ValidationError

from octobot_trading.errors import StorageError
from octobot_trading.storage import schema
from octobot_trading.storage.file_lock import StateFileLock
from octobot_trading.storage.models import (
    BalanceRow,
    ContractSettingRow,
    HistoryRow,
    OrderRow,
    PositionRow,
    TradeRow,
    TransactionRow,
    WalletRow,
)
from octobot_trading.storage.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "FuturesRows", "SqliteStore", "StoredState"]

M = TypeVar("M", bound=BaseModel)

#: Pragmas of every connection: WAL journal, a commit fsyncs the log (F_FULLFSYNC on macOS).
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA fullfsync=ON")


@dataclass(slots=True)
class FuturesRows:
    """A paper futures account: positions, contract settings, wallets, accounting transactions."""

    positions: list[PositionRow] = field(default_factory=list)
    settings: list[ContractSettingRow] = field(default_factory=list)
    wallets: list[WalletRow] = field(default_factory=list)
    transactions: list[TransactionRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when no futures state was saved."""
        return not (self.positions or self.settings or self.wallets or self.transactions)


@dataclass(slots=True)
class StoredState:
    """What a store file holds, validated (empty lists for a new file)."""

    meta: dict[str, str] = field(default_factory=dict)
    orders: list[OrderRow] = field(default_factory=list)
    trades: list[TradeRow] = field(default_factory=list)
    transactions: list[TransactionRow] = field(default_factory=list)
    balances: list[BalanceRow] = field(default_factory=list)
    futures: FuturesRows = field(default_factory=FuturesRows)

    @property
    def is_empty(self) -> bool:
        """True when nothing was ever saved (a new file)."""
        return not (self.orders or self.trades or self.transactions or self.balances)


class SqliteStore:
    """Async access to one state file.

    Parameters
    ----------
    path:
        The SQLite file (created with its tables when missing; its folder must exist and be writable).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._lock = StateFileLock(self.path)
        #: one batch at a time on the connection (the writer task and the journal's commits)
        self._writing = asyncio.Lock()
        #: the version the file had when opened (older ones were migrated to SCHEMA_VERSION)
        self.opened_version: int | None = None
        #: the version of an opened file not yet switched to WAL / migrated (see :meth:`upgrade`)
        self._upgrade_from: int | None = None

    def _error(self, what: str) -> StorageError:
        return StorageError(f"storage file {self.path}: {what}")

    async def open(self, *, account: dict[str, str] | None = None, upgrade: bool = True) -> None:
        """Open (or create) the file and check its schema version and account.

        ``account`` (e.g. exchange name and trader type) is recorded in a new file and must match
        the one recorded in an existing file. The file's lock is taken first (``StorageError``
        "locked by another engine" while another engine, in this process or another, has it open).
        An older file is migrated to the current version in one transaction; with
        ``upgrade=False`` an existing file is only read until :meth:`upgrade` (which sets the
        journal mode and migrates): a caller validates what :meth:`load` returns first, so a file
        refused at load is left byte for byte as it was. Raises ``StorageError`` naming the file,
        without writing anything, when the file cannot be used.
        """
        if self._db is not None:
            return
        folder = self.path.parent
        if not folder.is_dir():
            raise self._error(f"folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise self._error("not writable")
        if self.path.exists() and not self.path.is_file():
            raise self._error("not a regular file")
        self._lock.acquire()
        try:  # the real file the lock was taken for (a symbolic link resolved once, here)
            db = await aiosqlite.connect(self._lock.real_path)
        except (sqlite3.Error, OSError) as exc:
            self._lock.release()
            raise self._error(f"cannot open ({exc})") from exc
        try:
            await self._check(db, account or {})
        except BaseException:
            await db.close()
            self._lock.release()
            raise
        self._db = db
        if upgrade:
            await self.upgrade()

    async def upgrade(self) -> None:
        """Switch the opened file to its journal settings (WAL, full sync) and migrate an older
        version forward in one transaction (idempotent; ``StorageError`` "file unchanged" on failure)."""
        version = self._upgrade_from
        if version is None:
            return
        db = self.db
        try:
            for pragma in _PRAGMAS:
                await db.execute(pragma)
            if version < SCHEMA_VERSION:
                try:
                    await schema.migrate(db, version)
                except sqlite3.Error as exc:
                    raise self._error(
                        f"migration from version {version} to {SCHEMA_VERSION} failed, file unchanged ({exc})"
                    ) from exc
        except sqlite3.DatabaseError as exc:
            raise self._error(f"cannot be written ({exc})") from exc
        self._upgrade_from = None

    async def _check(self, db: aiosqlite.Connection, account: dict[str, str]) -> None:
        try:
            async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
                tables = {row[0] for row in await cursor.fetchall()}
            if not tables:
                for pragma in _PRAGMAS:
                    await db.execute(pragma)
                await db.execute("BEGIN IMMEDIATE")
                for statement in schema.create_statements():
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                await db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(account.items()))
                await db.commit()
                self.opened_version = SCHEMA_VERSION
                return
            if not schema.BASE_TABLES <= tables:
                raise self._error(f"not an octobot_trading state file (tables {sorted(tables)})")
            async with db.execute("SELECT version FROM schema_version") as cursor:
                versions = [row[0] for row in await cursor.fetchall()]
            if len(versions) != 1 or not isinstance(versions[0], int) or not 1 <= versions[0] <= SCHEMA_VERSION:
                raise self._error(
                    f"unknown schema version {versions} (this code reads versions 1 to {SCHEMA_VERSION};"
                    " a file written by a newer version is never downgraded)"
                )
            version = versions[0]
            if version == SCHEMA_VERSION and not schema.TABLES <= tables:
                raise self._error(f"version {version} file without the tables {sorted(schema.TABLES - tables)}")
            async with db.execute("SELECT key, value FROM meta") as cursor:
                meta = {row[0]: row[1] for row in await cursor.fetchall()}
            for key, value in account.items():
                if key in meta and meta[key] != value:
                    raise self._error(f"belongs to another account ({key} {meta[key]!r}, not {value!r})")
            async with db.execute("PRAGMA quick_check") as cursor:
                result = [row[0] for row in await cursor.fetchall()]
            if result != ["ok"]:
                raise self._error(f"integrity check failed: {result[:3]}")
            self.opened_version = self._upgrade_from = version  # journal settings and migration: upgrade()
        except sqlite3.DatabaseError as exc:
            raise self._error(f"corrupted or not a SQLite database ({exc})") from exc

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection (``StorageError`` when closed)."""
        if self._db is None:
            raise self._error("not open")
        return self._db

    async def close(self) -> None:
        """Close the file and release its lock (idempotent)."""
        db, self._db = self._db, None
        self._upgrade_from = None
        try:
            if db is not None:
                await db.close()
        finally:
            self._lock.release()

    # -- reading -------------------------------------------------------------------------------------
    async def load(self) -> StoredState:
        """Read and validate everything; ``StorageError`` naming the bad row when a row is invalid."""
        state = StoredState()
        try:
            async with self.db.execute("SELECT key, value FROM meta") as cursor:
                state.meta = {row[0]: row[1] for row in await cursor.fetchall()}
            state.orders = await self._rows("SELECT row FROM orders ORDER BY rowid", OrderRow)
            state.trades = await self._rows("SELECT row FROM trades ORDER BY rowid", TradeRow)
            state.transactions = await self._rows("SELECT row FROM transactions ORDER BY rowid", TransactionRow)
            async with self.db.execute("SELECT scope, currency, total, available FROM balances") as cursor:
                raw = await cursor.fetchall()
            futures = state.futures
            if self._upgrade_from is not None and self._upgrade_from < 3:  # (not migrated yet: none stored)
                return self._balances(state, raw)
            futures.positions = await self._rows("SELECT row FROM positions ORDER BY symbol, side", PositionRow)
            futures.transactions = await self._rows(
                "SELECT row FROM futures_transactions ORDER BY rowid", TransactionRow
            )
            futures.settings = await self._columns(
                "SELECT symbol, leverage, margin_mode, position_mode FROM contract_settings ORDER BY symbol",
                ContractSettingRow,
            )
            futures.wallets = await self._columns(
                "SELECT currency, wallet FROM futures_wallets ORDER BY currency", WalletRow
            )
        except sqlite3.DatabaseError as exc:
            raise self._error(f"cannot be read ({exc})") from exc
        return self._balances(state, raw)

    def _balances(self, state: StoredState, raw: Iterable[Any]) -> StoredState:
        for scope, currency, total, available in raw:
            try:
                state.balances.append(BalanceRow(scope=scope, currency=currency, total=total, available=available))
            except ValidationError as exc:
                raise self._error(f"invalid balance row {scope}/{currency}: {exc.errors()[0]['msg']}") from exc
        return state

    async def history_extent(self) -> tuple[int, int | None]:
        """``(number of history rows, time of the oldest or None)``."""
        try:
            async with self.db.execute("SELECT COUNT(*), MIN(time) FROM order_history") as cursor:
                row = await cursor.fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._error(f"cannot be read ({exc})") from exc
        return (0, None) if row is None else (int(row[0]), None if row[1] is None else int(row[1]))

    async def load_history(self, order_id: str | None = None) -> list[HistoryRow]:
        """The recorded status changes (of ``order_id`` when given), oldest first."""
        query = "SELECT order_id, client_order_id, from_status, to_status, filled, time FROM order_history"
        params: tuple[str, ...] = ()
        if order_id is not None:
            query, params = query + " WHERE order_id = ?", (order_id,)
        try:
            async with self.db.execute(query + " ORDER BY seq", params) as cursor:
                raw = await cursor.fetchall()
            fields = ("order_id", "client_order_id", "from_status", "to_status", "filled", "time")
            return [HistoryRow.model_validate(dict(zip(fields, row, strict=True))) for row in raw]
        except sqlite3.DatabaseError as exc:
            raise self._error(f"cannot be read ({exc})") from exc
        except ValidationError as exc:
            raise self._error(f"invalid history row: {exc.errors()[0]['msg']}") from exc

    async def _columns(self, query: str, model: type[M]) -> list[M]:
        """Rows whose columns are the model's fields, in order."""
        async with self.db.execute(query) as cursor:
            raw = await cursor.fetchall()
        names = list(model.model_fields)
        try:
            return [model.model_validate(dict(zip(names, row, strict=True))) for row in raw]
        except ValidationError as exc:
            raise self._error(f"invalid {model.__name__}: {exc.errors()[0]}") from exc

    async def _rows(self, query: str, model: type[M]) -> list[M]:
        result = []
        async with self.db.execute(query) as cursor:
            for (text,) in await cursor.fetchall():
                try:
                    result.append(model.model_validate(json.loads(text)))
                except (ValueError, TypeError) as exc:
                    detail = exc.errors()[0] if isinstance(exc, ValidationError) else str(exc)
                    raise self._error(f"invalid {model.__name__}: {detail}") from exc
        return result

    # -- writing -------------------------------------------------------------------------------------
    async def save(
        self,
        *,
        orders: Sequence[OrderRow] = (),
        trades: Sequence[TradeRow] = (),
        transactions: Sequence[TransactionRow] = (),
        balances: Iterable[BalanceRow] | None = None,
        replace_trades: bool = False,
        delete_trades: Sequence[str] = (),
        meta: Mapping[str, str] | None = None,
        history: Sequence[HistoryRow] = (),
        prune_history: tuple[int | None, int | None] | None = None,
        futures: FuturesRows | None = None,
    ) -> None:
        """Write one batch in one SQLite transaction, durable (fsynced) when this returns.

        Orders are upserted (by internal id); trades and transactions are inserted once (a known id
        is ignored) unless ``replace_trades`` (a known trade's row is updated: an inferred fill partly
        matched by a real trade); ``delete_trades`` removes trades (inferred fills superseded by
        real ones); ``balances``, when given, replace every stored balance; ``meta`` entries are
        upserted; ``history`` rows are appended; ``prune_history=(before_ms, keep_rows)`` then
        deletes history rows older than ``before_ms`` and all but the newest ``keep_rows``
        (either may be None); ``futures``, when given, replaces the stored positions, contract
        settings and wallets and adds its transactions not stored yet. Batches are written one at a time.
        """
        async with self._writing:
            await self._save(
                orders,
                trades,
                transactions,
                balances,
                replace_trades,
                delete_trades,
                meta,
                history,
                prune_history,
                futures,
            )

    async def _save(
        self,
        orders: Sequence[OrderRow],
        trades: Sequence[TradeRow],
        transactions: Sequence[TransactionRow],
        balances: Iterable[BalanceRow] | None,
        replace_trades: bool,
        delete_trades: Sequence[str],
        meta: Mapping[str, str] | None,
        history: Sequence[HistoryRow],
        prune_history: tuple[int | None, int | None] | None,
        futures: FuturesRows | None = None,
    ) -> None:
        db = self.db
        # operations run in order on the connection's thread: this ends what a cancelled batch left open
        await db.rollback()
        try:
            await db.execute("BEGIN")
            if orders:
                await db.executemany(
                    "INSERT INTO orders (id, client_order_id, exchange_order_id, symbol, status, row) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "exchange_order_id = excluded.exchange_order_id, status = excluded.status, row = excluded.row",
                    [
                        (o.id, o.client_order_id, o.exchange_order_id, o.symbol, o.status, o.model_dump_json())
                        for o in orders
                    ],
                )
            if trades:
                await db.executemany(
                    "INSERT INTO trades (id, order_id, symbol, row) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO "
                    + ("UPDATE SET row = excluded.row" if replace_trades else "NOTHING"),
                    [(t.id, t.order_id, t.symbol, t.model_dump_json()) for t in trades],
                )
            if delete_trades:
                await db.executemany("DELETE FROM trades WHERE id = ?", [(i,) for i in delete_trades])
            if meta:
                await db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    sorted(meta.items()),
                )
            if transactions:
                await db.executemany(
                    "INSERT OR IGNORE INTO transactions (id, row) VALUES (?, ?)",
                    [(t.id, t.model_dump_json()) for t in transactions],
                )
            if balances is not None:
                await db.execute("DELETE FROM balances")
                await db.executemany(
                    "INSERT INTO balances (scope, currency, total, available) VALUES (?, ?, ?, ?)",
                    [(b.scope, b.currency, b.total, b.available) for b in balances],
                )
            if history:
                await db.executemany(
                    "INSERT INTO order_history (order_id, client_order_id, from_status, to_status, filled, time) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(h.order_id, h.client_order_id, h.from_status, h.to_status, h.filled, h.time) for h in history],
                )
            if prune_history is not None:
                before_ms, keep_rows = prune_history
                if before_ms is not None:
                    await db.execute("DELETE FROM order_history WHERE time < ?", (before_ms,))
                if keep_rows is not None:
                    await db.execute(
                        "DELETE FROM order_history WHERE seq <= "
                        "(SELECT seq FROM order_history ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                        (keep_rows,),
                    )
            if futures is not None:
                await self._save_futures(db, futures)
            await db.commit()
        except BaseException as exc:  # a cancelled write (stop during a batch) is rolled back too
            await db.rollback()
            if isinstance(exc, sqlite3.Error):
                raise self._error(f"write failed ({exc})") from exc
            raise

    @staticmethod
    async def _save_futures(db: aiosqlite.Connection, futures: FuturesRows) -> None:
        for table in ("positions", "contract_settings", "futures_wallets"):
            await db.execute(f"DELETE FROM {table}")
        await db.executemany(
            "INSERT INTO positions (symbol, side, row) VALUES (?, ?, ?)",
            [(p.symbol, p.side, p.model_dump_json()) for p in futures.positions],
        )
        await db.executemany(
            "INSERT INTO contract_settings (symbol, leverage, margin_mode, position_mode) VALUES (?, ?, ?, ?)",
            [(c.symbol, c.leverage, c.margin_mode, c.position_mode) for c in futures.settings],
        )
        await db.executemany(
            "INSERT INTO futures_wallets (currency, wallet) VALUES (?, ?)",
            [(w.currency, w.wallet) for w in futures.wallets],
        )
        await db.executemany(
            "INSERT OR IGNORE INTO futures_transactions (id, row) VALUES (?, ?)",
            [(t.id, t.model_dump_json()) for t in futures.transactions],
        )
