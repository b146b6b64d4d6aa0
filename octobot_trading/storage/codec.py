"""Turn the trading core's objects into storage rows and back.

Orders are rebuilt with their type class, parameters, identity (internal id, client order id,
exchange id), progress (status, filled amount and cost, fees), reservation and links: chained
children, groups (OCO / balanced, by name), shared reservations and price triggers. Trades and
recorded transactions are frozen dataclasses rebuilt field by field. Every money value goes
through its exact decimal string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionSide, TradeType, TransactionType
from octobot_trading.errors import OctoBotTradingError, StorageError
from octobot_trading.personal_data.orders.groups import GroupKind, OrderGroup
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.trades.trade import Trade
from octobot_trading.personal_data.transactions.transaction import Transaction
from octobot_trading.storage.models import BalanceRow, OrderRow, TradeRow, TransactionRow
from octobot_trading.util.decimals import decimal_to_str

__all__ = [
    "balance_rows",
    "balances_by_scope",
    "ids_from_meta",
    "ids_to_meta",
    "inferred_from_meta",
    "inferred_to_meta",
    "order_row",
    "orders_from_rows",
    "trade_from_row",
    "trade_row",
    "transaction_from_row",
    "transaction_row",
]

#: Transactions derived from the fills when read (never stored: they are rebuilt from the trades).
DERIVED_TRANSACTIONS = (TransactionType.TRADING_FEE, TransactionType.REALISED_PNL)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_to_str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def order_row(order: Order, trigger: tuple[Decimal, bool] | None = None) -> OrderRow:
    """Describe ``order`` completely; ``trigger`` is its price trigger (threshold, above) when it waits on one."""
    group = order.group
    owner = order.reservation_owner
    return OrderRow(
        id=order.id,
        client_order_id=order.client_order_id,
        exchange_order_id=order.exchange_order_id,
        type=order.order_type.value,
        side=order.side.value,
        symbol=order.symbol,
        status=order.status.value,
        amount=decimal_to_str(order.amount),
        price=_text(order.price),
        trigger_price=_text(order.trigger_price),
        trailing_percent=_text(order.trailing_percent),
        trailing_offset=_text(order.trailing_offset),
        limit_offset=_text(order.limit_offset),
        filled=decimal_to_str(order.filled),
        filled_cost=decimal_to_str(order.filled_cost),
        fees={c: decimal_to_str(v) for c, v in order.fees.items()},
        created_at=order.created_at,
        updated_at=order.updated_at,
        reduce_only=order.reduce_only,
        tag=order.tag,
        sub_portfolio=order.sub_portfolio,
        is_active=order.is_active,
        self_managed=order.self_managed,
        parent_id=order.parent_id,
        group_name=group.name if group is not None else None,
        group_kind=group.kind.value if group is not None else None,
        reserved_currency=order.reserved_currency,
        reserved_amount=decimal_to_str(order.reserved_amount),
        reservation_owner_id=owner.id if owner is not None else None,
        price_trigger=_text(trigger[0]) if trigger else None,
        price_trigger_above=trigger[1] if trigger else None,
        position_side=None if order.position_side is None else order.position_side.value,
    )


def _order_from_row(row: OrderRow, clock: Clock) -> Order:
    order = create_order_instance(
        OrderType(row.type),
        OrderSide(row.side),
        row.symbol,
        row.amount,
        row.price,
        clock=clock,
        trigger_price=row.trigger_price,
        trailing_percent=row.trailing_percent,
        trailing_offset=row.trailing_offset,
        limit_offset=row.limit_offset,
        client_order_id=row.client_order_id,
        reduce_only=row.reduce_only,
        position_side=None if row.position_side is None else PositionSide(row.position_side),
        tag=row.tag,
        sub_portfolio=row.sub_portfolio,
    )
    order.load_state(
        order_id=row.id,
        exchange_order_id=row.exchange_order_id,
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        filled=Decimal(row.filled),
        filled_cost=Decimal(row.filled_cost),
        fees={c: Decimal(v) for c, v in (row.fees or {}).items()},
        is_active=row.is_active,
        self_managed=row.self_managed,
        parent_id=row.parent_id,
        reserved_currency=row.reserved_currency,
        reserved_amount=Decimal(row.reserved_amount),
    )
    return order


def orders_from_rows(rows: Iterable[OrderRow], clock: Clock) -> list[Order]:
    """Rebuild orders and their links (chains, groups, shared reservations); ``StorageError`` when invalid."""
    orders: dict[str, Order] = {}
    rows = list(rows)
    for row in rows:
        try:
            orders[row.id] = _order_from_row(row, clock)
        except (ValueError, ArithmeticError, OctoBotTradingError) as exc:  # enum / order validation of a row
            raise StorageError(f"stored order {row.id} cannot be rebuilt: {exc}", order_id=row.id) from exc
    groups: dict[str, OrderGroup] = {}
    for row in rows:
        order = orders[row.id]
        if row.parent_id is not None:
            parent = orders.get(row.parent_id)
            if parent is None:
                raise StorageError(
                    f"stored order {row.id} is chained to unknown order {row.parent_id}", order_id=row.id
                )
            parent.add_chained(order)
        if row.group_name is not None:
            group = groups.get(row.group_name)
            if group is None:
                group = groups[row.group_name] = OrderGroup(GroupKind(row.group_kind or "oco"), row.group_name)
            group.add(order)
        if row.reservation_owner_id is not None:
            order.reservation_owner = orders.get(row.reservation_owner_id)
    return list(orders.values())


def trade_row(trade: Trade) -> TradeRow:
    """Describe one fill."""
    return TradeRow(
        id=trade.id,
        order_id=trade.order_id,
        exchange_order_id=trade.exchange_order_id,
        symbol=trade.symbol,
        side=trade.side.value,
        order_type=trade.order_type.value,
        price=decimal_to_str(trade.price),
        amount=decimal_to_str(trade.amount),
        fee=decimal_to_str(trade.fee),
        fee_currency=trade.fee_currency,
        timestamp=trade.timestamp,
        taker_or_maker=trade.taker_or_maker.value if trade.taker_or_maker else None,
        sub_portfolio=trade.sub_portfolio,
        realized_pnl=_text(trade.realized_pnl),
        contract_size=_text(trade.contract_size),
    )


def trade_from_row(row: TradeRow) -> Trade:
    """Rebuild one fill."""
    return Trade(
        id=row.id,
        order_id=row.order_id,
        exchange_order_id=row.exchange_order_id,
        symbol=row.symbol,
        side=OrderSide(row.side),
        order_type=OrderType(row.order_type),
        price=Decimal(row.price),
        amount=Decimal(row.amount),
        fee=Decimal(row.fee),
        fee_currency=row.fee_currency,
        timestamp=row.timestamp,
        taker_or_maker=TradeType(row.taker_or_maker) if row.taker_or_maker else None,
        sub_portfolio=row.sub_portfolio,
        realized_pnl=_dec(row.realized_pnl),
        contract_size=_dec(row.contract_size),
    )


def transaction_row(transaction: Transaction) -> TransactionRow:
    """Describe one recorded transaction."""
    t = transaction
    return TransactionRow(
        id=t.id,
        type=t.type.value,
        currency=t.currency,
        amount=decimal_to_str(t.amount),
        timestamp=t.timestamp,
        symbol=t.symbol,
        order_id=t.order_id,
        trade_id=t.trade_id,
        source=t.source,
        destination=t.destination,
    )


def transaction_from_row(row: TransactionRow) -> Transaction:
    """Rebuild one recorded transaction."""
    return Transaction(
        row.id,
        TransactionType(row.type),
        row.currency,
        Decimal(row.amount),
        row.timestamp,
        symbol=row.symbol,
        order_id=row.order_id,
        trade_id=row.trade_id,
        source=row.source,
        destination=row.destination,
    )


def balance_rows(portfolio_manager: PortfolioManager) -> list[BalanceRow]:
    """The account, each sub-portfolio and the starting totals as rows."""
    rows: list[BalanceRow] = []

    def add(scope: str, snapshot: Mapping[str, tuple[Decimal, Decimal]]) -> None:
        for currency, (total, available) in sorted(snapshot.items()):
            rows.append(
                BalanceRow(
                    scope=scope, currency=currency, total=decimal_to_str(total), available=decimal_to_str(available)
                )
            )

    add("account", portfolio_manager.portfolio.snapshot())
    for name, sub in portfolio_manager.sub_portfolios.items():
        add(f"sub:{name}", sub.snapshot())
    add("starting", {c: (v, v) for c, v in portfolio_manager.starting_totals.items()})
    return rows


def balances_by_scope(rows: Iterable[BalanceRow]) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """``{scope: {currency: (total, available)}}`` from stored rows."""
    result: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for row in rows:
        result.setdefault(row.scope, {})[row.currency] = (Decimal(row.total), Decimal(row.available))
    return result


# -- follow-up state kept in the ``meta`` table (a version-1 file without these keys holds none) ----------
META_INFERRED = "inferred_fills"
META_SUPERSEDED = "superseded_trades"
META_GIVEN_UP = "given_up_orders"


def inferred_to_meta(entries: Mapping[str, Iterable[tuple[str, Decimal, Decimal]]]) -> str:
    """Describe inferred fills still to be matched (``{order id: [(trade id, amount left, price)]}``)."""
    return json.dumps(
        {
            order_id: [[t, decimal_to_str(a), decimal_to_str(p)] for t, a, p in items]
            for order_id, items in sorted(entries.items())
        },
        separators=(",", ":"),
    )


def inferred_from_meta(text: str | None) -> dict[str, list[tuple[str, Decimal, Decimal]]]:
    """Rebuild what :func:`inferred_to_meta` wrote; ``StorageError`` naming the entry when invalid."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        result = {}
        for order_id, items in raw.items():
            entries = []
            for trade_id, left, price in items:
                if not isinstance(trade_id, str) or not isinstance(left, str) or not isinstance(price, str):
                    raise TypeError(f"entry of order {order_id} is not [text, text, text]")
                amount, value = Decimal(left), Decimal(price)
                if not (amount > 0 and value > 0):
                    raise ValueError(f"entry {trade_id}: amount {left} and price {price} must be positive")
                entries.append((trade_id, amount, value))
            result[str(order_id)] = entries
        return result
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise StorageError(f"invalid {META_INFERRED} ({exc})") from exc


def ids_to_meta(ids: Iterable[str]) -> str:
    """Describe a set of ids (superseded trades, given-up orders)."""
    return json.dumps(sorted(ids))


def ids_from_meta(key: str, text: str | None) -> list[str]:
    """Rebuild what :func:`ids_to_meta` wrote; ``StorageError`` naming ``key`` when invalid."""
    if not text:
        return []
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise StorageError(f"invalid {key} ({exc})") from exc
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise StorageError(f"invalid {key} (not a list of ids)")
    return raw
