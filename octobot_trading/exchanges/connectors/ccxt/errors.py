"""The one boundary where ccxt exceptions become :mod:`octobot_trading.errors` types.

=================================================  ==========================================
ccxt exception                                     octobot_trading error
=================================================  ==========================================
``InvalidNonce`` (timestamp outside recvWindow)    ``AuthenticationError`` (clock skew)
``DDoSProtection``, ``RateLimitExceeded``          ``RateLimitExceeded`` (retryable)
``RequestTimeout``                                 ``RequestTimeout`` (retryable)
``ExchangeNotAvailable``, ``OnMaintenance``        ``ExchangeUnavailable`` (retryable)
other ``NetworkError``                             ``NetworkError`` (retryable)
``PermissionDenied``, ``AccountNotEnabled``        ``PermissionDenied``
``AuthenticationError``, ``AccountSuspended``      ``AuthenticationError``
``InsufficientFunds``                              ``InsufficientFunds``
``OrderNotFound``, ``OrderNotCached``              ``OrderNotFound``
``InvalidOrder`` (and subclasses)                  ``InvalidOrder``
``BadSymbol``                                      ``UnknownSymbol``
``BadRequest`` while placing an order              ``InvalidOrder``
Binance -2022 / -4061 while placing an order       ``InvalidOrder`` (``limit``: reduce_only / position_side)
``NotSupported``                                   ``NotSupported``
``BadResponse``, ``NullResponse``                  ``BadExchangeResponse``
other ``OperationFailed`` (e.g. Binance -1001)     ``ExchangeUnavailable`` (retryable)
``ExchangeError`` caused by an aiohttp error        ``NetworkError`` (the reply was lost in transit)
anything else from ccxt                            ``ExchangeError``
=================================================  ==========================================

Messages go through the log redactor, so a registered secret never appears in them.
"""

from __future__ import annotations

import aiohttp
import ccxt

from octobot_trading import errors
from octobot_trading.util.logging import redact

__all__ = ["map_ccxt_error"]

_TABLE: tuple[tuple[type[BaseException], type[errors.ExchangeError]], ...] = (
    (ccxt.InvalidNonce, errors.AuthenticationError),
    (ccxt.DDoSProtection, errors.RateLimitExceeded),
    (ccxt.RateLimitExceeded, errors.RateLimitExceeded),
    (ccxt.RequestTimeout, errors.RequestTimeout),
    (ccxt.ExchangeNotAvailable, errors.ExchangeUnavailable),
    (ccxt.NetworkError, errors.NetworkError),
    (ccxt.PermissionDenied, errors.PermissionDenied),
    (ccxt.AuthenticationError, errors.AuthenticationError),
    (ccxt.InsufficientFunds, errors.InsufficientFunds),
    (ccxt.OrderNotFound, errors.OrderNotFound),
    (ccxt.OrderNotCached, errors.OrderNotFound),
    (ccxt.InvalidOrder, errors.InvalidOrder),
    (ccxt.BadSymbol, errors.UnknownSymbol),
    (ccxt.NotSupported, errors.NotSupported),
    (ccxt.BadResponse, errors.BadExchangeResponse),
    (ccxt.OperationFailed, errors.ExchangeUnavailable),
)

#: Venue messages naming the market limit an order broke (Binance filter names, and the futures
#: refusals: -2022 "ReduceOnly Order is rejected", -4061 "Order's position side does not match").
_FILTER_LIMITS = (
    ("NOTIONAL", "min_cost"),
    ("LOT_SIZE", "amount_step"),
    ("PRICE_FILTER", "price_tick"),
    ("-2022", "reduce_only"),
    ("ReduceOnly", "reduce_only"),
    ("-4061", "position_side"),
)
#: Venue codes refusing an order that ccxt reports as a generic exchange error.
_REFUSED_ORDER_CODES = ("-2022", "-4061")


def map_ccxt_error(
    exc: BaseException,
    *,
    exchange: str | None = None,
    symbol: str | None = None,
    order_id: str | None = None,
    placing_order: bool = False,
) -> errors.ExchangeError:
    """Return the library error for a ccxt exception (the caller raises it ``from exc``).

    Parameters
    ----------
    exc:
        The exception raised by ccxt.
    exchange, symbol, order_id:
        Context attached to the error.
    placing_order:
        True while creating an order: a generic ``BadRequest`` then means a refused order.
    """
    message = redact(f"{type(exc).__name__}: {exc}")
    target: type[errors.ExchangeError] = errors.ExchangeError
    for ccxt_type, ours in _TABLE:
        if isinstance(exc, ccxt_type):
            target = ours
            break
    else:
        if isinstance(exc.__cause__, aiohttp.ClientError):
            target = errors.NetworkError  # e.g. a reply cut mid-body: its outcome is unknown
        elif placing_order and (isinstance(exc, ccxt.BadRequest) or any(c in message for c in _REFUSED_ORDER_CODES)):
            target = errors.InvalidOrder
    if issubclass(target, errors.InvalidOrder):
        limit = next((name for marker, name in _FILTER_LIMITS if marker in message), None)
        return target(message, exchange=exchange, symbol=symbol, order_id=order_id, limit=limit)
    return target(message, exchange=exchange, symbol=symbol, order_id=order_id)
