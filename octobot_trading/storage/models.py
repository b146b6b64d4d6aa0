"""Storage rows: pydantic models validating what is written to and read from the SQLite file.

Money is kept as decimal *strings* (``"0.00100000"``), never floats: a row read back becomes the
exact same ``Decimal``. Rows are validated at the edge (reading a file written by another
version or edited by hand), so the trading core only ever sees well-formed values.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "BalanceRow",
    "ContractSettingRow",
    "HistoryRow",
    "OrderRow",
    "PositionRow",
    "TradeRow",
    "TransactionRow",
    "WalletRow",
]


def _check_decimal(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("money must be stored as a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OrderRow(_Row):
    """Everything needed to rebuild one :class:`~octobot_trading.personal_data.orders.Order`."""

    id: str
    client_order_id: str
    exchange_order_id: str | None
    type: str
    side: str
    symbol: str
    status: str
    amount: str
    price: str | None
    trigger_price: str | None
    trailing_percent: str | None
    trailing_offset: str | None
    limit_offset: str | None
    filled: str
    filled_cost: str
    fees: dict[str, str]
    created_at: int
    updated_at: int
    reduce_only: bool
    tag: str | None
    sub_portfolio: str | None
    is_active: bool
    self_managed: bool
    parent_id: str | None
    group_name: str | None
    group_kind: str | None
    reserved_currency: str | None
    reserved_amount: str
    reservation_owner_id: str | None
    price_trigger: str | None = None
    price_trigger_above: bool | None = None
    #: the hedge-mode position a contract order acts on (``long`` / ``short``; absent in older files)
    position_side: str | None = None

    @field_validator(
        "amount",
        "price",
        "trigger_price",
        "trailing_percent",
        "trailing_offset",
        "limit_offset",
        "filled",
        "filled_cost",
        "reserved_amount",
        "price_trigger",
    )
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        return _check_decimal(value)

    @field_validator("fees")
    @classmethod
    def _fees(cls, value: dict[str, str]) -> dict[str, str]:
        for amount in value.values():
            _check_decimal(amount)
        return value


class TradeRow(_Row):
    """One fill (:class:`~octobot_trading.personal_data.trades.Trade`); ``id`` is the exchange trade id."""

    id: str
    order_id: str
    exchange_order_id: str | None
    symbol: str
    side: str
    order_type: str
    price: str
    amount: str
    fee: str
    fee_currency: str | None
    timestamp: int
    taker_or_maker: str | None
    sub_portfolio: str | None
    #: gross PnL of the part of a position a contract fill closed (absent before version 3)
    realized_pnl: str | None = None
    #: the contract size of a contract fill's symbol (absent in older files: the cost is then price x amount)
    contract_size: str | None = None

    @field_validator("price", "amount", "fee", "realized_pnl", "contract_size")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)


class TransactionRow(_Row):
    """One recorded transaction (deposits, withdrawals, transfers; fees and PnL are derived)."""

    id: str
    type: str
    currency: str
    amount: str
    timestamp: int
    symbol: str | None
    order_id: str | None
    trade_id: str | None
    source: str | None
    destination: str | None

    @field_validator("amount")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)


class BalanceRow(_Row):
    """One currency of one portfolio scope (``account``, ``starting`` or ``sub:<name>``)."""

    scope: str
    currency: str
    total: str
    available: str

    @field_validator("total", "available")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)


class HistoryRow(_Row):
    """One order status change (optional history, ``with_storage(..., history=True)``).

    ``from_status`` is None for the first status recorded for an order; ``filled`` is the order's
    filled amount after the change; ``time`` is the manager's clock in milliseconds.
    """

    order_id: str
    client_order_id: str
    from_status: str | None
    to_status: str
    filled: str
    time: int

    @field_validator("filled")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)


class PositionRow(_Row):
    """One open position of a paper futures account (every field of the accounted position)."""

    symbol: str
    side: str
    contracts: str
    entry_price: str | None
    mark_price: str | None
    unrealized_pnl: str | None
    leverage: str | None
    liquidation_price: str | None
    timestamp: int | None
    margin_mode: str | None
    initial_margin: str | None
    maintenance_margin: str | None
    realized_pnl: str | None

    @field_validator(
        "contracts",
        "entry_price",
        "mark_price",
        "unrealized_pnl",
        "leverage",
        "liquidation_price",
        "initial_margin",
        "maintenance_margin",
        "realized_pnl",
    )
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        return _check_decimal(value)


class ContractSettingRow(_Row):
    """The settings of one contract symbol of a paper futures account."""

    symbol: str
    leverage: str
    margin_mode: str
    position_mode: str

    @field_validator("leverage")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)


class WalletRow(_Row):
    """The wallet of one settle currency of a paper futures account."""

    currency: str
    wallet: str

    @field_validator("wallet")
    @classmethod
    def _decimal(cls, value: str) -> str | None:
        return _check_decimal(value)
