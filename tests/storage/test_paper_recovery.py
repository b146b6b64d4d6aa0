"""Restart recovery of a paper-trading manager: orders, links, balances and the simulated venue come back."""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderStatus, OrderType
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.venues import BinanceExchange
from octobot_trading.personal_data.orders.groups import GroupKind
from tests.storage.conftest import builder_for, other_tasks

D = Decimal


def _paper(server, path):
    return builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "1000"}).with_storage(path)


def _snapshot(manager):
    pm = manager.exchange_personal_data.portfolio_manager
    return pm.portfolio.snapshot(), {n: s.snapshot() for n, s in pm.sub_portfolios.items()}, dict(pm.starting_totals)


async def test_paper_manager_restores_orders_links_and_balances(server, tmp_path):
    path = tmp_path / "paper.sqlite"
    last = server.state.markets["BTCUSDT"].last_price
    entry_price = (last * D("0.97")).quantize(D("0.01"))
    manager = await _paper(server, path).build()
    async with manager:
        trader = manager.trader
        pm = manager.exchange_personal_data.portfolio_manager
        pm.create_sub_portfolio("grid", {"USDT": "300"})
        market = await trader.create_order("market", "buy", "BTC/USDT", "0.001")
        entry = await trader.create_order(
            "limit",
            "buy",
            "BTC/USDT",
            "0.002",
            entry_price,
            sub_portfolio="grid",
            stop_loss_price=(entry_price * D("0.9")).quantize(D("0.01")),
            take_profit_price=(entry_price * D("1.1")).quantize(D("0.01")),
        )
        assert entry.status is OrderStatus.OPEN and len(entry.chained_orders) == 2
        before = _snapshot(manager)
        trade_ids = [t.id for t in manager.exchange_personal_data.trades_manager.trades()]
        child_ids = sorted(c.id for c in entry.chained_orders)
    assert not other_tasks()

    manager = await _paper(server, path).build()
    async with manager:
        personal = manager.exchange_personal_data
        assert _snapshot(manager) == before
        assert [t.id for t in personal.trades_manager.trades()] == trade_ids
        assert personal.orders_manager.get(market.id).status is OrderStatus.CLOSED
        restored = personal.orders_manager.get(entry.id)
        assert restored.status is OrderStatus.OPEN and restored.sub_portfolio == "grid"
        assert restored.price == entry_price and restored.reserved_amount == entry.reserved_amount
        assert sorted(c.id for c in restored.chained_orders) == child_ids
        children = restored.chained_orders
        assert all(not c.is_active and c.parent_id == entry.id for c in children)
        assert children[0].group is children[1].group and children[0].group.kind is GroupKind.BALANCED
        # the simulated venue holds the order again, with the same funds locked
        connector = manager.connector
        assert isinstance(connector, SimulatedConnector)
        venue = await connector.fetch_order(restored.exchange_order_id, "BTC/USDT")
        assert venue.client_order_id == entry.client_order_id and venue.status is OrderStatus.OPEN
        balance = (await connector.fetch_balance())["USDT"]
        assert balance.used == entry.reserved_amount
        assert balance.total == before[0]["USDT"][0]

        # the restored hooks work: the entry fills, its exits are submitted on the venue
        await connector.on_price("BTC/USDT", entry_price - 1)
        assert restored.status is OrderStatus.CLOSED
        live_children = [c for c in children if c.is_active]
        assert {c.order_type for c in live_children} == {OrderType.STOP_LOSS, OrderType.LIMIT}
        assert all(c.status is OrderStatus.OPEN for c in live_children)
        assert len({t.id for t in personal.trades_manager.trades()}) == len(trade_ids) + 1
        after_fill = _snapshot(manager)
    assert not other_tasks()

    manager = await _paper(server, path).build()  # the fill and the submitted exits were saved
    async with manager:
        personal = manager.exchange_personal_data
        assert _snapshot(manager) == after_fill
        assert len(personal.trades_manager) == len(trade_ids) + 1
        children = personal.orders_manager.get(entry.id).chained_orders
        assert all(c.status is OrderStatus.OPEN and c.is_active for c in children)
        await manager.trader.cancel_order(children[0])  # the venue knows the re-placed order
        assert children[0].status is OrderStatus.CANCELED
    assert not other_tasks()


async def test_price_triggered_order_is_rearmed_after_restart(server, tmp_path):
    from octobot_trading.personal_data import PriceTrigger

    path = tmp_path / "trigger.sqlite"
    builder = _paper(server, path).with_time_frames(["5m"])
    last = server.state.markets["BTCUSDT"].last_price
    threshold = (last * D("0.5")).quantize(D("0.01"))
    manager = await builder.build()
    async with manager:
        await manager.wait_ready(timeout=30)
        order = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", threshold, price_trigger=PriceTrigger(threshold, above=False)
        )
        assert not order.is_active and manager.trader.price_trigger_of(order) is not None
        second = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", threshold, price_trigger=PriceTrigger(threshold, above=False)
        )
    assert not other_tasks()

    manager = await builder.build()
    async with manager:
        restored = manager.exchange_personal_data.orders_manager.get(order.id)
        assert restored is not None and not restored.is_active
        assert restored.status is OrderStatus.PENDING_CREATION and restored.reserved_amount == 0
        trigger = manager.trader.price_trigger_of(restored)
        assert trigger is not None and trigger.threshold == threshold and not trigger.above
        assert manager.trader.price_trigger_of(second) is not None  # both triggers are re-armed
        await manager.trader.cancel_order(restored)
        assert restored.status is OrderStatus.CANCELED and manager.trader.price_trigger_of(restored) is None
    assert not other_tasks()


