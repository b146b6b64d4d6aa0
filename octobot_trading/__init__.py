"""octobot_trading: an async trading-engine library.

Exchange connectivity through ccxt, market-data pipelines, the order lifecycle, portfolio
accounting, a producer/consumer trading-mode framework and a simulator so that the same
trading-mode code runs live, on paper and in backtests. Start with ``ot.ExchangeBuilder``
(see README.md and docs/).

Light names are imported eagerly; heavy subsystems (anything touching ccxt, the exchange
manager, backtesting) load on first attribute access so that ``import octobot_trading`` and the
CLI's ``--help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from octobot_trading import errors
from octobot_trading.clock import Clock, LiveClock, SimulatedClock
from octobot_trading.enums import (
    MarginMode,
    MarketType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    PrecisionMode,
    TimeFrame,
    TraderType,
    TradeType,
    TransactionType,
    parse_order_status,
    parse_order_type,
)
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangeTrade,
    OrderBook,
    Ticker,
)
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import Symbol, parse_symbol

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (see __getattr__).
_LAZY: dict[str, str] = {
    "AccountOperations": "octobot_trading.exchanges.protocols",
    "ExchangeBuilder": "octobot_trading.exchanges.builder",
    "ExchangeFactory": "octobot_trading.exchanges.factory",
    "ExchangeManager": "octobot_trading.exchanges.manager",
    "MarketDataProvider": "octobot_trading.exchanges.protocols",
    "RestExchange": "octobot_trading.exchanges.rest_exchange",
    "TradingOperations": "octobot_trading.exchanges.protocols",
    "exchanges_registry": "octobot_trading.exchanges.registry",
    # trading core (issue 5)
    "Order": "octobot_trading.personal_data.orders.order",
}

# Sub-packages reachable as attributes (``ot.backtesting``, ``ot.modes``, ...).
_LAZY_MODULES = {"backtesting", "modes", "exchanges", "exchange_data", "personal_data", "storage", "testing",
                 "util", "config", "wiring"}

__all__ = [
    "AccountOperations",
    "Balance",
    "Candle",
    "Clock",
    "ExchangeBuilder",
    "ExchangeFactory",
    "ExchangeManager",
    "ExchangeOrder",
    "ExchangeTrade",
    "Fees",
    "LiveClock",
    "MarginMode",
    "MarketDataProvider",
    "MarketSpec",
    "MarketType",
    "Order",
    "OrderBook",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionSide",
    "PrecisionMode",
    "RestExchange",
    "SimulatedClock",
    "Symbol",
    "Ticker",
    "TimeFrame",
    "TradeType",
    "TraderType",
    "TradingOperations",
    "TransactionType",
    "__version__",
    "errors",
    "exchanges_registry",
    "parse_order_status",
    "parse_order_type",
    "parse_symbol",
    "to_decimal",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"octobot_trading.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'octobot_trading' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_LAZY) | _LAZY_MODULES)
