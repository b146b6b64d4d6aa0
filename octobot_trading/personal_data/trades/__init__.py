"""Trades: immutable fill records, deduplicated by exchange trade id."""

from octobot_trading.personal_data.trades.trade import Trade, TradesManager

__all__ = ["Trade", "TradesManager"]
