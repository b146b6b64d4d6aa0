"""Trading modes: the producer / consumer framework and the built-in modes.

Built-in modes: :class:`SmaCrossMode` (``"sma_cross"``), :class:`GridTradingMode` (``"grid"``),
:class:`DCATradingMode` (``"dca"``). :func:`get_mode` finds a mode class by name.
"""

from __future__ import annotations

from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.channel import (
    DecisionAction,
    Evaluation,
    EvaluationChannel,
    ModeChannel,
    TradingDecision,
)
from octobot_trading.modes.context import ModeContext

__all__ = [
    "AbstractModeConsumer",
    "AbstractModeProducer",
    "AbstractTradingMode",
    "DecisionAction",
    "Evaluation",
    "EvaluationChannel",
    "ModeChannel",
    "ModeConfig",
    "ModeContext",
    "TradingDecision",
]
