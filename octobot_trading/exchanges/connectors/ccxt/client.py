"""Creation of the ccxt clients from an :class:`~octobot_trading.config.ExchangeConfig`.

:func:`create_ccxt_client` builds the ``ccxt.async_support`` client used for REST (a subclass with
``number = str`` and order-book levels parsed from text, so no number goes through a float) or,
with ``pro=True``, the plain ``ccxt.pro`` client of the websocket feeds. Credentials come from
``SecretStr``; the market type becomes ccxt's ``defaultType``; ``ccxt_options`` are deep-merged;
sandbox mode and then the client hook are applied before any request. Every reply of the client
is screened for absurd numbers before ccxt parses it (:mod:`.screening`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.errors import ConfigurationError, UnknownExchange
from octobot_trading.exchanges.connectors.ccxt.screening import install_screening
from octobot_trading.exchanges.rate_limit import VenueRateGate, parse_retry_after
from octobot_trading.util.logging import redactor

__all__ = ["ClientHook", "create_ccxt_client", "feed_rate_gate"]

ClientHook = Callable[[Any], None]

_DEFAULT_TYPES = {
    MarketType.SPOT: ("spot", None),
    MarketType.MARGIN: ("margin", None),
    MarketType.LINEAR: ("swap", "linear"),
    MarketType.INVERSE: ("swap", "inverse"),
    MarketType.OPTION: ("option", None),
}


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _exact_client_class(base: type) -> type:
    """A subclass of a ccxt class whose order-book levels are Decimals parsed from text."""

    class _ExactClient(base):
        number = str

        def parse_order_book_bid_ask(
            self, bidask: Any, priceKey: Any = 0, amountKey: Any = 1, countOrIdKey: Any = 2
        ) -> list[Any]:
            price = self.safe_string(bidask, priceKey)
            amount = self.safe_string(bidask, amountKey)
            if price is None or amount is None:
                raise ccxt.BadResponse(f"{self.id} order book level without price or amount: {bidask!r}")
            return [Decimal(price), Decimal(amount)]

    _ExactClient.__name__ = f"Exact{base.__name__}"
    return _ExactClient


def create_ccxt_client(config: ExchangeConfig, client_hook: ClientHook | None = None, *, pro: bool = False) -> Any:
    """Create the ``ccxt.async_support`` client described by ``config`` (no request is sent).

    ``pro=True`` creates the plain ``ccxt.pro`` class instead (websocket feeds). Raises
    ``UnknownExchange`` for an unknown ccxt id and ``ConfigurationError`` when sandbox mode is
    asked of a venue without one or the client hook fails.
    """
    module = ccxt_pro if pro else ccxt_async
    base = getattr(module, config.exchange, None)
    if config.exchange not in module.exchanges or not isinstance(base, type):
        raise UnknownExchange(f"unknown ccxt exchange id {config.exchange!r}", field="exchange")
    default_type, sub_type = _DEFAULT_TYPES[config.market_type]
    options: dict[str, Any] = {"defaultType": default_type}
    if sub_type:
        options["defaultSubType"] = sub_type
    params: dict[str, Any] = {"enableRateLimit": True, "options": options}
    _deep_merge(params, config.ccxt_options)
    if config.api_key is not None:
        params["apiKey"] = config.api_key.get_secret_value()
    if config.api_secret is not None:
        params["secret"] = config.api_secret.get_secret_value()
    if config.password is not None:
        params["password"] = config.password.get_secret_value()
    client = (base if pro else _exact_client_class(base))(params)
    install_screening(client)  # no reply number may stall ccxt's own arithmetic
    # ccxt logs request headers (the API key) at DEBUG on its own logger: mask secrets there too
    ccxt_logger = getattr(client, "logger", None)
    if isinstance(ccxt_logger, logging.Logger) and redactor not in ccxt_logger.filters:
        ccxt_logger.addFilter(redactor)
    try:
        if config.sandboxed:
            client.set_sandbox_mode(True)
        if client_hook is not None:
            client_hook(client)
    except ccxt.NotSupported as exc:
        raise ConfigurationError(f"{config.exchange} has no sandbox", field="sandboxed") from exc
    except Exception as exc:
        raise ConfigurationError(f"client hook failed: {type(exc).__name__}: {exc}", field="client_hook") from exc
    return client


def feed_rate_gate(client: Any, gate: VenueRateGate, clock: Clock) -> None:
    """Report every 429 / 418 answer of ``client``'s HTTP requests (and its ``Retry-After``) to
    the venue's shared ``gate`` (REST clients and the ``ccxt.pro`` clients of the streams)."""
    original = client.on_rest_response

    def on_rest_response(
        code: Any,
        reason: Any,
        url: Any,
        method: Any,
        headers: Any,
        body: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        if code in (418, 429):
            gate.note(int(code), parse_retry_after(headers), clock.now_ms())
        return original(code, reason, url, method, headers, body, request_headers, request_body)

    client.on_rest_response = on_rest_response
