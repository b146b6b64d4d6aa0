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
from octobot_trading.modes.dca import DCAConfig, DCATradingMode
from octobot_trading.modes.grid import GridConfig, GridTradingMode
from octobot_trading.modes.sma_cross import SmaCrossConfig, SmaCrossMode

BUILTIN_MODES: dict[str, type[AbstractTradingMode]] = {
    mode.get_mode_name(): mode for mode in (SmaCrossMode, GridTradingMode, DCATradingMode)
}


def get_mode(name: str) -> type[AbstractTradingMode]:
    """Return the built-in mode class called ``name`` (``"sma_cross"``, ``"grid"``, ``"dca"``)."""
    from octobot_trading.errors import ConfigurationError

    try:
        return BUILTIN_MODES[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_MODES))
        raise ConfigurationError(f"unknown trading mode {name!r}; built-in modes: {known}", field="mode") from None

__all__ = [
    "BUILTIN_MODES",
    "AbstractModeConsumer",
    "AbstractModeProducer",
    "AbstractTradingMode",
    "DCAConfig",
    "DCATradingMode",
    "DecisionAction",
    "Evaluation",
    "EvaluationChannel",
    "GridConfig",
    "GridTradingMode",
    "ModeChannel",
    "ModeConfig",
    "ModeContext",
    "SmaCrossConfig",
    "SmaCrossMode",
    "TradingDecision",
    "get_mode",
]
