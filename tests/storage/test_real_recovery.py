"""Restart recovery of a real trader: the real ccxt client against the fake Binance server, a real SQLite file."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.personal_data.live_venue import assert_matches_exchange
from tests.storage.conftest import CANARY_KEY, CANARY_SECRET, builder_for, other_tasks
from tests.storage.stored_rows import rows, venue_id

D = Decimal


def _reachable_buy_price(server: FakeExchangeServer, steps: int) -> Decimal:
    """A buy price under the last price that the next ``steps`` replayed candles reach."""
    market = server.state.markets["BTCUSDT"]
    lows = [c[3] for c in market.candles[market.cursor + 1 : market.cursor + 1 + steps]]
    price = min(lows) + market.tick_size
    assert price < market.last_price
    return price


async def test_fill_while_down_is_applied_once_after_restart(server, tmp_path):
    path = tmp_path / "state.sqlite"
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        assert order.status is OrderStatus.OPEN
        order_id, client_id, exchange_id = order.id, order.client_order_id, order.exchange_order_id
    assert not other_tasks()
    assert rows(path, "SELECT id, status FROM orders") == [(order_id, "open")]

    server.state.advance(20)  # the venue fills it while the bot is down
    assert server.state.orders[venue_id(exchange_id)].status == "FILLED"

    for _restart in range(2):  # a second restart must not apply the fill again
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            personal = manager.exchange_personal_data
            restored = personal.orders_manager.get(order_id)
            assert restored is not None and restored.client_order_id == client_id
            assert restored.status is OrderStatus.CLOSED and restored.filled == D("0.001")
            assert restored.average_price == price
            fills = personal.trades_manager.for_order(order_id)
            assert len(fills) == 1 and fills[0].amount == D("0.001") and fills[0].price == price
            assert len(personal.orders_manager.all_orders()) == 1
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert not other_tasks()
    assert rows(path, "SELECT status FROM orders") == [("closed",)]
    assert len(rows(path, "SELECT id FROM trades")) == 1


async def test_lost_placement_reply_found_by_client_id_after_restart(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        server.faults.drop_after(method="POST", path="/api/v3/order")  # placed, reply lost
        lookups = server.faults.drop_before(method="GET", path="/api/v3/order", times=None)  # lookups lost too
        last = server.state.markets["BTCUSDT"].last_price
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", last * D("0.95"))
        assert order.status is OrderStatus.PENDING_CREATION and order.exchange_order_id is None
        server.faults.faults.remove(lookups)
        client_id = order.client_order_id
    assert rows(path, "SELECT status FROM orders") == [("pending_creation",)]
    on_venue = [o for o in server.state.orders.values() if o.client_order_id == client_id]
    assert len(on_venue) == 1

    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        orders = manager.exchange_personal_data.orders_manager.all_orders()
        assert len(orders) == 1 and orders[0].id == order.id
        assert orders[0].status is OrderStatus.OPEN
        assert orders[0].exchange_order_id == str(on_venue[0].order_id)
        assert len([o for o in server.state.orders.values() if o.client_order_id == client_id]) == 1
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert not other_tasks()
    assert rows(path, "SELECT status, exchange_order_id FROM orders") == [("open", str(on_venue[0].order_id))]


async def test_in_flight_order_unknown_to_the_venue_is_rejected_not_resent(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        server.faults.drop_before(method="POST", path="/api/v3/order")  # never reached the venue
        lookups = server.faults.drop_before(method="GET", path="/api/v3/order", times=None)
        last = server.state.markets["BTCUSDT"].last_price
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", last * D("0.95"))
        assert order.status is OrderStatus.PENDING_CREATION
        server.faults.faults.remove(lookups)
    posts_before = [r for r in server.faults.requests if r[0] == "POST"]

    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        personal = manager.exchange_personal_data
        restored = personal.orders_manager.get(order.id)
        # not found once: still in flight (a venue may process a request late)
        assert restored is not None and restored.status is OrderStatus.PENDING_CREATION
        # given up only after IN_FLIGHT_MIN_LOOKUPS lookups once the venue's window has passed
        # (the live clock cannot be moved: the order's send time is moved back instead)
        from octobot_trading.personal_data import trader as trader_module

        restored.created_at -= trader_module.IN_FLIGHT_GIVE_UP_MS
        for _ in range(trader_module.IN_FLIGHT_MIN_LOOKUPS):
            await manager.trader.resolve_in_flight()
        assert personal.orders_manager.get(order.id) is None  # rejected and dropped
        assert restored.status is OrderStatus.REJECTED
        assert server.state.orders == {}
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert [r for r in server.faults.requests if r[0] == "POST"] == posts_before  # never re-sent
    assert rows(path, "SELECT status FROM orders") == [("rejected",)]
    assert not other_tasks()


async def test_secrets_never_reach_the_file(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        await manager.trader.create_order("market", "sell", "BTC/USDT", "0.001")
    files = list(tmp_path.iterdir())
    assert path in files
    for file in files:
        data = file.read_bytes()
        assert CANARY_KEY.encode() not in data and CANARY_SECRET.encode() not in data
    assert len(rows(path, "SELECT id FROM trades")) == 1


async def test_order_placed_elsewhere_while_down_is_adopted_once(server, tmp_path):
    from tests.exchanges.conftest import make_connector

    path = tmp_path / "state.sqlite"
    async with await builder_for(server).use_real_trader().with_storage(path).build():
        pass
    other = make_connector(server, symbols=("BTC/USDT",))
    try:
        last = server.state.markets["BTCUSDT"].last_price
        placed = await other.create_order(
            OrderType.LIMIT, OrderSide.SELL, "BTC/USDT", D("0.002"), last * 2, client_order_id="elsewhere-1"
        )
    finally:
        await other.close()
    for _restart in range(2):
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            orders = manager.exchange_personal_data.orders_manager.all_orders()
            assert [(o.exchange_order_id, o.client_order_id, o.status) for o in orders] == [
                (placed.id, "elsewhere-1", OrderStatus.OPEN)
            ]
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert rows(path, "SELECT client_order_id, status FROM orders") == [("elsewhere-1", "open")]
    assert not other_tasks()


async def test_partial_fill_and_cancel_while_down_are_applied_once(server, tmp_path):
    path = tmp_path / "state.sqlite"
    last = server.state.markets["BTCUSDT"].last_price
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        partly = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", last - 50)
        canceled = await manager.trader.create_order("limit", "sell", "BTC/USDT", "0.003", last + 50)
    fake_partly = server.state.orders[venue_id(partly.exchange_order_id)]
    server.state._fill(fake_partly, fake_partly.price, D("0.001"), maker=True)  # half, while down
    server.state.cancel_order(server.state.orders[venue_id(canceled.exchange_order_id)])

    for _restart in range(2):
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            personal = manager.exchange_personal_data
            p = personal.orders_manager.get(partly.id)
            c = personal.orders_manager.get(canceled.id)
            assert p.status is OrderStatus.PARTIALLY_FILLED and p.filled == D("0.001")
            assert len(personal.trades_manager.for_order(partly.id)) == 1
            assert c.status is OrderStatus.CANCELED and c.filled == 0
            assert [o.id for o in personal.orders_manager.open_orders()] == [partly.id]
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert not other_tasks()
    assert sorted(rows(path, "SELECT status FROM orders")) == [("canceled",), ("partially_filled",)]


async def test_entry_filled_while_down_releases_its_exits_once(server, tmp_path):
    path = tmp_path / "state.sqlite"
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        entry = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.002", price, take_profit_price=price * 2
        )
        (exit_order,) = entry.chained_orders
        assert not exit_order.is_active and exit_order.exchange_order_id is None
    server.state.advance(20)

    for _restart in range(2):
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            personal = manager.exchange_personal_data
            assert personal.orders_manager.get(entry.id).status is OrderStatus.CLOSED
            restored_exit = personal.orders_manager.get(exit_order.id)
            assert restored_exit.is_active and restored_exit.status is OrderStatus.OPEN
            net = D("0.002") - personal.orders_manager.get(entry.id).fees.get("BTC", D(0))
            assert restored_exit.amount <= net
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert not other_tasks()
    on_venue = [o for o in server.state.orders.values() if o.client_order_id == exit_order.client_order_id]
    assert len(on_venue) == 1 and on_venue[0].side == "SELL"


def _crash_after_parent_fill(path: Path, parent_id: str, fill_price: Decimal, amount: str) -> None:
    """Rewrite the file as a crash right after the parent's fill, before its children were sent."""
    import json

    with sqlite3.connect(path) as db:
        (text,) = db.execute("SELECT row FROM orders WHERE id = ?", (parent_id,)).fetchone()
        row = json.loads(text)
        row.update(status="closed", filled=amount, filled_cost=str(D(amount) * fill_price), reserved_amount="0")
        db.execute("UPDATE orders SET status = 'closed', row = ? WHERE id = ?", (json.dumps(row), parent_id))


