"""Market data: per-exchange channels, market-data managers, updaters and readiness.

See docs/market_data.md. The main entry points are :class:`ExchangeMarketData` (managers +
channels + readiness of one exchange), :class:`ExchangeChannels`, :class:`ExchangeSymbolsData`
and :class:`CandlesManager`.
"""

from octobot_trading.exchange_data.candles import CandlesManager
from octobot_trading.exchange_data.channels import Channel, ChannelName, ChannelPriority, ExchangeChannels
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.order_book import OrderBookManager
from octobot_trading.exchange_data.price_events import Crossing, PriceEvent, PriceEventsManager
from octobot_trading.exchange_data.prices import PricesManager, PriceSource
from octobot_trading.exchange_data.readiness import ReadinessTopic, ReadinessTracker
from octobot_trading.exchange_data.symbol_data import ExchangeSymbolData, ExchangeSymbolsData

__all__ = [
    "CandlesManager",
    "Channel",
    "ChannelName",
    "ChannelPriority",
    "Crossing",
    "ExchangeChannels",
    "ExchangeMarketData",
    "ExchangeSymbolData",
    "ExchangeSymbolsData",
    "OrderBookManager",
    "PriceEvent",
    "PriceEventsManager",
    "PriceSource",
    "PricesManager",
    "ReadinessTopic",
    "ReadinessTracker",
]
