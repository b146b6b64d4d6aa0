"""The ccxt connector: the only package of octobot_trading that imports ccxt."""

from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.exchanges.connectors.ccxt.connector import CCXTConnector, create_ccxt_client
from octobot_trading.exchanges.connectors.ccxt.errors import map_ccxt_error
from octobot_trading.exchanges.connectors.ccxt.markets_cache import markets_cache

__all__ = ["CCXTAdapter", "CCXTConnector", "create_ccxt_client", "map_ccxt_error", "markets_cache"]
