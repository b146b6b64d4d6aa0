"""kill -9 of a real engine process at chosen points of the order path, then a restart on the same file.

The engine runs in a child process (``octobot_trading.testing.engine_process``: the real builder,
ccxt client, trader and SQLite file) against the fake Binance server in the test's process. After
each kill, an engine is built again on the same file and must rebuild everything from the file and
the venue: no order lost, none placed twice (the venue's log of order requests), local orders,
trades and balances equal to the venue's.
"""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data import live_sync
from octobot_trading.testing.engine_process import EngineProcess, EngineSpec
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.clock_driving import build_simulated, through_backoffs
from tests.exchange_data.helpers import until
from tests.storage.conftest import builder_for, other_tasks

D = Decimal
_LOCAL_STATUS = {"NEW": "open", "PARTIALLY_FILLED": "partially_filled", "FILLED": "closed", "CANCELED": "canceled"}


@pytest.fixture
async def engines() -> AsyncIterator[list[EngineProcess]]:
    """Engine processes started by a test; any still running at its end is killed."""
    started: list[EngineProcess] = []
    yield started
    for engine in started:
        await engine.kill()


async def _start(engines: list[EngineProcess], server: FakeExchangeServer, path: Path, **options: Any) -> EngineProcess:
    engine = await EngineProcess.start(EngineSpec.for_server(server, path, **options))
    engines.append(engine)
    return engine


def _file(path: Path, query: str) -> list[tuple]:
    """Read the file as another process would (read-only, after the writer died)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


def _requests(server: FakeExchangeServer) -> Counter[str]:
    """How many placement requests reached the venue, by client order id."""
    return Counter(client_id for _key, client_id in server.state.order_requests)


def _reachable_buy_price(server: FakeExchangeServer, steps: int) -> Decimal:
    market = server.state.markets["BTCUSDT"]
    low = min(c[3] for c in market.candles[market.cursor + 1 : market.cursor + 1 + steps])
    assert low + market.tick_size < market.last_price
    return low + market.tick_size


async def _restart(server: FakeExchangeServer, path: Path) -> Any:
    """The engine built again in this process, on a clock past the venue's window for a late request."""
    clock = SimulatedClock(LiveClock().now_ms() + live_sync.IN_FLIGHT_GIVE_UP_MS + 1_000)
    manager = await build_simulated(builder_for(server).with_clock(clock).use_real_trader().with_storage(path))
    for _ in range(live_sync.IN_FLIGHT_MIN_LOOKUPS):  # what the engine's polls do over that minute
        await through_backoffs(clock, manager.trader.resolve_in_flight())
    await through_backoffs(clock, manager.trader.sync_with_exchange())
    await through_backoffs(clock, manager.trader.refresh_balances())
    return manager


async def _assert_matches_venue(manager: Any, server: FakeExchangeServer) -> None:
    """Local orders, trades and balances equal the venue's; nothing was placed twice."""
    assert all(count == 1 for count in _requests(server).values()), _requests(server)
    personal = manager.exchange_personal_data
    venue_orders = {o.client_order_id: o for o in server.state.orders.values() if o.api_key == server.api_key}
    local = {o.client_order_id: o for o in personal.orders_manager.all_orders()}
    for client_id, venue in venue_orders.items():
        order = local.get(client_id)
        assert order is not None, f"venue order {client_id} lost locally"
        assert order.status.value == _LOCAL_STATUS[venue.status] and order.filled == venue.executed_qty
        assert order.exchange_order_id == str(venue.order_id)
    for client_id in set(local) - set(venue_orders):  # never reached the venue: not live locally
        assert local[client_id].is_done, local[client_id]
    venue_fills = {str(f.id): f for o in venue_orders.values() for f in o.fills}
    trades = {t.id: t for t in personal.trades_manager.trades()}
    assert set(trades) == set(venue_fills)
    for trade_id, fill in venue_fills.items():
        assert (trades[trade_id].amount, trades[trade_id].price) == (fill.qty, fill.price)
    account = server.account()
    portfolio = personal.portfolio_manager.portfolio
    for asset in account.assets():
        total = account.free.get(asset, D(0)) + account.locked.get(asset, D(0))
        assert portfolio.total(asset) == total, asset


async def test_kill_after_the_intent_is_committed_before_the_request_never_places_it(server, tmp_path, engines):
    path = tmp_path / "state.sqlite"
    engine = await _start(engines, server, path)
    await engine.request("arm_kill", point="before_send")
    await engine.send("create_order", type="market", side="buy", symbol="BTC/USDT", amount="0.001")
    assert await engine.wait() == -signal.SIGKILL
    # the intent is in the file: enough to find the order again, the request never left
    [(client_id, exchange_id, status, row)] = _file(
        path, "SELECT client_order_id, exchange_order_id, status, row FROM orders"
    )
    assert exchange_id is None and status == "pending_creation"
    assert all(field in row for field in ('"symbol":"BTC/USDT"', '"side":"buy"', '"type":"market"', '"amount":"0.001"'))
    assert _requests(server)[client_id] == 0

    manager = await _restart(server, path)
    async with manager:
        order = manager.exchange_personal_data.orders_manager.get_by_client_id(client_id)
        assert order is None or order.status is OrderStatus.REJECTED  # looked up, not found, given up
        await _assert_matches_venue(manager, server)
    assert not other_tasks()
    assert _requests(server)[client_id] == 0  # never re-sent
    assert _file(path, "SELECT status FROM orders") == [("rejected",)]


