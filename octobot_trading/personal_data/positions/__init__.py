"""Futures positions fed from the connector."""

from octobot_trading.personal_data.positions.position import Position, PositionsManager

__all__ = ["Position", "PositionsManager"]
