"""A venue that edits an order by cancel-and-replace answers with a new exchange id: the local order
takes it and the state file records it at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.storage import StorageComponent
from tests.storage.conftest import builder_for, other_tasks
from tests.storage.stored_rows import read_only_rows

D = Decimal


def _edit_by_cancel_and_replace(venue: SimulatedConnector) -> list[tuple[str, str]]:
    """Make the simulated venue edit as some venues do: cancel the order, place a new one (new id).
    Returns the (old id, new id) pairs of the edits made."""
    replaced: list[tuple[str, str]] = []

    async def cancel_and_replace(order_id: str, symbol: str, **terms: Any) -> Any:
        old = await venue.fetch_order(order_id, symbol)
        await venue.cancel_order(order_id, symbol)
        amount, price = terms.get("amount") or old.amount, terms.get("price") or old.price
        new = await venue.create_order(
            old.type, old.side, symbol, amount, price, client_order_id=f"{old.client_order_id}-r"
        )
        replaced.append((order_id, new.id))
        return new

    venue.edit_order = cancel_and_replace  # type: ignore[method-assign]
    return replaced


async def test_an_edit_made_by_cancel_and_replace_moves_the_order_to_the_new_exchange_id(server, tmp_path):
    path = tmp_path / "state.sqlite"
    builder = builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "1000"}).with_storage(path)
    manager = await builder.build()
    last = server.state.markets["BTCUSDT"].last_price
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        storage.flush_seconds = 3600  # (after its first wait) only the journal writes
        venue = manager.exchange.connector
        assert isinstance(venue, SimulatedConnector)
        replaced = _edit_by_cancel_and_replace(venue)
        order = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", (last * D("0.8")).quantize(D("0.01"))
        )
        first_id = order.exchange_order_id
        new_price = (last * D("0.7")).quantize(D("0.01"))
        await manager.trader.edit_order(order, price=new_price)
        [(old_id, new_id)] = replaced
        assert old_id == first_id and new_id != first_id
        orders_manager = manager.exchange_personal_data.orders_manager
        assert order.exchange_order_id == new_id and order.price == new_price
        assert orders_manager.get_by_exchange_id(new_id) is order and orders_manager.get_by_exchange_id(old_id) is None
        # in the file before any writer pass
        assert read_only_rows(path, "SELECT exchange_order_id FROM orders WHERE id = ?", order.id) == [(new_id,)]
        await manager.trader.sync_with_exchange()  # the canceled original is not taken for the order
        assert order.status is OrderStatus.OPEN and order.exchange_order_id == new_id
        assert [o.id for o in orders_manager.open_orders()] == [order.id]
        portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
        assert portfolio.available("USDT") == D("1000") - order.reserved_amount
    assert not other_tasks()
    manager = await builder.build()
    async with manager:
        restored = manager.exchange_personal_data.orders_manager.get(order.id)
        assert restored is not None and restored.status is OrderStatus.OPEN and restored.price == new_price
        assert len(manager.exchange_personal_data.orders_manager.open_orders()) == 1
    assert not other_tasks()
