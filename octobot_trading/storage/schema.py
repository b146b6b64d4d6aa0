"""The state file's table layout, by version, and the forward migrations between versions.

Version 1 held the trading state (``orders``, ``trades``, ``transactions``, ``balances``, ``meta``).
Version 2 adds ``order_history`` (the optional record of every order status change) and the
indexes the write-ahead journal and the history pruning read by. Version 3 adds the futures state
of a paper account (``positions``, ``contract_settings``, ``futures_wallets`` and the account's
``futures_transactions``: realized PnL, fees and funding). A file is migrated forward in
ONE SQLite transaction when it is opened: either every step and the new version number are
committed, or (a crash, a full disk) the file stays exactly at its old version. A file written by
a newer version of this code is refused (its layout is unknown here), never downgraded.
"""

from __future__ import annotations

import aiosqlite

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TABLES", "create_statements", "migrate"]

#: Version of the table layout written by this code; older files are migrated, newer ones refused.
SCHEMA_VERSION = 3

#: Version 1's layout, exactly as version-1 code created it (the base every migration starts from).
_V1 = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS orders ("
    " id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE, exchange_order_id TEXT,"
    " symbol TEXT NOT NULL, status TEXT NOT NULL, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trades ("
    " id TEXT PRIMARY KEY, order_id TEXT NOT NULL, symbol TEXT NOT NULL, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS transactions (id TEXT PRIMARY KEY, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS balances ("
    " scope TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL, available TEXT NOT NULL,"
    " PRIMARY KEY (scope, currency))",
)

#: Statements bringing a file from version ``n`` to ``n + 1``, by ``n``.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS order_history ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
        " from_status TEXT, to_status TEXT NOT NULL, filled TEXT NOT NULL, time INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS order_history_time ON order_history (time)",
        "CREATE INDEX IF NOT EXISTS order_history_order ON order_history (order_id)",
        # in-flight intents (sent or about to be sent, no exchange id yet) are read back by status
        "CREATE INDEX IF NOT EXISTS orders_status ON orders (status)",
    ),
    2: (
        "CREATE TABLE IF NOT EXISTS positions ("
        " symbol TEXT NOT NULL, side TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (symbol, side))",
        "CREATE TABLE IF NOT EXISTS contract_settings ("
        " symbol TEXT PRIMARY KEY, leverage TEXT NOT NULL, margin_mode TEXT NOT NULL, position_mode TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS futures_wallets (currency TEXT PRIMARY KEY, wallet TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS futures_transactions (id TEXT PRIMARY KEY, row TEXT NOT NULL)",
    ),
}

#: Tables a file of the current version holds.
TABLES = frozenset(
    {
        "schema_version",
        "meta",
        "orders",
        "trades",
        "transactions",
        "balances",
        "order_history",
        "positions",
        "contract_settings",
        "futures_wallets",
        "futures_transactions",
    }
)
#: Tables every version's file holds (a file without them is not a state file).
BASE_TABLES = frozenset({"schema_version", "meta", "orders", "trades", "transactions", "balances"})


def create_statements() -> list[str]:
    """Every statement creating a new file at :data:`SCHEMA_VERSION` (version 1, then each migration)."""
    statements = list(_V1)
    for version in range(1, SCHEMA_VERSION):
        statements.extend(MIGRATIONS[version])
    return statements


async def migrate(db: aiosqlite.Connection, from_version: int) -> None:
    """Bring a file from ``from_version`` to :data:`SCHEMA_VERSION` in ONE transaction.

    The statements, then the new version number, then one commit; any failure (or a cancel)
    rolls everything back and the file stays at ``from_version``.
    """
    await db.rollback()  # nothing open on this connection before the migration's own transaction
    await db.execute("BEGIN IMMEDIATE")
    try:
        for version in range(from_version, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                await db.execute(statement)
        await db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
