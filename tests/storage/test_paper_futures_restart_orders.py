"""Paper futures with storage: resting contract orders come back from a restart with the margin they
reserved and the terms they were sent with (reduce-only, hedge-mode position side), and behave
after the restart exactly as without one. Same engine setup as ``test_paper_futures_restart``
(fake USDⓈ-M venue through the real ccxt ``binanceusdm`` client, one SQLite file across restarts)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.enums import OrderStatus, PositionMode, PositionSide
from octobot_trading.testing import FakeFuturesServer
from tests.clock_driving import build_simulated
from tests.storage.test_paper_futures_restart import BTC, XRP, _paper, _price
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]

D = Decimal


@contextlib.asynccontextmanager
async def _engine(venue: FakeFuturesServer, path: Path) -> AsyncIterator[Any]:
    """The paper futures engine on ``path`` (built on its simulated clock), started; stopped on exit."""
    manager = await build_simulated(_paper(venue, path))
    async with manager:
        yield manager


def _held(manager: Any) -> list[tuple[str, PositionSide, Decimal]]:
    return [(p.symbol, p.side, p.contracts) for p in manager.connector.positions_snapshot()]


def _fees(manager: Any) -> Decimal:
    return sum((t.fee for t in manager.exchange_personal_data.trades_manager.trades()), D(0))


async def test_a_resting_order_on_a_flat_account_keeps_its_margin_reservation_across_a_restart_and_fills(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    async with _engine(venue, path) as manager:
        resting = await manager.trader.create_order("limit", "buy", XRP, "100", "1.05")
        personal = manager.exchange_personal_data
        portfolio_before = personal.portfolio_manager.portfolio.snapshot()
        reserved_before = personal.orders_manager.reserved_by_open_orders()
    assert reserved_before["USDT"] > 0
    async with _engine(venue, path) as manager:
        personal = manager.exchange_personal_data
        assert personal.portfolio_manager.portfolio.snapshot() == portfolio_before
        assert personal.orders_manager.reserved_by_open_orders() == reserved_before
        await _price(manager, venue, "1.04")  # the resting buy fills
        order = personal.orders_manager.get(resting.id)
        assert order is not None and order.status is OrderStatus.CLOSED
        assert _held(manager) == [(XRP, PositionSide.LONG, D(100))]
        wallet = manager.connector.futures_account.wallets["USDT"]
        assert wallet == D(1000) - _fees(manager)
        total, available = personal.portfolio_manager.portfolio.snapshot()["USDT"]
        assert total == wallet and available == manager.connector.futures_account.available("USDT")


async def test_a_resting_order_the_price_crossed_while_the_engine_was_down_fills_at_the_restart(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    async with _engine(venue, path) as manager:
        resting = await manager.trader.create_order("limit", "buy", XRP, "100", "1.05")
    venue.set_last_price("XRPUSDT", "0.9")  # while down
    venue.set_mark_price("XRPUSDT", D("0.9"))
    async with _engine(venue, path) as manager:
        personal = manager.exchange_personal_data
        order = personal.orders_manager.get(resting.id)
        assert order is not None and order.status is OrderStatus.CLOSED
        assert _held(manager) == [(XRP, PositionSide.LONG, D(100))]
        assert personal.orders_manager.reserved_by_open_orders() == {}
        assert manager.connector.futures_account.wallets["USDT"] == D(1000) - _fees(manager)


async def test_a_resting_hedge_mode_order_comes_back_on_its_position_side(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    async with _engine(venue, path) as manager:
        await manager.trader.set_position_mode(BTC, PositionMode.HEDGE)
        placed = await manager.trader.create_order(
            "limit", "buy", BTC, "0.006", "18000", position_side=PositionSide.LONG
        )
    async with _engine(venue, path) as manager:
        (order,) = manager.exchange_personal_data.orders_manager.open_orders()
        assert order.id == placed.id
        assert order.position_side is PositionSide.LONG
        venue.set_last_price("BTCUSDT", "17990")
        await manager.connector.on_price(BTC, D("17990"))  # the restored buy fills, on the long side
        assert order.status is OrderStatus.CLOSED
        assert _held(manager) == [(BTC, PositionSide.LONG, D("0.006"))]


async def _close_by_hand_then_cross_the_take_profit(manager: Any, venue: FakeFuturesServer, take_id: str) -> None:
    restored = manager.exchange_personal_data.orders_manager.get(take_id)
    assert restored is not None and restored.reduce_only and restored.status is OrderStatus.OPEN
    await manager.trader.create_order("market", "sell", XRP, "100")  # closes the long
    await _price(manager, venue, "1.16")  # the take-profit's price
    assert _held(manager) == []


@pytest.mark.parametrize("restart", [False, True], ids=["without_restart", "after_restart"])
async def test_a_resting_reduce_only_take_profit_never_opens_a_position(
    futures_venue: FakeFuturesServer, tmp_path: Path, restart: bool
) -> None:
    venue, path = futures_venue, tmp_path / "p.sqlite"
    async with _engine(venue, path) as manager:
        await manager.trader.create_order("market", "buy", XRP, "100")
        take = await manager.trader.create_order("limit", "sell", XRP, "100", "1.15", reduce_only=True)
        if not restart:
            await _close_by_hand_then_cross_the_take_profit(manager, venue, take.id)
            return
    async with _engine(venue, path) as manager:
        await _close_by_hand_then_cross_the_take_profit(manager, venue, take.id)