async def test_kill_after_the_request_reached_the_venue_before_its_reply_adopts_the_order_once(
    server, tmp_path, engines
):
    path = tmp_path / "state.sqlite"
    engine = await _start(engines, server, path)
    server.faults.timeout_after(30)  # the venue places the order and holds its reply
    await engine.send("create_order", type="market", side="buy", symbol="BTC/USDT", amount="0.001")
    await until(lambda: bool(server.state.orders), limit_s=30)
    assert await engine.kill() == -signal.SIGKILL
    [(client_id, status)] = _file(path, "SELECT client_order_id, status FROM orders")
    assert status == "pending_creation" and _requests(server)[client_id] == 1

    manager = await _restart(server, path)
    async with manager:
        order = manager.exchange_personal_data.orders_manager.get_by_client_id(client_id)
        assert order is not None and order.status is OrderStatus.CLOSED and order.filled == D("0.001")
        await _assert_matches_venue(manager, server)
    # (only the fake venue's handler still holding the killed engine's reply runs)
    assert all("RequestHandler" in repr(task.get_coro()) for task in other_tasks())
    assert _requests(server)[client_id] == 1
    assert _file(path, "SELECT client_order_id, status FROM orders") == [(client_id, "closed")]
    assert len(_file(path, "SELECT id FROM trades")) == 1


@pytest.mark.parametrize("point", ["after_fill_commit", "in_fill_hook"])
async def test_kill_after_a_fill_is_committed_keeps_it_in_the_file_and_applies_it_once(
    server, tmp_path, engines, point
):
    path = tmp_path / "state.sqlite"
    price = _reachable_buy_price(server, 20)
    engine = await _start(engines, server, path)
    await engine.request("arm_kill", point=point)
    answer = await engine.request(
        "create_order", type="limit", side="buy", symbol="BTC/USDT", amount="0.001", price=str(price)
    )
    client_id = answer["order"]["client_order_id"]
    assert answer["order"]["status"] == "open"
    server.advance(20)  # the venue fills it; the engine's next poll applies the fill and dies
    assert await engine.wait() == -signal.SIGKILL
    # the fill was durable before any mode could hear of it (the writer never ran: its period is an hour)
    [(order_id, status)] = _file(path, "SELECT id, status FROM orders")
    assert status in ("filled", "closed")
    assert [row[0] for row in _file(path, "SELECT order_id FROM trades")] == [order_id]

    manager = await _restart(server, path)
    async with manager:
        order = manager.exchange_personal_data.orders_manager.get_by_client_id(client_id)
        assert order is not None and order.status is OrderStatus.CLOSED and order.average_price == price
        assert len(manager.exchange_personal_data.trades_manager.for_order(order.id)) == 1
        await _assert_matches_venue(manager, server)
    assert not other_tasks()
    assert _requests(server)[client_id] == 1
    assert len(_file(path, "SELECT id FROM trades")) == 1


async def test_kill_after_a_market_fill_then_a_restarted_process_finds_everything(server, tmp_path, engines):
    path = tmp_path / "state.sqlite"
    engine = await _start(engines, server, path)
    await engine.request("arm_kill", point="after_fill_commit")
    await engine.send("create_order", type="market", side="sell", symbol="BTC/USDT", amount="0.002")
    assert await engine.wait() == -signal.SIGKILL
    assert len(_file(path, "SELECT id FROM trades")) == 1

    restarted = await _start(engines, server, path)  # a new process on the same file
    snapshot = await restarted.request("snapshot")
    [order] = snapshot["orders"]
    assert order["status"] == "closed" and order["filled"] == "0.002"
    venue_fills = [str(f.id) for o in server.state.orders.values() for f in o.fills]
    assert [t["id"] for t in snapshot["trades"]] == venue_fills
    account = server.account()
    for asset, (total, _available) in snapshot["balances"].items():
        assert D(total) == account.free.get(asset, D(0)) + account.locked.get(asset, D(0)), asset
    assert await restarted.stop() == 0
    assert all(count == 1 for count in _requests(server).values())


async def test_paper_intent_killed_before_the_request_is_rejected_with_its_funds_back(server, tmp_path, engines):
    path = tmp_path / "paper.sqlite"
    engine = await _start(engines, server, path, trader="paper", starting_portfolio={"USDT": "1000"})
    assert engine.ready is not None and engine.ready["balances"]["USDT"] == ["1000", "1000"]
    await engine.request("create_order", type="market", side="buy", symbol="BTC/USDT", amount="0.001")
    before = (await engine.request("snapshot", sync=False))["balances"]
    await engine.request("arm_kill", point="before_send")
    await engine.send("create_order", type="limit", side="buy", symbol="BTC/USDT", amount="0.002", price="15000")
    assert await engine.wait() == -signal.SIGKILL
    statuses = sorted(row[0] for row in _file(path, "SELECT status FROM orders"))
    assert statuses == ["closed", "pending_creation"]
    [(stored_available,)] = _file(path, "SELECT available FROM balances WHERE scope = 'account' AND currency = 'USDT'")
    assert D(stored_available) == D(before["USDT"][1]) - D("30")  # the intent's reservation was committed with it

    restarted = await _start(engines, server, path, trader="paper", starting_portfolio={"USDT": "1000"})
    assert restarted.ready is not None
    orders = {o["type"]: o for o in restarted.ready["orders"]}
    assert orders["limit"]["status"] == "rejected" and orders["limit"]["exchange_order_id"] is None
    assert orders["market"]["status"] == "closed" and len(restarted.ready["trades"]) == 1
    assert restarted.ready["balances"] == before  # the reservation released, nothing else changed
    assert await restarted.stop() == 0
    assert server.state.order_requests == []  # paper trading never reaches the venue
