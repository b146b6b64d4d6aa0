"""Domain enumerations (all ``StrEnum``) and parsers from ccxt's strings."""

from __future__ import annotations

from enum import StrEnum

from octobot_trading.errors import BadExchangeResponse, ConfigurationError

__all__ = [
    "MarginMode",
    "MarketType",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionMode",
    "PositionSide",
    "PrecisionMode",
    "TimeFrame",
    "TradeType",
    "TraderType",
    "TransactionType",
    "parse_order_side",
    "parse_order_status",
    "parse_order_type",
]


class OrderType(StrEnum):
    """Order types; one class per type in ``personal_data.orders``, never one per side."""

    MARKET = "market"
    LIMIT = "limit"
    STOP_LOSS = "stop_loss"
    STOP_LOSS_LIMIT = "stop_loss_limit"
    TAKE_PROFIT = "take_profit"
    TAKE_PROFIT_LIMIT = "take_profit_limit"
    TRAILING_STOP = "trailing_stop"
    TRAILING_STOP_LIMIT = "trailing_stop_limit"

    @property
    def is_limit_priced(self) -> bool:
        """True when the order rests at a limit price once active."""
        return self in (
            OrderType.LIMIT,
            OrderType.STOP_LOSS_LIMIT,
            OrderType.TAKE_PROFIT_LIMIT,
            OrderType.TRAILING_STOP_LIMIT,
        )

    @property
    def is_triggered(self) -> bool:
        """True for stop / take-profit / trailing orders that wait for a trigger price."""
        return self not in (OrderType.MARKET, OrderType.LIMIT)


