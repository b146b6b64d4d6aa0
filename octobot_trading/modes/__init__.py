"""Trading modes: the producer / consumer framework and the built-in modes.

Built-in modes: :class:`SmaCrossMode` (``"sma_cross"``), :class:`GridTradingMode` (``"grid"``),
:class:`DCATradingMode` (``"dca"``). :func:`get_mode` finds a mode class by name.
:class:`ScriptedMode` runs a script file (config ``{"script": path}``); :func:`resolve_mode`
resolves a built-in name, ``package.module:Class`` or a script path.
"""

from __future__ import annotations

from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.builtin import BUILTIN_MODES, get_mode
from octobot_trading.modes.channel import (
    DecisionAction,
    Evaluation,
    EvaluationChannel,
    ModeChannel,
    TradingDecision,
)
from octobot_trading.modes.context import ModeContext
from octobot_trading.modes.dca import DCAConfig, DCATradingMode
from octobot_trading.modes.evaluations import load_evaluations
from octobot_trading.modes.grid import GridConfig, GridTradingMode
from octobot_trading.modes.scripted import ScriptedConfig, ScriptedMode, load_script, resolve_mode
from octobot_trading.modes.scripted_context import ScriptContext
from octobot_trading.modes.scripted_dsl import DSLError, ScriptError
from octobot_trading.modes.sma_cross import SmaCrossConfig, SmaCrossMode

__all__ = [
    "BUILTIN_MODES",
    "AbstractModeConsumer",
    "AbstractModeProducer",
    "AbstractTradingMode",
    "DCAConfig",
    "DCATradingMode",
    "DSLError",
    "DecisionAction",
    "Evaluation",
    "EvaluationChannel",
    "GridConfig",
    "GridTradingMode",
    "ModeChannel",
    "ModeConfig",
    "ModeContext",
    "ScriptContext",
    "ScriptError",
    "ScriptedConfig",
    "ScriptedMode",
    "SmaCrossConfig",
    "SmaCrossMode",
    "TradingDecision",
    "get_mode",
    "load_evaluations",
    "load_script",
    "resolve_mode",
]
