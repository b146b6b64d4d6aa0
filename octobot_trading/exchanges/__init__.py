"""Exchange layer: the connector contract, typed results, and (later) builder, manager, registry."""

from octobot_trading.exchanges.connector import ExchangeConnector
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
    "Balance",
    "Candle",
    "ExchangeConnector",
    "ExchangeOrder",
    "ExchangePosition",
    "ExchangeTrade",
    "FundingRate",
    "MarketInfo",
    "OrderBook",
    "PublicTrade",
    "Ticker",
]
