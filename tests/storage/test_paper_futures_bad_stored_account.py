"""Paper futures with storage: a stored futures account the trader could never have reached (a
leverage outside the contract's range, a negative wallet, an unknown margin or position mode) is
refused at the restart with a ``StorageError`` naming the file, which is left as it was; a setting
the trader can set (a fractional leverage) restores. Same engine setup as
``test_paper_futures_restart``."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.errors import StorageError
from octobot_trading.testing import FakeFuturesServer
from tests.storage.test_paper_futures_restart import XRP, _paper
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]

EDITS = {
    "zero_leverage": ("UPDATE contract_settings SET leverage = '0'", "leverage 0 is outside the allowed range"),
    "leverage_below_one": ("UPDATE contract_settings SET leverage = '0.5'", "leverage 0.5 is outside"),
    "leverage_above_the_maximum": ("UPDATE contract_settings SET leverage = '100000'", "leverage 100000 is outside"),
    "position_leverage_above_the_maximum": (
        "UPDATE positions SET row = json_set(row, '$.leverage', '100000')",
        "leverage 100000 is outside",
    ),
    "negative_wallet": ("UPDATE futures_wallets SET wallet = '-5'", "USDT wallet -5 is negative"),
    "unknown_margin_mode": ("UPDATE contract_settings SET margin_mode = 'crossed'", "crossed"),
    "unknown_position_mode": ("UPDATE contract_settings SET position_mode = 'both'", "both"),
}


def _tables(path: Path) -> tuple[Any, ...]:
    with sqlite3.connect(path) as db:
        return tuple(
            db.execute(f"SELECT * FROM {table}").fetchall()
            for table in ("contract_settings", "futures_wallets", "positions", "orders", "trades")
        )


async def _account_with_a_position(venue: FakeFuturesServer, path: Path) -> None:
    manager = await _paper(venue, path).build()
    async with manager:
        await manager.trader.set_leverage(XRP, "5")
        await manager.trader.create_order("market", "buy", XRP, "100")


@pytest.mark.parametrize("edit", sorted(EDITS))
async def test_an_impossible_stored_futures_account_is_refused_naming_the_file(
    futures_venue: FakeFuturesServer, tmp_path: Path, edit: str
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    await _account_with_a_position(venue, path)
    statement, reason = EDITS[edit]
    with sqlite3.connect(path) as db:
        db.execute(statement)
    before = _tables(path)
    with pytest.raises(StorageError) as refused:
        await _paper(venue, path).build()
    assert str(path) in str(refused.value) and reason in str(refused.value)
    assert _tables(path) == before


async def test_a_stored_fractional_leverage_the_trader_accepts_is_restored(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    manager: Any = await _paper(venue, path).build()
    async with manager:
        await manager.trader.set_leverage(XRP, "5.5")
    manager = await _paper(venue, path).build()
    async with manager:
        assert manager.trader.futures.leverage(XRP) == Decimal("5.5")
        order = await manager.trader.create_order("market", "buy", XRP, "100")
        assert order.status.value == "closed"
        (position,) = manager.connector.positions_snapshot()
        assert position.leverage == Decimal("5.5")
