"""Paper futures with storage: a restarted engine has exactly the positions, wallet, realized PnL,
contract settings (leverage, margin mode, position mode) and open contract orders it had. The
paper engine reads its prices from the fake USDⓈ-M venue through the real ccxt ``binanceusdm``
client; the same SQLite file is used across stop / restart."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import MarginMode, OrderStatus, PositionMode, PositionSide, TransactionType
from octobot_trading.errors import StorageError
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.engine_process import futures_account_of
from tests.clock_driving import build_simulated
from tests.storage.test_futures_history_while_down import _killed_engine
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]

D = Decimal
XRP = "XRP/USDT:USDT"
BTC = "BTC/USDT:USDT"


def _paper(venue: FakeFuturesServer, path: Path) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binanceusdm")
        .with_market_type("linear")
        .with_symbols([XRP, BTC])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(SimulatedClock(venue.market("XRPUSDT").now_ms))
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=600.0)
        .use_simulated_trader(starting_portfolio={"USDT": "1000"})
        .with_storage(path)
    )


def _state(manager: Any) -> dict[str, Any]:
    """Everything a restart must give back (position timestamps aside: the venue's report time)."""
    connector, personal = manager.connector, manager.exchange_personal_data
    account = connector.futures_account
    return {
        "venue positions": connector.positions_snapshot(),
        "wallets": account.wallets,
        "available": account.available("USDT"),
        "settings": {s: account.settings(s) for s in (XRP, BTC)},
        "account transactions": account.transactions.transactions(),
        "balance": connector.futures.balances(),
        "local positions": [
            p.__class__(**{**_fields(p), "timestamp": None}) for p in personal.positions_manager.positions()
        ],
        "portfolio": personal.portfolio_manager.portfolio.snapshot(),
        "trades": [(t.id, t.amount, t.price, t.fee, t.realized_pnl) for t in personal.trades_manager.trades()],
        "realized": account.transactions.total(TransactionType.REALISED_PNL, "USDT"),
        "trader settings": {
            s: (manager.trader.futures.leverage(s), manager.trader.futures.margin_mode(s)) for s in (XRP, BTC)
        },
    }


def _fields(position: Any) -> dict[str, Any]:
    return {name: getattr(position, name) for name in position.__dataclass_fields__}


async def _price(manager: Any, venue: FakeFuturesServer, price: str) -> None:
    venue.set_last_price("XRPUSDT", price)
    await manager.connector.on_price(XRP, D(price))


async def test_a_restarted_paper_futures_engine_has_the_same_positions_wallet_and_settings(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "paper-futures.sqlite"
    manager = await build_simulated(_paper(venue, path))
    async with manager:
        trader = manager.trader
        await trader.set_leverage(XRP, "5")
        await trader.set_margin_mode(XRP, MarginMode.CROSS)
        await trader.set_leverage(BTC, "3")
        await trader.set_position_mode(BTC, PositionMode.HEDGE)
        await trader.create_order("market", "buy", XRP, "300")
        take = await trader.create_order("limit", "sell", XRP, "100", "1.15", reduce_only=True)
        await _price(manager, venue, "1.16")  # a part closed at a profit: realized PnL
        assert take.status is OrderStatus.CLOSED
        resting = await trader.create_order("limit", "buy", XRP, "50", "1.05")
        # hedge mode on BTC: a long and a short held together
        await trader.create_order("market", "buy", BTC, "0.04", position_side=PositionSide.LONG)
        await trader.create_order("market", "sell", BTC, "0.02", position_side=PositionSide.SHORT)
        position = manager.exchange_personal_data.positions_manager.get(XRP)
        assert (
            position is not None and position.size == D(200) and position.realized_pnl == D("4.61")
        )  # (1.15 - 1.1039) x 100
        before = _state(manager)
        assert before["wallets"]["USDT"] != D(1000)

    manager = await build_simulated(_paper(venue, path))
    async with manager:
        assert _state(manager) == before
        restored = manager.exchange_personal_data.orders_manager.get(resting.id)
        assert restored is not None and restored.status is OrderStatus.OPEN
        # the restored position goes on being accounted: the resting buy fills and grows it
        await _price(manager, venue, "1.04")
        assert restored.status is OrderStatus.CLOSED
        # and the hedge long is reduced, its short side untouched
        await manager.trader.create_order("market", "sell", BTC, "0.01", position_side=PositionSide.LONG)
        held = [(p.symbol, p.side, p.contracts) for p in manager.connector.positions_snapshot()]
        assert held == [
            (BTC, PositionSide.LONG, D("0.03")),
            (BTC, PositionSide.SHORT, D("0.02")),
            (XRP, PositionSide.LONG, D(250)),
        ]
        after_fill = _state(manager)

    manager = await build_simulated(_paper(venue, path))
    async with manager:
        assert _state(manager) == after_fill


async def test_an_invalid_stored_position_is_refused_naming_the_file_and_nothing_is_written(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "paper-futures.sqlite"
    manager = await build_simulated(_paper(venue, path))
    async with manager:
        await manager.trader.create_order("market", "buy", XRP, "100")
    with sqlite3.connect(path) as db:
        (row,) = db.execute("SELECT row FROM positions").fetchone()
        db.execute("UPDATE positions SET row = ?", (row.replace('"contracts":"100"', '"contracts":"a lot"'),))
    with sqlite3.connect(path) as db:
        before = (
            db.execute("SELECT * FROM positions").fetchall(),
            db.execute("SELECT * FROM futures_wallets").fetchall(),
        )
    with pytest.raises(StorageError) as refused:
        await build_simulated(_paper(venue, path))
    assert str(path) in str(refused.value) and "PositionRow" in str(refused.value)
    with sqlite3.connect(path) as db:
        after = db.execute("SELECT * FROM positions").fetchall(), db.execute("SELECT * FROM futures_wallets").fetchall()
    assert after == before


async def test_a_paper_futures_position_survives_a_kill_right_after_its_fill(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    """No clean stop: the journal's commit of the fill carried the position and the wallet."""
    venue, path = futures_venue, tmp_path / "paper-futures.sqlite"
    killed = await _killed_engine(venue, path, paper=True)
    assert killed["positions"] and killed["positions"][0][:3] == [XRP, "long", "100"]
    manager = await build_simulated(_paper(venue, path))
    async with manager:
        assert _values(futures_account_of(manager)) == _values(killed)  # the same amounts (Decimal equality)
        assert manager.trader.futures.leverage(XRP) == D(5)


def _values(report: dict[str, Any]) -> tuple[Any, ...]:
    positions = [(symbol, side, *(D(v) for v in rest)) for symbol, side, *rest in report["positions"]]
    return positions, {c: D(w) for c, w in report["wallets"].items()}
