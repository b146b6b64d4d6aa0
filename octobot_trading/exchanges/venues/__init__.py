"""Built-in exchange subclasses (one module per venue)."""

from octobot_trading.exchanges.venues.binance import BinanceExchange

BUILTIN_EXCHANGE_CLASSES = (BinanceExchange,)

__all__ = ["BUILTIN_EXCHANGE_CLASSES", "BinanceExchange"]
