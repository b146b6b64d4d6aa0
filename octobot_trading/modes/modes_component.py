"""``TradingModesComponent``: the trading modes of one ``ExchangeManager``.

The builder creates it last among the built-in components (after the trader or the backtest
driver, and storage) when ``use_trading_mode(Mode, config)`` was called: every mode's config is
validated when the component is created (a bad config fails the build with
``ConfigurationError`` before anything starts); each mode is built with a
:class:`~octobot_trading.modes.context.ModeContext` read from the manager (its evaluation channel
is ``manager.evaluations``, shared by every mode) and started when the
manager starts, stopped when it stops.

The component is ``manager.get_component("trading_modes")``; its ``modes`` attribute lists the
running modes in ``use_trading_mode`` order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from octobot_trading.errors import ConfigurationError, OctoBotTradingError, TradingModeError
from octobot_trading.modes.base import AbstractTradingMode, ModeConfig
from octobot_trading.modes.context import ModeContext

if TYPE_CHECKING:
    from octobot_trading.exchanges.builder import TradingModeSetting
    from octobot_trading.exchanges.manager import ExchangeManager

__all__ = ["COMPONENT_NAME", "TradingModesComponent", "check_settings"]

COMPONENT_NAME = "trading_modes"


def _as_mode_config(config: Mapping[str, Any] | BaseModel | None) -> Mapping[str, Any] | ModeConfig | None:
    """A pydantic model that is not a ``ModeConfig`` is read as its fields."""
    if isinstance(config, BaseModel) and not isinstance(config, ModeConfig):
        return dict(config)
    return config


def check_settings(settings: Iterable[TradingModeSetting]) -> list[type[AbstractTradingMode]]:
    """The mode classes of ``settings``, in order, once every config is validated.

    Raises ``ConfigurationError`` for a class that is not a trading mode or a config its mode refuses.
    """
    classes: list[type[AbstractTradingMode]] = []
    for setting in settings:
        mode_class = setting.mode_class
        if not (isinstance(mode_class, type) and issubclass(mode_class, AbstractTradingMode)):
            raise ConfigurationError(f"{mode_class!r} is not an AbstractTradingMode subclass", field="trading_mode")
        mode_class.validate_config(_as_mode_config(setting.config))
        classes.append(mode_class)
    return classes


class TradingModesComponent:
    """Builds, starts and stops the manager's trading modes."""

    name = COMPONENT_NAME

    def __init__(self, manager: ExchangeManager, settings: Iterable[TradingModeSetting]) -> None:
        self.manager = manager
        self.settings = list(settings)
        self._classes = check_settings(self.settings)  # fail the build early on a bad config
        self.modes: list[AbstractTradingMode] = []

    async def start(self) -> None:
        """Build every mode with a context read from the manager, then start them in order."""
        if self.manager.channels is None or not self.manager.has_account:
            raise ConfigurationError("trading modes need the market-data and trader subsystems", field="trading_mode")
        personal_data = self.manager.exchange_personal_data
        portfolio_manager = personal_data.portfolio_manager
        for index, (setting, mode_class) in enumerate(zip(self.settings, self._classes, strict=True)):
            sub_portfolio: str | None = None
            allocation = setting.sub_portfolio
            if allocation is not None:
                sub_portfolio = f"{mode_class.get_mode_name()}-{index}"
                if sub_portfolio not in portfolio_manager.sub_portfolios:  # restored by storage otherwise
                    portfolio_manager.create_sub_portfolio(sub_portfolio, allocation)
            context = ModeContext.from_manager(
                self.manager, sub_portfolio=sub_portfolio, evaluations=self.manager.evaluations
            )
            name = mode_class.get_mode_name()
            try:
                mode = mode_class(context, _as_mode_config(setting.config))
                await mode.start()
            except OctoBotTradingError:
                raise
            except Exception as exc:  # a mode's own bug: typed, chained, naming the mode
                raise TradingModeError(f"trading mode {name} failed to start: {type(exc).__name__}: {exc}") from exc
            self.modes.append(mode)

    async def stop(self) -> None:
        """Stop the modes in reverse order (idempotent)."""
        modes, self.modes = self.modes, []
        for mode in reversed(modes):
            await mode.stop()
