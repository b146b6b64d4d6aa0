"""Error types of octobot_trading, grouped by what the caller should do.

Every error raised on purpose by the library derives from :class:`OctoBotTradingError`.
Errors carry ``exchange``, ``symbol`` and ``order_id`` where they apply, and are chained
(``raise ... from exc``) when they translate a lower-level exception (ccxt, sqlite, json).
Secrets never appear in their messages.

The tree::

    OctoBotTradingError
    ├── ConfigurationError                 bad configuration: fix it, do not retry
    │   ├── MoneyTypeError (+ TypeError)   a float was given for money in a configuration
    │   ├── OpenPositionsError             a setting that cannot change while positions are open
    │   └── UnknownExchange                no exchange class / ccxt id with that name
    ├── InvalidNumber (+ ValueError)       not a finite decimal number (NaN, inf, garbage)
    ├── InvalidSymbol (+ ValueError)       not a valid unified symbol string
    ├── DataError                          historical data file unreadable or inconsistent
    │   └── DataFileError                  names the file and the row
    ├── ExchangeError                      anything the exchange (or its connector) reported
    │   ├── NetworkError                   retryable: the request may be sent again
    │   │   ├── RequestTimeout
    │   │   ├── ExchangeUnavailable
    │   │   └── RateLimitExceeded          retryable after a back-off
    │   ├── AuthenticationError            wrong key, bad signature, clock skew: fix credentials
    │   ├── PermissionDenied               the key is valid but not allowed to do that
    │   ├── NotSupported                   the venue / connector cannot do that
    │   ├── UnknownSymbol                  the symbol is not listed on this exchange
    │   ├── BadExchangeResponse            the exchange answered something unparseable
    │   ├── OrderNotFound
    │   ├── InvalidOrder                   refused order (locally or by the exchange); ``limit``
    │   │   └── OrderSafetyError           refused by an order-safety rule; ``rule``
    │   ├── InsufficientFunds
    │   └── AmbiguousOrderOutcome          placement outcome unknown even after lookup
    ├── InvalidOrderState                  invalid order state-machine transition
    ├── PortfolioError
    │   └── PortfolioNegativeBalance       an operation would make a balance negative
    ├── TradingModeError                   a trading mode failed or is misconfigured
    ├── ReadinessTimeout (+ TimeoutError)  the exchange did not become ready; ``missing``
    ├── StorageError                       persistent storage failed or is inconsistent
    ├── SignalError                        trading signals (publisher / follower)
    │   ├── InvalidSignal (+ ValueError)   a malformed or unknown-version signal bundle
    │   └── SignalAuthenticationError      a signal follower presented no or a wrong token
    └── WalletError                        blockchain wallets and transfers
        └── WithdrawalsDisabled            money leaving was not explicitly enabled
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AmbiguousOrderOutcome",
    "AuthenticationError",
    "BadExchangeResponse",
    "ConfigurationError",
    "DataError",
    "DataFileError",
    "ExchangeError",
    "ExchangeUnavailable",
    "InsufficientFunds",
    "InvalidNumber",
    "InvalidOrder",
    "InvalidOrderState",
    "InvalidSignal",
    "InvalidSymbol",
    "MoneyTypeError",
    "NetworkError",
    "NotSupported",
    "OctoBotTradingError",
    "OpenPositionsError",
    "OrderNotFound",
    "OrderSafetyError",
    "PermissionDenied",
    "PortfolioError",
    "PortfolioNegativeBalance",
    "RateLimitExceeded",
    "ReadinessTimeout",
    "RequestTimeout",
    "SignalAuthenticationError",
    "SignalError",
    "StorageError",
    "TradingModeError",
    "UnknownExchange",
    "UnknownSymbol",
    "WalletError",
    "WithdrawalsDisabled",
]


class OctoBotTradingError(Exception):
    """Root of every error raised on purpose by octobot_trading.

    Parameters
    ----------
    message:
        Human-readable description (never containing secrets).
    exchange, symbol, order_id:
        Context, where it applies; shown in ``str()`` after the message.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        exchange: str | None = None,
        symbol: str | None = None,
        order_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.symbol = symbol
        self.order_id = order_id

    def _context(self) -> str:
        parts = [
            f"{name}={value}"
            for name, value in (("exchange", self.exchange), ("symbol", self.symbol), ("order_id", self.order_id))
            if value is not None
        ]
        return f" [{', '.join(parts)}]" if parts else ""

    def __str__(self) -> str:
        return f"{self.message}{self._context()}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[OctoBotTradingError], message: str, state: dict[str, Any]) -> OctoBotTradingError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(OctoBotTradingError):
    """The configuration is invalid; ``field`` names the offending setting when known."""

    def __init__(self, message: str = "", *, field: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.field = field


class MoneyTypeError(ConfigurationError, TypeError):
    """A float was given for a money value inside a configuration."""


class OpenPositionsError(ConfigurationError):
    """A contract setting (margin mode, position mode, leverage) cannot change while positions are open."""


class UnknownExchange(ConfigurationError):
    """No exchange class or ccxt id matches the requested exchange name."""


class InvalidNumber(OctoBotTradingError, ValueError):
    """A value is not a finite decimal number (NaN, infinity, or unparseable text)."""


class InvalidSymbol(OctoBotTradingError, ValueError):
    """A string is not a valid ccxt unified symbol."""


class DataError(OctoBotTradingError):
    """Historical market data is unreadable or inconsistent."""


class DataFileError(DataError):
    """A data file is invalid; ``path``, ``row`` (0-based) and ``column`` (when known) say where."""

    def __init__(
        self, message: str, *, path: str, row: int | None = None, column: str | None = None, **context: Any
    ) -> None:
        where = f"{path}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {message}", **context)
        self.path = path
        self.row = row
        self.column = column


