"""Wire the trading-mode framework into ``ExchangeBuilder``: the ``"trading_modes"`` component.

:func:`install` registers a component factory that turns every ``use_trading_mode(Mode,
config)`` of the builder into a running mode: the mode is built (its config validated: a bad
config fails the build with ``ConfigurationError`` and nothing is left running) with a
:class:`~octobot_trading.modes.context.ModeContext` read from the manager, and started when the
manager starts; stopped when it stops. Importing does not register anything.

The component is ``manager.get_component("trading_modes")``; its ``modes`` attribute lists the
running modes in ``use_trading_mode`` order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from octobot_trading.errors import ConfigurationError, OctoBotTradingError, TradingModeError
from octobot_trading.modes.base import AbstractTradingMode
from octobot_trading.modes.context import ModeContext

__all__ = ["TradingModesComponent", "install", "uninstall"]

COMPONENT_NAME = "trading_modes"


class TradingModesComponent:
    """Builds, starts and stops the manager's trading modes."""

    name = COMPONENT_NAME

    def __init__(self, manager: Any, settings: Iterable[Any]) -> None:
        self.manager = manager
        self.settings = list(settings)
        for setting in self.settings:
            if not (isinstance(setting.mode_class, type) and issubclass(setting.mode_class, AbstractTradingMode)):
                raise ConfigurationError(f"{setting.mode_class!r} is not an AbstractTradingMode subclass",
                                         field="trading_mode")
            setting.mode_class.validate_config(setting.config)  # fail the build early on a bad config
        self.modes: list[AbstractTradingMode] = []

    async def start(self) -> None:
        """Build every mode with a context read from the manager, then start them in order."""
        if self.manager.channels is None or self.manager.trader is None:
            raise ConfigurationError("trading modes need the market-data and trader subsystems",
                                     field="trading_mode")
        portfolio_manager = self.manager.exchange_personal_data.portfolio_manager
        for index, setting in enumerate(self.settings):
            sub_portfolio: str | None = None
            allocation = getattr(setting, "sub_portfolio", None)
            if allocation is not None:
                sub_portfolio = f"{setting.mode_class.get_mode_name()}-{index}"
                if sub_portfolio not in portfolio_manager.sub_portfolios:  # restored by storage otherwise
                    portfolio_manager.create_sub_portfolio(sub_portfolio, allocation)
            context = ModeContext.from_manager(self.manager, sub_portfolio=sub_portfolio)
            name = setting.mode_class.get_mode_name()
            try:
                mode = setting.mode_class(context, setting.config)
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


def _factory(manager: Any, ctx: Any) -> list[TradingModesComponent]:
    if not ctx.trading_modes:
        return []
    return [TradingModesComponent(manager, ctx.trading_modes)]


def install() -> None:
    """Register the ``"trading_modes"`` component factory with the builder."""
    from octobot_trading.exchanges.builder import register_component_factory

    register_component_factory(COMPONENT_NAME, _factory)


def uninstall() -> None:
    """Remove the factory registered by :func:`install`."""
    from octobot_trading.exchanges.builder import unregister_component_factory

    unregister_component_factory(COMPONENT_NAME)
