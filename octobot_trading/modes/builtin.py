"""The built-in trading modes by name: ``"sma_cross"``, ``"grid"``, ``"dca"``."""

from __future__ import annotations

from octobot_trading.errors import ConfigurationError
from octobot_trading.modes.base import AbstractTradingMode
from octobot_trading.modes.dca import DCATradingMode
from octobot_trading.modes.grid import GridTradingMode
from octobot_trading.modes.sma_cross import SmaCrossMode

__all__ = ["BUILTIN_MODES", "get_mode"]

BUILTIN_MODES: dict[str, type[AbstractTradingMode]] = {
    mode.get_mode_name(): mode for mode in (SmaCrossMode, GridTradingMode, DCATradingMode)
}


def get_mode(name: str) -> type[AbstractTradingMode]:
    """Return the built-in mode class called ``name`` (``"sma_cross"``, ``"grid"``, ``"dca"``)."""
    try:
        return BUILTIN_MODES[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_MODES))
        raise ConfigurationError(f"unknown trading mode {name!r}; built-in modes: {known}", field="mode") from None
