"""Portfolio accounting: assets, reservations, fills, sub-portfolios, valuation."""

from octobot_trading.personal_data.portfolios.portfolio import Asset, BalanceChange, Portfolio
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.portfolios.valuation import PortfolioValuator, Profitability

__all__ = ["Asset", "BalanceChange", "Portfolio", "PortfolioManager", "PortfolioValuator", "Profitability"]