async def test_children_of_a_parent_filled_before_a_crash_are_sent_once(server, tmp_path):
    from tests.exchanges.conftest import make_connector

    path = tmp_path / "state.sqlite"
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        entry = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        take = await manager.trader.create_order("limit", "sell", "BTC/USDT", "0.001", price * 2, chained_to=entry)
        stop = await manager.trader.create_order("limit", "sell", "BTC/USDT", "0.001", price * 3, chained_to=entry)
    server.state.advance(20)
    assert server.state.orders[venue_id(entry.exchange_order_id)].status == "FILLED"
    _crash_after_parent_fill(path, entry.id, price, "0.002")
    # the take-profit reached the venue before the crash, unknown to the file
    other = make_connector(server, symbols=("BTC/USDT",))
    try:
        sent = await other.create_order(
            OrderType.LIMIT, OrderSide.SELL, "BTC/USDT", D("0.001"), price * 2, client_order_id=take.client_order_id
        )
    finally:
        await other.close()

    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        personal = manager.exchange_personal_data
        restored_take = personal.orders_manager.get(take.id)
        restored_stop = personal.orders_manager.get(stop.id)
        assert restored_take.exchange_order_id == sent.id and restored_take.status is OrderStatus.OPEN
        assert restored_stop.is_active and restored_stop.exchange_order_id is not None
        assert restored_stop.status is OrderStatus.OPEN and restored_take.is_active
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert not other_tasks()
    for child in (stop, take):
        assert len([o for o in server.state.orders.values() if o.client_order_id == child.client_order_id]) == 1


