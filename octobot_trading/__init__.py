"""octobot_trading: an async trading-engine library.

Exchange connectivity through ccxt, market-data pipelines, the order lifecycle, portfolio
accounting, a producer/consumer trading-mode framework and a simulator so that the same
trading-mode code runs live, on paper and in backtests. Start with ``ot.ExchangeBuilder``
(see README.md and docs/).

Light names are imported eagerly; heavy subsystems (anything touching ccxt, the exchange
manager, the trading core, backtesting) load on first attribute access so that
``import octobot_trading`` and the CLI's ``--help`` stay fast. Type checkers see every lazy
name with its real type through the ``if TYPE_CHECKING:`` imports below, which mirror
``_LAZY`` and ``_LAZY_MODULES`` exactly (a test keeps them in step).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from octobot_trading import errors
from octobot_trading.clock import Clock, LiveClock, SimulatedClock
from octobot_trading.enums import (
    MarginMode,
    MarketType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
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
from octobot_trading.util.contract_spec import ContractSpec, MarginTier
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import Symbol, parse_symbol

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (see __getattr__).
_LAZY: dict[str, str] = {
    # exchange layer
    "AccountOperations": "octobot_trading.exchanges.protocols",
    "ExchangeBuilder": "octobot_trading.exchanges.builder",
    "ExchangeFactory": "octobot_trading.exchanges.factory",
    "ExchangeManager": "octobot_trading.exchanges.manager",
    "MarketDataProvider": "octobot_trading.exchanges.protocols",
    "RestExchange": "octobot_trading.exchanges.rest_exchange",
    "TradingOperations": "octobot_trading.exchanges.protocols",
    "exchanges_registry": "octobot_trading.exchanges.registry",
    # trading core
    "Order": "octobot_trading.personal_data.orders.order",
    "OrderGroup": "octobot_trading.personal_data.orders.groups",
    "Position": "octobot_trading.personal_data.positions.position",
    "Trader": "octobot_trading.personal_data.trader",
}

# Public sub-packages reachable as attributes (``ot.backtesting``, ``ot.modes``, ...).
_LAZY_MODULES = frozenset(
    {
        "backtesting",
        "config",
        "exchange_data",
        "exchanges",
        "modes",
        "personal_data",
        "signals",
        "storage",
        "testing",
        "util",
        "wallets",
    }
)

if TYPE_CHECKING:
    # What type checkers see; at run time these load on first access (see __getattr__).
    from octobot_trading import backtesting as backtesting
    from octobot_trading import config as config
    from octobot_trading import exchange_data as exchange_data
    from octobot_trading import exchanges as exchanges
    from octobot_trading import modes as modes
    from octobot_trading import personal_data as personal_data
    from octobot_trading import signals as signals
    from octobot_trading import storage as storage
    from octobot_trading import testing as testing
    from octobot_trading import util as util
    from octobot_trading import wallets as wallets
    from octobot_trading.exchanges.builder import ExchangeBuilder as ExchangeBuilder
    from octobot_trading.exchanges.factory import ExchangeFactory as ExchangeFactory
    from octobot_trading.exchanges.manager import ExchangeManager as ExchangeManager
    from octobot_trading.exchanges.protocols import AccountOperations as AccountOperations
    from octobot_trading.exchanges.protocols import MarketDataProvider as MarketDataProvider
    from octobot_trading.exchanges.protocols import TradingOperations as TradingOperations
    from octobot_trading.exchanges.registry import exchanges_registry as exchanges_registry
    from octobot_trading.exchanges.rest_exchange import RestExchange as RestExchange
    from octobot_trading.personal_data.orders.groups import OrderGroup as OrderGroup
    from octobot_trading.personal_data.orders.order import Order as Order
    from octobot_trading.personal_data.positions.position import Position as Position
    from octobot_trading.personal_data.trader import Trader as Trader

__all__ = [
    "AccountOperations",
    "Balance",
    "Candle",
    "Clock",
    "ContractSpec",
    "ExchangeBuilder",
    "ExchangeFactory",
    "ExchangeManager",
    "ExchangeOrder",
    "ExchangeTrade",
    "Fees",
    "LiveClock",
    "MarginMode",
    "MarginTier",
    "MarketDataProvider",
    "MarketSpec",
    "MarketType",
    "Order",
    "OrderBook",
    "OrderGroup",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionMode",
    "PositionSide",
    "PrecisionMode",
    "RestExchange",
    "SimulatedClock",
    "Symbol",
    "Ticker",
    "TimeFrame",
    "TradeType",
    "Trader",
    "TraderType",
    "TradingOperations",
    "TransactionType",
    "__version__",
    "backtesting",
    "errors",
    "exchanges_registry",
    "modes",
    "parse_order_status",
    "parse_order_type",
    "parse_symbol",
    "signals",
    "to_decimal",
    "wallets",
]


if not TYPE_CHECKING:
    # Hidden from type checkers: a module-level __getattr__ would make mypy type every unknown
    # (misspelled) name as Any instead of reporting it.
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
