"""Assembly of a backtest: the same market-data, trading-core and mode parts as live trading.

:class:`BacktestSession` wires, for one exchange account,

* a :class:`~octobot_trading.clock.SimulatedClock`;
* the market-data hub (``ExchangeMarketData``) with **synchronized** channels;
* the simulated connector of the trading core (matching engine, simulated account), whose
  market-data side is :class:`~octobot_trading.backtesting.market_side.HistoricalMarketSide`;
* the account's personal data (orders, portfolio, trades) and the :class:`Trader`;
* the trading modes, each through a :class:`~octobot_trading.modes.ModeContext`;
* the :class:`~octobot_trading.backtesting.driver.BacktestDriver`.

Nothing here is specific to a strategy and nothing in the managers, trader or modes knows it
runs in a backtest: only the connector, the clock and the channel dispatch mode differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.driver import BacktestDriver
from octobot_trading.backtesting.market_side import HistoricalMarketSide
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import ReadinessTopic
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.modes.base import AbstractTradingMode
from octobot_trading.modes.context import ModeContext
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import parse_symbol

__all__ = ["BacktestSession", "ModeSpec"]

ModeSpec = tuple[type[AbstractTradingMode], Mapping[str, Any] | None, Mapping[str, Any] | None]
"""``(mode class, config, sub-portfolio allocation or None)``."""


class BacktestSession:
    """One backtest's exchange account and its modes (see the module docstring).

    Parameters
    ----------
    data
        Historical candles.
    modes
        ``(ModeClass, config, allocation)`` triples; an ``allocation`` (``{"USDT": "500"}``)
        gives the mode its own sub-portfolio.
    starting_portfolio
        Starting balances of the account.
    fees
        Fee rates (default 0.1 % / 0.1 %).
    markets
        Market specs by symbol (default: the data file's, else ``1e-8`` steps and no minimums).
    symbols, time_frames
        What to replay (default: everything in ``data``).
    reference_market
        Currency of portfolio values (default: the quote of the first symbol).
    slippage_percent
        Market-order slippage (default 0).
    """

    def __init__(
        self,
        data: CandleData,
        *,
        modes: list[ModeSpec],
        starting_portfolio: Mapping[str, Decimal | int | str],
        fees: Fees | None = None,
        markets: Mapping[str, MarketSpec] | None = None,
        symbols: list[str] | None = None,
        time_frames: list[TimeFrame | str] | None = None,
        reference_market: str | None = None,
        slippage_percent: Decimal | int | str = 0,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if len(data) == 0:
            raise ConfigurationError("no candles to backtest", field="data")
        self.data = data
        self.symbols = list(symbols) if symbols is not None else sorted(data.symbols)
        self.time_frames = sorted({TimeFrame.parse(tf) for tf in (time_frames or data.time_frames)},
                                  key=lambda tf: tf.ms)
        for symbol in self.symbols:
            for tf in self.time_frames:
                data.get(symbol, tf)  # ConfigurationError when missing
        self.fees = fees or Fees()
        self.starting_portfolio = {c: to_decimal(v, name=f"starting_portfolio[{c}]")
                                   for c, v in starting_portfolio.items()}
        self.reference_market = reference_market or parse_symbol(self.symbols[0]).quote
        first_open = min(int(data.get(s, self.time_frames[0]).times[0]) for s in self.symbols)
        self.clock = SimulatedClock(first_open)
        self.market_data = ExchangeMarketData(self.clock, synchronized=True, exchange_name=data.exchange)
        self.market_side = HistoricalMarketSide(data, self.clock, markets=markets,
                                                fees=(self.fees.maker, self.fees.taker))
        self.markets = {s: self.market_side._market(s) for s in self.symbols}
        self.connector = SimulatedConnector(
            self.clock, markets=self.markets, starting_balances=self.starting_portfolio, fees=self.fees,
            market_data=self.market_side, slippage_percent=slippage_percent)  # type: ignore[arg-type]
        self.personal_data = ExchangePersonalData(self.clock, starting_balances=self.starting_portfolio,
                                                  reference_market=self.reference_market)
        symbols_data = self.market_data.symbols_data
        self.trader = Trader(
            self.connector, self.personal_data, clock=self.clock, simulated=True, markets=self.markets,
            price_of=self.connector.last_price, fees=self.fees,
            price_events_for=lambda symbol: symbols_data.get(symbol).price_events)
        self.mode_specs = modes
        self.modes: list[AbstractTradingMode] = []
        self.driver = BacktestDriver(data, clock=self.clock, market_data=self.market_data,
                                     engine=self.connector.engine, symbols=self.symbols,
                                     time_frames=list(self.time_frames), progress=progress)
        readiness = self.market_data.readiness
        readiness.require_defaults(self.symbols, self.time_frames)
        self._started = False

    def mode_context(self, allocation: Mapping[str, Any] | None, name: str) -> ModeContext:
        """Build the context of one mode (with its own sub-portfolio when ``allocation`` is given)."""
        portfolio_manager = self.personal_data.portfolio_manager
        sub_portfolio = None
        if allocation:
            portfolio_manager.create_sub_portfolio(name, allocation)
            sub_portfolio = name
        readiness = self.market_data.readiness
        return ModeContext(
            channels=self.market_data.channels, trader=self.trader,
            portfolio=portfolio_manager.get_portfolio(sub_portfolio), clock=self.clock,
            symbols=list(self.symbols), time_frames=list(self.time_frames),
            market_spec=lambda symbol: self.markets[symbol].spec, is_ready=lambda: readiness.is_ready,
            sub_portfolio=sub_portfolio)

    async def start(self) -> None:
        """Initialize the trader, mark the account topics ready and start the modes."""
        if self._started:
            return
        await self.trader.initialize()
        readiness = self.market_data.readiness
        for kind in (ReadinessTopic.BALANCE, ReadinessTopic.ORDERS, ReadinessTopic.MARKETS):
            readiness.mark_ready(str(kind))
        for index, (mode_class, config, allocation) in enumerate(self.mode_specs):
            name = f"{mode_class.get_mode_name()}-{index}"
            mode = mode_class(self.mode_context(allocation, name), config)
            await mode.start()
            self.modes.append(mode)
        self._started = True

    async def run(self) -> int:
        """Start (if needed) and replay every candle; return how many were published."""
        await self.start()
        return await self.driver.run()

    async def stop(self) -> None:
        """Stop the modes, the trader and the market data. Idempotent."""
        for mode in reversed(self.modes):
            await mode.stop()
        await self.trader.stop()
        await self.market_data.stop()
        await self.connector.close()
        self._started = False
