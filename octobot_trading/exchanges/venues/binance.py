"""Binance spot: the reference example of an exchange subclass.

What it shows: capabilities declared as class attributes, venue default ccxt options (kept to
the spot endpoints so loading markets needs no private ``sapi`` call), and a ``fix_*`` hook
repairing a venue quirk on the typed result.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from octobot_trading.enums import MarketType, OrderType
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.exchanges.types import ExchangeOrder

__all__ = ["BinanceExchange"]


class BinanceExchange(RestExchange):
    """Binance (ccxt id ``binance``)."""

    exchange_id: ClassVar[str | None] = "binance"
    supported_order_types: ClassVar[frozenset[OrderType]] = frozenset(
        {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
    )
    max_candles_per_request: ClassVar[int] = 1000
    native_stop_orders: ClassVar[bool] = True
    max_client_order_id_length: ClassVar[int] = 36
    ccxt_options: ClassVar[dict[str, Any]] = {
        "options": {
            "fetchCurrencies": False,
            "fetchMargins": False,
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        }
    }

    @classmethod
    def default_ccxt_options(cls, market_type: MarketType) -> dict[str, Any]:
        """Load only the markets of the traded type (spot, USD-M linear or COIN-M inverse)."""
        options = super().default_ccxt_options(market_type)
        kind = {MarketType.LINEAR: "linear", MarketType.INVERSE: "inverse"}.get(market_type, "spot")
        options["options"]["fetchMarkets"] = {"types": [kind]}
        return options

    def fix_order(self, order: ExchangeOrder) -> ExchangeOrder:
        """Binance reports market orders with price ``0``: use the average fill price instead."""
        if order.type is OrderType.MARKET and (order.price is None or order.price == 0):
            return replace(order, price=order.average)
        return order
