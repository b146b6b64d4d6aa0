"""Exchange layer: connector contract, typed results, builder, manager, registry, exchange classes."""

from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.exchange_classes import get_exchange_class, register_exchange_class
from octobot_trading.exchanges.factory import ExchangeFactory
from octobot_trading.exchanges.manager import Component, ExchangeManager
from octobot_trading.exchanges.protocols import AccountOperations, MarketDataProvider, TradingOperations
from octobot_trading.exchanges.registry import exchanges_registry
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    FundingRate,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)

__all__ = [
    "AccountOperations",
    "Balance",
    "Candle",
    "Component",
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
