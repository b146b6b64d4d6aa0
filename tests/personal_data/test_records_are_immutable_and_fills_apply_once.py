"""Trades, transactions and positions: immutability, duplicate-id protection, exchange feed; the
orders manager's single update path applying a re-delivered fill once."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionSide, TransactionType
from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.types import ExchangeOrder, ExchangePosition, ExchangeTrade
from octobot_trading.personal_data import Trade, TradesManager, Transaction, TransactionsManager
from octobot_trading.personal_data.positions import PositionsManager
from tests.personal_data.helpers import make_account

D = Decimal


def _trade(trade_id: str = "t1") -> Trade:
    return Trade(trade_id, "o1", "x1", "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, D(100), D(1), D("0.001"), "BTC", 5)


def test_trades_are_frozen_and_deduplicated():
    trade = _trade()
    with pytest.raises(dataclasses.FrozenInstanceError):
        trade.amount = D(2)  # type: ignore[misc]
    manager = TradesManager()
    assert manager.add(trade) and not manager.add(_trade())
    assert len(manager) == 1 and manager.get("t1") is trade and trade.cost == D(100)


def test_transactions_duplicate_ids_ignored():
    manager = TransactionsManager()
    deposit = Transaction("d1", TransactionType.DEPOSIT, "USDT", D(100), 1)
    assert manager.record(deposit)
    assert not manager.record(Transaction("d1", TransactionType.DEPOSIT, "USDT", D(999), 2))
    manager.record(Transaction("w1", TransactionType.WITHDRAWAL, "USDT", D(-30), 3))
    assert manager.total(TransactionType.DEPOSIT, "USDT") == D(100)
    assert [t.id for t in manager.transactions(currency="USDT")] == ["d1", "w1"]


def _position(side: str = "long", contracts: str = "2") -> ExchangePosition:
    return ExchangePosition("BTC/USDT:USDT", side, D(contracts), D(100), D(101), D(2), D(5), "cross", D(50), 7)


def test_positions_from_connector():
    manager = PositionsManager()
    manager.update_from_exchange([_position(), _position("short", "0")])
    assert manager.get("BTC/USDT:USDT").side is PositionSide.LONG
    assert len(manager.positions()) == 1
    with pytest.raises(BadExchangeResponse):
        manager.update_from_exchange([_position("sideways")])
    assert len(manager.positions()) == 1  # a bad reply changes nothing
    manager.update_from_exchange([])
    assert manager.positions() == []


async def test_redelivered_fill_is_applied_once_and_fee_recorded():
    acc = await make_account()
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "90")
    manager = acc.personal.orders_manager
    assert order.exchange_order_id is not None
    view = ExchangeOrder(
        order.exchange_order_id,
        order.client_order_id,
        "BTC/USDT",
        OrderType.LIMIT,
        OrderSide.BUY,
        OrderStatus.PARTIALLY_FILLED,
        D(90),
        D(1),
        D("0.4"),
        D("0.6"),
        D(90),
        D("0.0004"),
        10,
        "BTC",
    )
    fill = ExchangeTrade(
        "fill-1", order.exchange_order_id, "BTC/USDT", OrderSide.BUY, D(90), D("0.4"), D("0.0004"), "BTC", 10
    )
    for _ in range(3):
        await manager.apply_exchange_update(view, [fill])
    assert order.filled == D("0.4") and len(acc.personal.trades_manager) == 1
    assert acc.asset("BTC") == (D("0.3996"), D("0.3996"))
    assert acc.asset("USDT") == (D(10000) - D(36), D(10000) - D(90))
    fees = acc.personal.transactions_manager.transactions(TransactionType.TRADING_FEE)
    assert [(t.currency, t.amount) for t in fees] == [("BTC", D("-0.0004"))]


async def test_deposits_withdrawals_transfers_recorded_once():
    from octobot_trading.errors import PortfolioNegativeBalance

    acc = await make_account({"USDT": "100"})
    personal = acc.personal
    assert personal.record_deposit("dep-1", "USDT", "50")
    assert not personal.record_deposit("dep-1", "USDT", "50")  # re-delivered: no double credit
    assert acc.asset("USDT") == (D(150), D(150))
    personal.portfolio_manager.create_sub_portfolio("dca", {"USDT": "20"})
    assert personal.record_transfer("tr-1", "USDT", "30", None, "dca")
    assert personal.portfolio_manager.get_portfolio("dca").total("USDT") == D(50)
    with pytest.raises(PortfolioNegativeBalance):
        personal.record_withdrawal("wd-1", "USDT", "1000")
    assert acc.asset("USDT") == (D(150), D(150)) and not personal.transactions_manager.has("wd-1")
    assert personal.record_withdrawal("wd-2", "USDT", "10")
    kinds = [t.type for t in personal.transactions_manager.transactions()]
    assert kinds == [TransactionType.DEPOSIT, TransactionType.TRANSFER, TransactionType.WITHDRAWAL]


async def test_realised_pnl_fifo_exact_and_gross_of_fees():
    acc = await make_account({"USDT": "10000"})
    await acc.trader.create_order("market", "buy", "BTC/USDT", "1")  # at 100, fee 0.002 BTC
    acc.prices["BTC/USDT"] = D("110")
    await acc.trader.create_order("market", "buy", "BTC/USDT", "1")  # at 110, fee 0.002 BTC
    acc.prices["BTC/USDT"] = D("120")
    await acc.trader.create_order("market", "sell", "BTC/USDT", "1.5")  # 0.998 @100 then 0.502 @110
    pnl = acc.personal.transactions_manager.transactions(TransactionType.REALISED_PNL)
    assert len(pnl) == 1 and pnl[0].currency == "USDT"
    assert pnl[0].amount == D("20") * D("0.998") + D("10") * D("0.502")
    sell_trade = acc.personal.trades_manager.trades()[-1]
    assert acc.personal.transactions_manager.has(f"pnl:{sell_trade.id}")
    fees = acc.personal.transactions_manager.total(TransactionType.TRADING_FEE, "USDT")
    assert fees == -(D("1.5") * D(120) * D("0.002"))