async def test_fill_between_two_polls_is_counted_once(server, tmp_path):
    """The trader's poll applies fills before refreshing balances (else a fill is counted twice)."""
    from octobot_trading.personal_data.trader_component import TraderComponent

    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(tmp_path / "s.sqlite").build()
    async with manager:
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        server.state.advance(20)
        await manager.get_component("trader", TraderComponent)._poll_once()
        assert order.status is OrderStatus.CLOSED
        assert len(manager.exchange_personal_data.trades_manager) == 1
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)


async def test_recovery_from_a_crash_snapshot_of_the_running_file(server, tmp_path):
    """Copy the file and its WAL while the manager runs (a crash at that point), recover from the copy."""
    import shutil

    from octobot_trading.storage import StorageComponent

    path, crashed = tmp_path / "state.sqlite", tmp_path / "crashed"
    crashed.mkdir()
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        # the journal committed the placed order before create_order returned: nothing left to write
        assert await manager.get_component("storage", StorageComponent).flush() == 0
        assert rows(path, "SELECT id, status FROM orders") == [(order.id, "open")]
        for file in tmp_path.glob("state.sqlite*"):
            shutil.copy(file, crashed / file.name)
        server.state.advance(20)
    manager = await builder_for(server).use_real_trader().with_storage(crashed / "state.sqlite").build()
    async with manager:
        personal = manager.exchange_personal_data
        restored = personal.orders_manager.get(order.id)
        assert restored.status is OrderStatus.CLOSED and len(personal.trades_manager.for_order(order.id)) == 1
        await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert not other_tasks()


async def test_a_chained_exit_committed_but_never_sent_before_a_crash_is_sent_once_at_restart(server, tmp_path):
    import shutil

    from octobot_trading.errors import InvalidOrder

    path, crashed = tmp_path / "state.sqlite", tmp_path / "crashed"
    crashed.mkdir()
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        entry = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.002", price, take_profit_price=price * 2
        )
        (exit_order,) = entry.chained_orders
        connector = manager.trader.connector
        send = connector.create_order

        async def crash_before_the_exit_leaves(*args, client_order_id=None, **kwargs):
            if client_order_id != exit_order.client_order_id:
                return await send(*args, client_order_id=client_order_id, **kwargs)
            for file in tmp_path.glob("state.sqlite*"):  # the file as a kill at this point leaves it
                shutil.copy(file, crashed / file.name)
            raise InvalidOrder("the process died here", limit="test")

        connector.create_order = crash_before_the_exit_leaves  # type: ignore[method-assign]
        server.state.advance(20)  # the venue fills the entry: its exit is released, committed, not sent
        await manager.trader.sync_with_exchange()
    assert not any(o.client_order_id == exit_order.client_order_id for o in server.state.orders.values())
    stored = rows(
        crashed / "state.sqlite", f"SELECT status, exchange_order_id FROM orders WHERE id = '{exit_order.id}'"
    )
    assert stored == [("pending_creation", None)]

    for _restart in range(2):  # sent at the first restart, never again
        manager = await builder_for(server).use_real_trader().with_storage(crashed / "state.sqlite").build()
        async with manager:
            personal = manager.exchange_personal_data
            restored = personal.orders_manager.get(exit_order.id)
            assert restored.is_active and restored.status is OrderStatus.OPEN and restored.exchange_order_id
            assert restored.client_order_id == exit_order.client_order_id
            assert restored.amount <= D("0.002") - personal.orders_manager.get(entry.id).fees.get("BTC", D(0))
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert not other_tasks()
    requests = [cid for _key, cid in server.state.order_requests if cid == exit_order.client_order_id]
    assert requests == [exit_order.client_order_id]
    on_venue = [o for o in server.state.orders.values() if o.client_order_id == exit_order.client_order_id]
    assert len(on_venue) == 1 and on_venue[0].side == "SELL" and on_venue[0].status == "NEW"
