"""Updaters feeding the market-data hub: REST pollers and websocket watchers (one interface)."""

from octobot_trading.exchange_data.updaters.base import MarketDataUpdater, polling_period
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
    RestTradesUpdater,
)
from octobot_trading.exchange_data.updaters.ws import WebsocketUpdater, websocket_updaters

__all__ = [
    "MarketDataUpdater",
    "RestCandlesUpdater",
    "RestFundingUpdater",
    "RestOrderBookUpdater",
    "RestTickerUpdater",
    "RestTradesUpdater",
    "WebsocketUpdater",
    "polling_period",
    "websocket_updaters",
]
