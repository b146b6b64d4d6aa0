"""Typed results of exchange calls (frozen dataclasses, Decimal money fields).

Connectors turn every exchange reply into these; raw ccxt dicts never leave a connector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from octobot_trading.enums import MarginMode, MarketType, OrderSide, OrderStatus, OrderType, PositionMode, TradeType
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.records import fast_frozen_init

__all__ = [
    "Balance",
    "Candle",
    "ContractSettings",
    "DepositAddress",
    "ExchangeLiquidation",
    "ExchangeOrder",
    "ExchangePosition",
    "ExchangeTrade",
    "ExchangeTransaction",
    "FundingPayment",
    "FundingRate",
    "MarkPrice",
    "MarketInfo",
    "OrderBook",
    "PublicTrade",
    "Ticker",
    "TransferStatus",
]

PriceLevel = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Balance:
    """Balance of one currency: ``free + used == total``.

    ``wallet_only``: a stream update that says only the wallet balance (``total``; Binance futures'
    ``ACCOUNT_UPDATE``): ``free`` and ``used`` are then not the venue's (0 and ``total``).
    """

    free: Decimal
    used: Decimal
    total: Decimal
    wallet_only: bool = False


@dataclass(frozen=True, slots=True)
class Ticker:
    """Last ticker of one symbol; optional fields are None when the venue does not send them."""

    symbol: str
    timestamp: int
    last: Decimal | None
    bid: Decimal | None = None
    ask: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    open: Decimal | None = None
    close: Decimal | None = None
    base_volume: Decimal | None = None
    quote_volume: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle; ``timestamp`` is its open time in milliseconds."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """An order-book snapshot: ``bids`` and ``asks`` as ``(price, amount)`` lists, best first."""

    symbol: str
    timestamp: int | None
    bids: list[PriceLevel]
    asks: list[PriceLevel]
    nonce: int | None = None


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A public trade printed on the market."""

    id: str | None
    symbol: str
    side: OrderSide | None
    price: Decimal
    amount: Decimal
    timestamp: int


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    """The venue's view of one order; ``id`` is the exchange's id."""

    id: str
    client_order_id: str | None
    symbol: str
    type: OrderType
    side: OrderSide
    status: OrderStatus
    price: Decimal | None
    amount: Decimal
    filled: Decimal
    remaining: Decimal
    average: Decimal | None
    fee: Decimal | None
    timestamp: int | None
    fee_currency: str | None = None
    trigger_price: Decimal | None = None
    last_update_timestamp: int | None = None


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ExchangeTrade:
    """One fill of one of the account's orders."""

    id: str
    order_id: str | None
    symbol: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal | None
    fee_currency: str | None
    timestamp: int
    taker_or_maker: TradeType | None = None
    #: Contract fills: the gross PnL the fill realized (settle currency) when the venue says.
    realized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExchangePosition:
    """A futures position as reported by the venue.

    ``side`` is ``"long"``, ``"short"`` or ``"both"`` (a flat one-way position: ``contracts`` is
    0). ``hedged`` is True in hedge mode (a long and a short per symbol), False in one-way mode,
    None when the venue does not say. A position with 0 contracts reports a closed one.
    """

    symbol: str
    side: str
    contracts: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    margin_mode: str | None
    liquidation_price: Decimal | None
    timestamp: int | None
    hedged: bool | None = None
    initial_margin: Decimal | None = None
    maintenance_margin: Decimal | None = None
    realized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContractSettings:
    """A contract's settings as the venue holds them (None: the venue did not say).

    ``position_mode_per_account``: True on venues where the position mode is one setting of the
    whole account (Binance's ``dualSidePosition``), not of each symbol.
    """

    symbol: str
    leverage: Decimal | None
    margin_mode: MarginMode | None
    position_mode: PositionMode | None
    position_mode_per_account: bool = False


@dataclass(frozen=True, slots=True)
class FundingRate:
    """Current funding of a perpetual contract."""

    symbol: str
    rate: Decimal
    timestamp: int | None
    next_funding_timestamp: int | None = None
    mark_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """The mark price of a contract (and its index price when the venue sends it)."""

    symbol: str
    mark_price: Decimal
    timestamp: int
    index_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding payment of the account: ``amount`` in ``currency`` (positive: received)."""

    id: str
    symbol: str
    currency: str
    amount: Decimal
    timestamp: int


@dataclass(frozen=True, slots=True)
class ExchangeLiquidation:
    """A position the venue liquidated: ``contracts`` closed at ``price`` (``side``: the position's)."""

    id: str
    symbol: str
    side: str
    contracts: Decimal
    price: Decimal
    timestamp: int
    quote_value: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """A listed market: identity, kind, precision and limits, fee rates."""

    symbol: str
    base: str
    quote: str
    market_type: MarketType
    spec: MarketSpec
    active: bool = True
    settle: str | None = None
    exchange_symbol: str | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    #: Which currency a trading fee is charged in (ccxt ``feeSide``): ``"get"`` (the received one),
    #: ``"give"`` (the spent one), ``"quote"`` or ``"base"``; None when unknown (the simulator:
    #: received currency).
    fee_side: str | None = None


class TransferStatus(StrEnum):
    """Where a deposit, withdrawal or on-chain transaction stands."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class ExchangeTransaction:
    """A deposit to or a withdrawal from the exchange account (``kind``: ``"deposit"`` / ``"withdrawal"``).

    ``amount`` is what was deposited / asked to withdraw; ``fee`` (in ``currency``) is taken from
    a withdrawal's amount. ``id`` is the exchange's id of the transaction (deduplication key).
    """

    id: str
    kind: str
    currency: str
    amount: Decimal
    status: TransferStatus
    timestamp: int | None
    address: str | None = None
    tag: str | None = None
    network: str | None = None
    txid: str | None = None
    fee: Decimal | None = None
    updated: int | None = None


@dataclass(frozen=True, slots=True)
class DepositAddress:
    """Where to send ``currency`` to credit the exchange account."""

    currency: str
    address: str
    tag: str | None = None
    network: str | None = None