class ExchangeError(OctoBotTradingError):
    """An error reported by an exchange or its connector."""


class NetworkError(ExchangeError):
    """A transport-level failure; the request may be retried.

    ``not_processed`` is True when the venue certainly did not process the request: it refused
    it before processing (429 / 418 rate limits) or the connection could not even be made. An
    order request failing that way was not placed; any other ``NetworkError`` on a placement
    leaves its outcome unknown.
    """

    retryable = True
    not_processed: bool = False


class RequestTimeout(NetworkError):
    """The request timed out; its outcome on the exchange is unknown."""


class ExchangeUnavailable(NetworkError):
    """The exchange is down, in maintenance, or answered with a server error."""


class RateLimitExceeded(NetworkError):
    """The exchange refused the request for exceeding its rate limit; back off, then retry.

    ``retry_after`` is how many seconds the venue asked to wait (its ``Retry-After``), when known.
    """

    retry_after: float | None = None


class AuthenticationError(ExchangeError):
    """Credentials were refused (wrong key, bad signature, timestamp outside the window)."""


class PermissionDenied(ExchangeError):
    """The credentials are valid but not allowed to perform this operation."""


class NotSupported(ExchangeError):
    """The exchange or connector does not support this operation."""


class UnknownSymbol(ExchangeError):
    """The symbol is not listed on this exchange (or not loaded for this market type)."""


class BadExchangeResponse(ExchangeError):
    """The exchange answered with something that cannot be parsed into the library's types."""


class OrderNotFound(ExchangeError):
    """No order with this id exists (on the exchange or locally)."""


class InvalidOrder(ExchangeError):
    """The order is refused; ``limit`` names the market limit or rule that failed, if any."""

    def __init__(self, message: str = "", *, limit: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.limit = limit


class OrderSafetyError(InvalidOrder):
    """The order is refused by an order-safety rule (price protection, exposure limit, ...)."""

    def __init__(self, message: str = "", *, rule: str, **context: Any) -> None:
        super().__init__(message, limit=rule, **context)
        self.rule = rule


class InsufficientFunds(ExchangeError):
    """The account (or sub-portfolio) cannot cover the order."""


class AmbiguousOrderOutcome(ExchangeError):
    """An order was possibly placed but its outcome could not be established.

    The order stays in flight; it must be looked up by ``client_order_id`` later and never
    blindly re-sent.
    """

    def __init__(self, message: str = "", *, client_order_id: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.client_order_id = client_order_id


class InvalidOrderState(OctoBotTradingError):
    """An order state transition that the state machine does not allow."""


class PortfolioError(OctoBotTradingError):
    """A portfolio operation failed."""


class PortfolioNegativeBalance(PortfolioError):
    """An operation would have made a balance negative; nothing was changed."""

    def __init__(self, message: str = "", *, currency: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.currency = currency


class TradingModeError(OctoBotTradingError):
    """A trading mode failed or is misconfigured."""


class ReadinessTimeout(OctoBotTradingError, TimeoutError):
    """The exchange did not become ready in time; ``missing`` lists the topics still waited for."""

    def __init__(self, message: str = "", *, missing: Iterable[str] = (), **context: Any) -> None:
        super().__init__(message, **context)
        self.missing = tuple(missing)


class StorageError(OctoBotTradingError):
    """Persistent storage failed or holds inconsistent data."""


class SignalError(OctoBotTradingError):
    """Trading signals failed (publishing, serving or following)."""


class InvalidSignal(SignalError, ValueError):
    """A signal bundle is malformed or of an unknown wire-format version; nothing was applied."""


class SignalAuthenticationError(SignalError):
    """A signal follower presented no token or a wrong one."""


class WalletError(OctoBotTradingError):
    """A blockchain wallet or transfer operation failed."""


class WithdrawalsDisabled(WalletError):
    """A withdrawal was refused because withdrawals are not explicitly enabled; nothing was sent."""