class OrderSide(StrEnum):
    """Side of an order or a fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> OrderSide:
        """The other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderStatus(StrEnum):
    """Order lifecycle states (see the order state machine in ``personal_data.orders``)."""

    PENDING_CREATION = "pending_creation"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CLOSED = "closed"
    CANCELING = "canceling"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        """True when no further transition is possible."""
        return self in (OrderStatus.CLOSED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


class TradeType(StrEnum):
    """Role of a fill in the book: maker (provided liquidity) or taker (took it)."""

    MAKER = "maker"
    TAKER = "taker"


class MarketType(StrEnum):
    """Kind of market an exchange manager trades."""

    SPOT = "spot"
    MARGIN = "margin"
    LINEAR = "linear"
    INVERSE = "inverse"
    OPTION = "option"

    @property
    def is_future(self) -> bool:
        """True for derivatives with positions (linear and inverse contracts)."""
        return self in (MarketType.LINEAR, MarketType.INVERSE)


class PositionSide(StrEnum):
    """Side of a futures position (BOTH in one-way mode)."""

    LONG = "long"
    SHORT = "short"
    BOTH = "both"


class PositionMode(StrEnum):
    """How a futures account holds positions of one contract: one net position, or a long and a short."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class MarginMode(StrEnum):
    """Margin mode of a futures position."""

    CROSS = "cross"
    ISOLATED = "isolated"


class TransactionType(StrEnum):
    """Kinds of recorded account transactions."""

    TRADING_FEE = "trading_fee"
    FUNDING_FEE = "funding_fee"
    REALISED_PNL = "realised_pnl"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    #: A position the venue liquidated (live futures; amount: the margin lost when known, else 0).
    LIQUIDATION = "liquidation"


class TraderType(StrEnum):
    """Whether orders go to a real exchange or to the simulator."""

    REAL = "real"
    SIMULATED = "simulated"


class PrecisionMode(StrEnum):
    """How a market states its precision (ccxt's precisionMode)."""

    TICK_SIZE = "tick_size"
    DECIMAL_PLACES = "decimal_places"
    SIGNIFICANT_DIGITS = "significant_digits"


_MINUTE_MS = 60_000


class TimeFrame(StrEnum):
    """Candle time frames, with their length in milliseconds (``TimeFrame.H1.ms``)."""

    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H2 = "2h"
    H4 = "4h"
    H6 = "6h"
    H8 = "8h"
    H12 = "12h"
    D1 = "1d"
    D3 = "3d"
    W1 = "1w"
    MO1 = "1M"

    @property
    def ms(self) -> int:
        """Length of one candle in milliseconds (a month counts as 30 days)."""
        return _TIME_FRAME_MS[self]

    @property
    def seconds(self) -> int:
        """Length of one candle in seconds."""
        return self.ms // 1000

    @classmethod
    def parse(cls, value: str | TimeFrame) -> TimeFrame:
        """Return the time frame named ``value`` or raise ``ConfigurationError``."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(tf.value for tf in cls)
            raise ConfigurationError(
                f"unknown time frame {value!r}; expected one of {valid}", field="time_frame"
            ) from None


_TIME_FRAME_MS: dict[TimeFrame, int] = {
    TimeFrame.M1: _MINUTE_MS,
    TimeFrame.M3: 3 * _MINUTE_MS,
    TimeFrame.M5: 5 * _MINUTE_MS,
    TimeFrame.M15: 15 * _MINUTE_MS,
    TimeFrame.M30: 30 * _MINUTE_MS,
    TimeFrame.H1: 60 * _MINUTE_MS,
    TimeFrame.H2: 120 * _MINUTE_MS,
    TimeFrame.H4: 240 * _MINUTE_MS,
    TimeFrame.H6: 360 * _MINUTE_MS,
    TimeFrame.H8: 480 * _MINUTE_MS,
    TimeFrame.H12: 720 * _MINUTE_MS,
    TimeFrame.D1: 1440 * _MINUTE_MS,
    TimeFrame.D3: 3 * 1440 * _MINUTE_MS,
    TimeFrame.W1: 7 * 1440 * _MINUTE_MS,
    TimeFrame.MO1: 30 * 1440 * _MINUTE_MS,
}

_CCXT_ORDER_TYPES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "limit_maker": OrderType.LIMIT,
    "stop": OrderType.STOP_LOSS,
    "stop_market": OrderType.STOP_LOSS,
    "stop_loss": OrderType.STOP_LOSS,
    "stop_limit": OrderType.STOP_LOSS_LIMIT,
    "stop_loss_limit": OrderType.STOP_LOSS_LIMIT,
    "take_profit": OrderType.TAKE_PROFIT,
    "take_profit_market": OrderType.TAKE_PROFIT,
    "take_profit_limit": OrderType.TAKE_PROFIT_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP,
    "trailing_stop_market": OrderType.TRAILING_STOP,
    "trailing_stop_limit": OrderType.TRAILING_STOP_LIMIT,
}

_CCXT_ORDER_STATUSES: dict[str, OrderStatus] = {
    "open": OrderStatus.OPEN,
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    # In ccxt "closed" means completely filled.
    "closed": OrderStatus.FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def _normalize(value: object) -> str:
    if not isinstance(value, str):
        raise BadExchangeResponse(f"expected a string, got {type(value).__name__}: {value!r}")
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def parse_order_type(value: object) -> OrderType:
    """Turn a ccxt order type string (``"limit"``, ``"stop_loss_limit"``, ...) into an ``OrderType``.

    Raises ``BadExchangeResponse`` for unknown values instead of guessing.
    """
    key = _normalize(value)
    try:
        return _CCXT_ORDER_TYPES[key]
    except KeyError:
        raise BadExchangeResponse(f"unknown order type {value!r}") from None


def parse_order_status(value: object) -> OrderStatus:
    """Turn a ccxt order status string into an ``OrderStatus`` (ccxt ``"closed"`` is FILLED).

    Raises ``BadExchangeResponse`` for unknown values instead of guessing.
    """
    key = _normalize(value)
    try:
        return _CCXT_ORDER_STATUSES[key]
    except KeyError:
        raise BadExchangeResponse(f"unknown order status {value!r}") from None


def parse_order_side(value: object) -> OrderSide:
    """Turn ``"buy"`` / ``"sell"`` (any case) into an ``OrderSide``; anything else is an error."""
    key = _normalize(value)
    try:
        return OrderSide(key)
    except ValueError:
        raise BadExchangeResponse(f"unknown order side {value!r}") from None
