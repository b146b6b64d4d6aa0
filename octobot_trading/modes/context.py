"""What a trading mode may touch, gathered in one object built from the exchange manager.

:class:`ModeContext` is the only place where the mode framework reaches into the exchange
manager; modes, producers and consumers use the context and nothing else, so they never branch
on live / paper / backtest and never chain through ``manager.exchange...``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import PositionMode, PositionSide, TimeFrame
from octobot_trading.modes.channel import EvaluationChannel
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.market_spec import MarketSpec

__all__ = ["ModeContext"]


@dataclass(slots=True)
class ModeContext:
    """Collaborators of one trading mode.

    Attributes
    ----------
    channels
        The exchange's channels (``ExchangeChannels``): ``ohlcv`` and ``kline`` are used.
    trader
        The trader orders go through (``create_order`` / ``cancel_order``).
    portfolio
        The portfolio the mode spends from (``get_currency_portfolio(currency)`` with
        ``available`` / ``total``): the account's, or the mode's sub-portfolio.
    clock
        The exchange's clock.
    symbols, time_frames
        What is configured (time frames shortest first).
    market_spec
        ``market_spec(symbol) -> MarketSpec`` (precision and limits).
    is_ready
        ``is_ready() -> bool``: True once the exchange's readiness topics have all updated.
    evaluations
        Optional channel of evaluations for producers that override ``on_evaluation``.
    sub_portfolio
        Name of the mode's sub-portfolio (passed with every order), or None for the account's.
    configured_time_frames
        The time frames in their configured order (default: ``time_frames`` as given, before
        sorting); a mode's default time frame is the first of them.
    market_order_slippage
        ``market_order_slippage() -> Decimal``: the fraction by which market orders may fill
        worse than the last price (the simulated venue's slippage; 0 when unknown, e.g. live);
        modes sizing all-in market buys allow for it.
    symbols_data
        The market-data layer's candle buffers and prices (``get(symbol).candles(time_frame)``),
        or None when the manager runs no market data.
    hot_reload
        True when files a mode reads may change during the run and should be reloaded (live and
        paper trading); False in backtests, which replay deterministically.
    positions
        The account's futures positions (``PositionsManager``), or None without an account:
        read them with :meth:`position`; :meth:`on_liquidation` registers a liquidation listener.
    """

    channels: Any
    trader: Any
    portfolio: Any
    clock: Clock
    symbols: list[str]
    time_frames: list[TimeFrame]
    market_spec: Callable[[str], MarketSpec]
    is_ready: Callable[[], bool] = field(default=lambda: True)
    evaluations: EvaluationChannel | None = None
    sub_portfolio: str | None = None
    configured_time_frames: list[TimeFrame] = field(default_factory=list)
    market_order_slippage: Callable[[], Decimal] = field(default=lambda: ZERO)
    symbols_data: Any = None
    hot_reload: bool = True
    positions: Any = None

    def __post_init__(self) -> None:
        self.configured_time_frames = [TimeFrame.parse(tf) for tf in self.configured_time_frames or self.time_frames]
        self.time_frames = sorted((TimeFrame.parse(tf) for tf in self.time_frames), key=lambda tf: tf.ms)

    async def create_order(
        self, order_type: Any, side: Any, symbol: str, amount: Any, price: Any = None, **options: Any
    ) -> Any:
        """Create an order through the trader, on the mode's sub-portfolio when it has one."""
        if self.sub_portfolio is not None:
            options.setdefault("sub_portfolio", self.sub_portfolio)
        return await self.trader.create_order(order_type, side, symbol, amount, price, **options)

    def position(self, symbol: str, side: PositionSide | None = None) -> Position | None:
        """The open futures position of ``symbol`` (of ``side`` LONG / SHORT in hedge mode), or None."""
        return None if self.positions is None else self.positions.get(symbol, side)

    def leverage(self, symbol: str) -> Decimal:
        """The leverage new positions of contract ``symbol`` get (the last set, the position's, the spec's)."""
        value = self.trader.futures.leverage(symbol)
        return value if type(value) is Decimal else Decimal(value)

    def position_mode(self, symbol: str) -> PositionMode:
        """The position mode of contract ``symbol`` (the account's or last set, the venue's adopted, the spec's)."""
        mode = self.trader.futures.position_mode(symbol)
        return mode if type(mode) is PositionMode else PositionMode(mode)

    def on_liquidation(self, listener: Callable[[Any], Awaitable[None]]) -> Callable[[], None]:
        """Call ``await listener(liquidation)`` for each liquidation of the account; return a remover."""
        if self.positions is None:
            return lambda: None
        remove: Callable[[], None] = self.positions.add_liquidation_listener(listener)
        return remove

    @classmethod
    def from_manager(
        cls,
        manager: Any,
        *,
        sub_portfolio: str | None = None,
        evaluations: EvaluationChannel | None = None,
    ) -> ModeContext:
        """Build the context of a mode running on ``manager`` (an ``ExchangeManager``).

        ``sub_portfolio`` names the mode's sub-portfolio, if it has one; default: the account's.
        """
        portfolio = manager.exchange_personal_data.portfolio_manager.get_portfolio(sub_portfolio)
        market_data = getattr(manager, "market_data", None)
        readiness = getattr(market_data, "readiness", None) or getattr(manager, "readiness", None)

        def is_ready() -> bool:
            if readiness is None:
                return True
            flag = getattr(readiness, "is_ready", True)
            return bool(flag() if callable(flag) else flag)

        def market_order_slippage() -> Decimal:
            value = getattr(getattr(manager.trader, "connector", None), "market_order_slippage", ZERO)
            return value if isinstance(value, Decimal) else ZERO

        def market_spec(symbol: str) -> MarketSpec:
            spec: MarketSpec = manager.trader.market(symbol).spec  # UnknownSymbol when not listed
            return spec

        return cls(
            channels=manager.channels,
            trader=manager.trader,
            portfolio=portfolio,
            clock=manager.clock,
            symbols=list(manager.symbols),
            time_frames=list(manager.time_frames),
            market_spec=market_spec,
            is_ready=is_ready,
            evaluations=evaluations,
            sub_portfolio=sub_portfolio,
            market_order_slippage=market_order_slippage,
            symbols_data=getattr(manager, "exchange_symbols_data", None),
            hot_reload=not bool(getattr(manager, "is_backtesting", False)),
            positions=manager.exchange_personal_data.positions_manager,
        )
