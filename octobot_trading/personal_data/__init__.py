"""The trading core: orders, portfolio, positions, trades, transactions and the trader."""

from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.orders import GroupKind, Order, OrderGroup, OrdersManager
from octobot_trading.personal_data.portfolios import Portfolio, PortfolioManager
from octobot_trading.personal_data.positions import PositionsManager
from octobot_trading.personal_data.trader import PriceTrigger, Trader
from octobot_trading.personal_data.trades import Trade, TradesManager
from octobot_trading.personal_data.transactions import Transaction, TransactionsManager

__all__ = [
    "ExchangePersonalData",
    "GroupKind",
    "Order",
    "OrderGroup",
    "OrdersManager",
    "Portfolio",
    "PortfolioManager",
    "PositionsManager",
    "PriceTrigger",
    "Trade",
    "Trader",
    "TradesManager",
    "Transaction",
    "TransactionsManager",
]
