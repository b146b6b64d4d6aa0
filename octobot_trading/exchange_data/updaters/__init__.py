"""Updaters feeding the market-data hub: REST pollers and websocket watchers (one interface)."""

from octobot_trading.exchange_data.updaters.base import MarketDataUpdater, polling_period
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
    RestTradesUpdater,
)

__all__ = [
    "MarketDataUpdater",
    "RestCandlesUpdater",
    "RestFundingUpdater",
    "RestOrderBookUpdater",
    "RestTickerUpdater",
    "RestTradesUpdater",
    "polling_period",
]
