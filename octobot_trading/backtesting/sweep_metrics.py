"""The metric columns of a parameter sweep's table, and which way each one is better.

Shared by the sweep (:mod:`octobot_trading.backtesting.sweep`) and its HTML report
(:mod:`octobot_trading.backtesting.sweep_report`).
"""

from __future__ import annotations

__all__ = ["LOWER_IS_BETTER", "METRIC_COLUMNS"]

#: Numeric columns a table can be sorted by and a heatmap drawn of (besides the grid parameters).
METRIC_COLUMNS = (
    "total_return",
    "final_value",
    "buy_and_hold_return",
    "max_drawdown",
    "sharpe",
    "sortino",
    "win_rate",
    "profit_factor",
    "trades",
    "round_trips",
    "exposure",
)
#: Metrics whose best value is the smallest one.
LOWER_IS_BETTER = frozenset({"max_drawdown"})