async def test_recorded_transactions_survive_a_restart_once(server, tmp_path):
    from octobot_trading.enums import TransactionType

    path = tmp_path / "tx.sqlite"
    manager = await _paper(server, path).build()
    async with manager:
        personal = manager.exchange_personal_data
        assert personal.record_deposit("dep-1", "USDT", "250.5")
        await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")  # a fee transaction, derived
        before = _snapshot(manager)
        kinds = sorted(t.type.value for t in personal.transactions_manager.transactions())
    manager = await _paper(server, path).build()
    async with manager:
        personal = manager.exchange_personal_data
        assert _snapshot(manager) == before and before[0]["USDT"][0] < D("1250.5")
        assert not personal.record_deposit("dep-1", "USDT", "250.5")  # known id: not credited again
        assert _snapshot(manager) == before
        assert sorted(t.type.value for t in personal.transactions_manager.transactions()) == kinds
        (deposit,) = personal.transactions_manager.transactions(TransactionType.DEPOSIT)
        assert deposit.amount == D("250.5") and deposit.currency == "USDT"
    assert not other_tasks()


class _PlacementRecordingBinance(BinanceExchange):
    """A venue class noting every order placed through it."""

    placed: list[str | None] = []

    async def create_order(self, *args, **kwargs):
        self.placed.append(kwargs.get("client_order_id"))
        return await super().create_order(*args, **kwargs)


async def test_paper_restart_replaces_open_orders_through_the_exchange_class(server, tmp_path):
    path = tmp_path / "paper.sqlite"
    entry_price = (server.state.markets["BTCUSDT"].last_price * D("0.97")).quantize(D("0.01"))
    manager = await _paper(server, path).build()
    async with manager:
        resting = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", entry_price)
    _PlacementRecordingBinance.placed = []
    manager = await _paper(server, path).with_exchange_class(_PlacementRecordingBinance).build()
    async with manager:
        assert isinstance(manager.exchange, _PlacementRecordingBinance)
        # the restart re-placed the open order on the simulated venue through the class's create_order
        assert _PlacementRecordingBinance.placed == [resting.client_order_id]
        restored = manager.exchange_personal_data.orders_manager.get(resting.id)
        venue = await manager.exchange.fetch_order(restored.exchange_order_id, "BTC/USDT")
        assert venue.client_order_id == resting.client_order_id and venue.status is OrderStatus.OPEN
    assert not other_tasks()


async def test_a_chained_exit_committed_but_never_sent_before_a_crash_is_placed_at_restart(server, tmp_path):
    import shutil

    from octobot_trading.errors import InvalidOrder

    path, crashed = tmp_path / "state.sqlite", tmp_path / "crashed"
    crashed.mkdir()
    last = server.state.markets["BTCUSDT"].last_price
    take_profit = (last * D("1.5")).quantize(D("0.01"))
    manager = await _paper(server, path).build()
    async with manager:
        venue = manager.exchange.connector
        assert isinstance(venue, SimulatedConnector)
        send = venue.create_order
        sent: list[str | None] = []

        async def crash_before_the_exit_leaves(*args, client_order_id=None, **kwargs):
            sent.append(client_order_id)
            if len(sent) == 1:  # the entry
                return await send(*args, client_order_id=client_order_id, **kwargs)
            for file in tmp_path.glob("state.sqlite*"):  # the file as a kill at this point leaves it
                shutil.copy(file, crashed / file.name)
            raise InvalidOrder("the process died here", limit="test")

        venue.create_order = crash_before_the_exit_leaves  # type: ignore[method-assign]
        entry = await manager.trader.create_order("market", "buy", "BTC/USDT", "0.002", take_profit_price=take_profit)
        (exit_order,) = entry.chained_orders
        assert entry.is_done and sent == [entry.client_order_id, exit_order.client_order_id]
    assert not other_tasks()

    for _restart in range(2):  # placed at the first restart, kept at the second
        manager = await _paper(server, crashed / "state.sqlite").build()
        async with manager:
            orders = manager.exchange_personal_data.orders_manager
            restored = orders.get(exit_order.id)
            assert orders.get(entry.id).status is OrderStatus.CLOSED
            assert restored.is_active and restored.status is OrderStatus.OPEN and restored.price == take_profit
            assert restored.client_order_id == exit_order.client_order_id
            on_venue = await manager.exchange.connector.fetch_open_orders("BTC/USDT")
            assert [o.client_order_id for o in on_venue] == [exit_order.client_order_id]
        assert not other_tasks()
