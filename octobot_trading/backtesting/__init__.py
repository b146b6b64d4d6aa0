"""Backtesting: historical candle data, the backtest driver, ``run_backtest``, sweeps, metrics and reports.

Heavy parts (the engine, the report) load on first use so that importing the package is cheap;
type checkers see them with their real types through the ``if TYPE_CHECKING:`` imports, which
mirror ``_LAZY``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from octobot_trading.backtesting.candle_data import CandleData, CandleSeries, Gap
from octobot_trading.backtesting.funding_data import FundingData

__all__ = [
    "BacktestResult",
    "CandleData",
    "CandleSeries",
    "FundingData",
    "Gap",
    "SweepResult",
    "compute_metrics",
    "run_backtest",
    "run_sweep",
    "write_report",
]

_LAZY = {
    "run_backtest": "octobot_trading.backtesting.runner",
    "BacktestResult": "octobot_trading.backtesting.runner",
    "compute_metrics": "octobot_trading.backtesting.metrics",
    "write_report": "octobot_trading.backtesting.report",
    "run_sweep": "octobot_trading.backtesting.sweep",
    "SweepResult": "octobot_trading.backtesting.sweep",
}

if TYPE_CHECKING:
    from octobot_trading.backtesting.metrics import compute_metrics as compute_metrics
    from octobot_trading.backtesting.report import write_report as write_report
    from octobot_trading.backtesting.runner import BacktestResult as BacktestResult
    from octobot_trading.backtesting.runner import run_backtest as run_backtest
    from octobot_trading.backtesting.sweep import SweepResult as SweepResult
    from octobot_trading.backtesting.sweep import run_sweep as run_sweep


if not TYPE_CHECKING:
    # Hidden from type checkers: a module-level __getattr__ would make mypy type every unknown
    # (misspelled) name as Any instead of reporting it.
    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(importlib.import_module(_LAZY[name]), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'octobot_trading.backtesting' has no attribute {name!r}")
