"""Exchange layer: connector contract, typed results, builder, manager, registry, exchange classes.

The contract and the typed results are imported eagerly (they are light); the builder, the
manager, ``RestExchange``, the factory and the exchange-class registry load on first attribute
access, so that importing this package (which ``import octobot_trading`` does for the result
types) does not load the whole engine. Type checkers see every lazy name with its real type
through the ``if TYPE_CHECKING:`` imports, which mirror ``_LAZY`` (a test keeps them in step).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.protocols import AccountOperations, MarketDataProvider, TradingOperations
from octobot_trading.exchanges.registry import exchanges_registry
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ContractSettings,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    FundingRate,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)

# name -> module that defines it; resolved on first access (see __getattr__).
_LAZY: dict[str, str] = {
    "Component": "octobot_trading.exchanges.manager",
    "ExchangeBuilder": "octobot_trading.exchanges.builder",
    "ExchangeFactory": "octobot_trading.exchanges.factory",
    "ExchangeManager": "octobot_trading.exchanges.manager",
    "RestExchange": "octobot_trading.exchanges.rest_exchange",
    "get_exchange_class": "octobot_trading.exchanges.exchange_classes",
    "register_exchange_class": "octobot_trading.exchanges.exchange_classes",
}

if TYPE_CHECKING:
    from octobot_trading.exchanges.builder import ExchangeBuilder as ExchangeBuilder
    from octobot_trading.exchanges.exchange_classes import get_exchange_class as get_exchange_class
    from octobot_trading.exchanges.exchange_classes import register_exchange_class as register_exchange_class
    from octobot_trading.exchanges.factory import ExchangeFactory as ExchangeFactory
    from octobot_trading.exchanges.manager import Component as Component
    from octobot_trading.exchanges.manager import ExchangeManager as ExchangeManager
    from octobot_trading.exchanges.rest_exchange import RestExchange as RestExchange

__all__ = [
    "AccountOperations",
    "Balance",
    "Candle",
    "Component",
    "ContractSettings",
    "ExchangeBuilder",
    "ExchangeConnector",
    "ExchangeFactory",
    "ExchangeManager",
    "ExchangeOrder",
    "ExchangePosition",
    "ExchangeTrade",
    "FundingRate",
    "MarketDataProvider",
    "MarketInfo",
    "OrderBook",
    "PublicTrade",
    "RestExchange",
    "Ticker",
    "TradingOperations",
    "exchanges_registry",
    "get_exchange_class",
    "register_exchange_class",
]

if not TYPE_CHECKING:
    # Hidden from type checkers, so that a misspelled name is an error rather than Any.
    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(importlib.import_module(_LAZY[name]), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'octobot_trading.exchanges' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_LAZY))
