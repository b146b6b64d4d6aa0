"""Order placement over ccxt: building the request and settling what a failed placement did.

Plain helpers used by :meth:`CCXTConnector.create_order
<octobot_trading.exchanges.connectors.ccxt.connector.CCXTConnector.create_order>`:

* :func:`build_venue_order` checks and adapts an order to its market (amount down to the step,
  price to the tick in the safe direction, the market limits) and builds ccxt's ``create_order``
  arguments (:class:`VenueOrder`); :func:`order_request` maps a library order type (and trigger
  price) to ccxt's order type and extra parameters; :data:`LOCAL_ONLY_PARAMS` are never sent.
* :func:`never_sent` and :func:`is_clock_skew` classify a mapped library error by the ccxt /
  transport exception it was chained from.
* :func:`resolve_ambiguous` looks an order up by its client order id after an ambiguous failure
  (twice, a backoff apart) and raises ``AmbiguousOrderOutcome`` when it cannot be found.
* :func:`parse_placed_order` reads the venue's reply to an accepted order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import (
    AmbiguousOrderOutcome,
    BadExchangeResponse,
    InvalidOrder,
    NetworkError,
    NotSupported,
    OctoBotTradingError,
)
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.exchanges.types import ExchangeOrder, MarketInfo
from octobot_trading.util.decimals import decimal_to_str, to_decimal
from octobot_trading.util.logging import get_logger

__all__ = [
    "LOCAL_ONLY_PARAMS",
    "VenueOrder",
    "build_venue_order",
    "is_clock_skew",
    "never_sent",
    "order_request",
    "parse_placed_order",
    "resolve_ambiguous",
]

#: Order parameters that only mean something to the local simulator: never sent to a venue.
LOCAL_ONLY_PARAMS = frozenset({"shares_funds_with"})


def order_request(order_type: OrderType, trigger_price: Decimal | None, exchange: str) -> tuple[str, dict[str, Any]]:
    """ccxt's order type and the extra request parameters of ``order_type`` on ``exchange``."""
    if order_type is OrderType.MARKET:
        return "market", {}
    if order_type is OrderType.LIMIT:
        return "limit", {}
    if order_type.value.startswith("trailing"):
        raise NotSupported(f"{order_type.value} orders are not supported by {exchange}", exchange=exchange)
    if trigger_price is None:
        raise InvalidOrder(f"{order_type.value} needs a trigger_price", limit="trigger_price", exchange=exchange)
    key = "stopLossPrice" if order_type.value.startswith("stop_loss") else "takeProfitPrice"
    return ("limit" if order_type.is_limit_priced else "market"), {key: decimal_to_str(trigger_price)}


@dataclass(frozen=True)
class VenueOrder:
    """The arguments of ccxt's ``create_order`` for one adapted order (amounts and prices as text)."""

    ccxt_type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any]


def build_venue_order(
    info: MarketInfo,
    order_type: OrderType | str,
    side: OrderSide | str,
    symbol: str,
    amount: Decimal,
    price: Decimal | None,
    client_order_id: str,
    trigger_price: Decimal | None,
    params: dict[str, Any] | None,
    exchange: str,
) -> VenueOrder:
    """Check and adapt an order to ``info``; ``InvalidOrder`` naming the limit when it breaks one."""
    order_type, side = OrderType(order_type), OrderSide(side)
    if not client_order_id:
        raise InvalidOrder("every order needs a client_order_id", limit="client_order_id", symbol=symbol)
    qty = info.spec.adapt_quantity(to_decimal(amount, name="amount"))
    px: Decimal | None = None
    if price is not None:
        px = info.spec.adapt_price(to_decimal(price, name="price"), side)
    elif order_type.is_limit_priced:
        raise InvalidOrder(f"a {order_type.value} order needs a price", limit="price", symbol=symbol)
    trigger = to_decimal(trigger_price, name="trigger_price") if trigger_price is not None else None
    info.spec.check_limits(qty, px, reduce_only=bool((params or {}).get("reduceOnly")))
    ccxt_type, extra = order_request(order_type, trigger, exchange)
    venue_params = {k: v for k, v in (params or {}).items() if k not in LOCAL_ONLY_PARAMS}
    request = {**venue_params, **extra, "clientOrderId": client_order_id}
    price_text = decimal_to_str(px) if px is not None and ccxt_type == "limit" else None
    return VenueOrder(ccxt_type, side.value, decimal_to_str(qty), price_text, request)


def _transport_cause(error: BaseException) -> BaseException | None:
    """The aiohttp / asyncio exception ccxt chained a transport failure from (None: an HTTP reply)."""
    ccxt_error = error.__cause__
    return ccxt_error.__cause__ if ccxt_error is not None else None


def is_clock_skew(error: BaseException) -> bool:
    """True for a refusal of the request's timestamp (ccxt ``InvalidNonce``, e.g. Binance -1021)."""
    return isinstance(error.__cause__, ccxt.InvalidNonce)


def never_sent(error: BaseException) -> bool:
    """True when the connection to the exchange could not even be made."""
    return isinstance(_transport_cause(error), aiohttp.ClientConnectorError)


async def resolve_ambiguous(
    lookup: Callable[[str, str], Awaitable[ExchangeOrder | None]],
    client_order_id: str,
    symbol: str,
    error: NetworkError,
    exchange: str,
    clock: Clock,
    retry_policy: RetryPolicy,
) -> ExchangeOrder:
    """The order found by ``lookup(client_order_id, symbol)`` after ``error``; else ``AmbiguousOrderOutcome``."""
    log = get_logger(f"octobot_trading.exchanges.ccxt.{exchange}")  # the connector's own logger
    log.warning("order %s on %s: outcome unknown (%s), looking it up", client_order_id, symbol, type(error).__name__)
    for attempt in range(2):
        try:
            found = await lookup(client_order_id, symbol)
        except OctoBotTradingError as lookup_error:
            raise AmbiguousOrderOutcome(
                f"order {client_order_id} may have been placed: {error}; lookup failed: {lookup_error}",
                client_order_id=client_order_id,
                exchange=exchange,
                symbol=symbol,
            ) from lookup_error
        if found is not None:
            return found
        if attempt == 0:
            await clock.sleep(retry_policy.delay(1, error))
    # a 5xx is no refusal: the venue may have processed (or still process) the request
    raise AmbiguousOrderOutcome(
        f"order {client_order_id} not found after {type(error).__name__}; the request may still be "
        "processed by the exchange: look it up by client order id later",
        client_order_id=client_order_id,
        exchange=exchange,
        symbol=symbol,
    ) from error


def parse_placed_order(
    adapter: CCXTAdapter, raw: Any, client_order_id: str, *, exchange: str, symbol: str
) -> ExchangeOrder:
    """The accepted order read from ``raw``, carrying ``client_order_id`` even when the venue omits it.

    An unreadable reply raises ``AmbiguousOrderOutcome``: the order was accepted and is in flight.
    """
    try:
        order = adapter.parse_order(raw)
    except BadExchangeResponse as exc:
        raise AmbiguousOrderOutcome(
            f"order {client_order_id} was accepted but its reply is unreadable: {exc}",
            client_order_id=client_order_id,
            exchange=exchange,
            symbol=symbol,
        ) from exc
    if order.client_order_id is None:
        order = replace(order, client_order_id=client_order_id)
    return order
