"""Simulated venue for paper trading and backtests: matching engine, account, connector."""

from octobot_trading.exchanges.connectors.simulator.account import SimulatedAccount
from octobot_trading.exchanges.connectors.simulator.matching import MatchingEngine, RestingOrder
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector

__all__ = ["MatchingEngine", "RestingOrder", "SimulatedAccount", "SimulatedConnector"]
