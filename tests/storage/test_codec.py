"""Orders, trades and transactions survive a trip through storage rows unchanged (every order type)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import StorageError
from octobot_trading.personal_data.orders.groups import GroupKind, OrderGroup
from octobot_trading.storage import codec
from octobot_trading.storage.models import OrderRow, TradeRow, TransactionRow
from tests.personal_data.helpers import make_account

D = Decimal


def _through_json(rows, model):
    return [model.model_validate(json.loads(row.model_dump_json())) for row in rows]


async def test_every_order_type_and_link_round_trips():
    account = await make_account({"USDT": "10000", "BTC": "5"})
    trader = account.trader
    made = [
        await trader.create_order("market", "buy", "BTC/USDT", "0.5"),
        await trader.create_order(
            "limit",
            "buy",
            "BTC/USDT",
            "1",
            "95",
            stop_loss_price="90",
            take_profit_price="110",
            tag="entry",
            sub_portfolio=None,
        ),
        await trader.create_order("stop_loss", "sell", "BTC/USDT", "0.3", trigger_price="80"),
        await trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "0.3", "79", trigger_price="80"),
        await trader.create_order("take_profit_limit", "sell", "BTC/USDT", "0.3", "121", trigger_price="120"),
        await trader.create_order("trailing_stop", "sell", "BTC/USDT", "0.2", trailing_percent="5"),
        await trader.create_order(
            "trailing_stop_limit", "sell", "BTC/USDT", "0.2", trailing_offset="3", limit_offset="1"
        ),
    ]
    oco = OrderGroup(GroupKind.OCO)
    made.append(await trader.create_order("limit", "sell", "BTC/USDT", "0.1", "150", group=oco))
    made.append(await trader.create_order("stop_loss", "sell", "BTC/USDT", "0.1", trigger_price="70", group=oco))
    await account.candle("100", "100", "94", "96")  # the limit entry fills: its exits are submitted
    assert made[1].status.value == "closed" and all(c.is_active for c in made[1].chained_orders)
    orders = account.personal.orders_manager.all_orders()
    assert len(orders) == len(made) + 2
    rows = _through_json([codec.order_row(o) for o in orders], OrderRow)
    rebuilt = codec.orders_from_rows(rows, SimulatedClock(0))
    assert [codec.order_row(o) for o in rebuilt] == rows
    by_id = {o.id: o for o in rebuilt}
    for original in orders:
        copy = by_id[original.id]
        assert type(copy) is type(original) and copy.average_price == original.average_price
        assert dict(copy.fees) == dict(original.fees) and copy.remaining == original.remaining
        assert [c.id for c in copy.chained_orders] == [c.id for c in original.chained_orders]
        if original.group is not None:
            assert copy.group.name == original.group.name and copy.group.kind is original.group.kind
            assert sorted(o.id for o in copy.group.orders) == sorted(o.id for o in original.group.orders)
        owner = original.reservation_owner
        assert (copy.reservation_owner.id if copy.reservation_owner else None) == (owner.id if owner else None)

    trades = account.personal.trades_manager.trades()
    trade_rows = _through_json([codec.trade_row(t) for t in trades], TradeRow)
    assert [codec.trade_from_row(r) for r in trade_rows] == trades

    assert account.personal.record_deposit("d-1", "BTC", "0.000000001")
    recorded = account.personal.transactions_manager.recorded()
    tx_rows = _through_json([codec.transaction_row(t) for t in recorded], TransactionRow)
    assert [codec.transaction_from_row(r) for r in tx_rows] == recorded


def test_follow_up_state_round_trips_exactly_and_refuses_bad_entries():
    c = codec
    entries = {
        "o1": [
            ("E1:filled:0.5", Decimal("0.25"), Decimal("19421.37")),
            ("E1:filled:0.7", Decimal("0.2"), Decimal("19400")),
        ]
    }
    assert c.inferred_from_meta(c.inferred_to_meta(entries)) == entries
    assert c.inferred_from_meta(None) == {} and c.inferred_from_meta(c.inferred_to_meta({})) == {}
    assert c.ids_from_meta("k", c.ids_to_meta(["b", "a"])) == ["a", "b"]
    for bad in ("[1]", '{"o": [["t", 0.5, "1"]]}', '{"o": [["t", "0", "1"]]}', '{"o": [["t", "x", "1"]]}', "{"):
        with pytest.raises(StorageError, match="inferred_fills"):
            c.inferred_from_meta(bad)
    with pytest.raises(StorageError, match="given_up_orders"):
        c.ids_from_meta("given_up_orders", '{"a": 1}')
