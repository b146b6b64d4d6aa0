"""A simulated account for tests: the real trader, orders manager, portfolio and simulated connector.

:func:`trader_on_stand_in` is the real live trader on a stand-in for the connector (a unit test's
few calls, no network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from octobot_trading.clock import SimulatedClock
from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import MarketType, TradeType
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data import ExchangePersonalData, Trader
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec

D = Decimal

DEFAULT_MARKETS = {
    "BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.0001", min_cost="5"),
    "ETH/USDT": MarketSpec(price_tick="0.01", amount_step="0.001", min_cost="5"),
    "ETH/BTC": MarketSpec(price_tick="0.00001", amount_step="0.001"),
}


def trader_on_stand_in(venue: Any, personal: ExchangePersonalData, clock: SimulatedClock) -> Trader:
    """The real live trader (``simulated=False``) on ``venue``, an object with only the connector
    calls the test needs; BTC/USDT (tick 0.01, step 0.0001) is priced 100."""
    return Trader(
        venue,
        personal,
        clock=clock,
        simulated=False,
        markets={
            "BTC/USDT": MarketInfo(
                "BTC/USDT", "BTC", "USDT", MarketType.SPOT, MarketSpec(price_tick="0.01", amount_step="0.0001")
            )
        },
        price_of=lambda s: D("100"),
    )


@dataclass
class SimAccount:
    clock: SimulatedClock
    connector: SimulatedConnector
    personal: ExchangePersonalData
    trader: Trader
    prices: dict[str, Decimal] = field(default_factory=dict)

    @property
    def portfolio(self):
        return self.personal.portfolio_manager.portfolio

    def asset(self, currency: str) -> tuple[Decimal, Decimal]:
        a = self.portfolio.get_currency_portfolio(currency)
        return a.total, a.available

    async def candle(self, o: str, h: str, low: str, c: str, symbol: str = "BTC/USDT", volume: str | None = None):
        """Advance the clock one minute and feed one candle (as the backtest driver does)."""
        self.clock.advance(60_000)
        pending = self.connector.engine.on_candle(
            symbol,
            self.clock.now_ms(),
            float(o),
            float(h),
            float(low),
            float(c),
            None if volume is None else float(volume),
        )
        if pending is not None:
            await pending
        self.prices[symbol] = D(c)

    def trades(self, order: Any) -> list[tuple[Decimal, Decimal, TradeType | None]]:
        """``(price, amount, taker or maker)`` of each trade of ``order``."""
        return [(t.price, t.amount, t.taker_or_maker) for t in self.personal.trades_manager.for_order(order.id)]

    async def exchange_matches_portfolio(self) -> None:
        balances = await self.connector.fetch_balance()
        for currency, bal in balances.items():
            total, available = self.asset(currency)
            assert (bal.total, bal.free) == (total, available), (currency, bal, total, available)


async def make_account(
    balances: dict[str, str] | None = None,
    *,
    fees: Fees | None = None,
    prices: dict[str, str] | None = None,
    safety: OrderSafetyConfig | None = None,
    markets: dict[str, MarketSpec] | None = None,
    prices_from_candles: bool = False,
    **connector_options,
) -> SimAccount:
    """A simulated account on ``balances`` priced by ``prices``; ``prices_from_candles`` wires it
    like the backtest instead (no price source: the engine's last candle path gives the price)."""
    balances = balances if balances is not None else {"USDT": "10000"}
    clock = SimulatedClock(1_700_000_000_000)
    price_map = {k: D(v) for k, v in (prices or {"BTC/USDT": "100", "ETH/USDT": "10", "ETH/BTC": "0.1"}).items()}
    fees = fees or Fees(maker="0.001", taker="0.002")
    connector = SimulatedConnector(
        clock,
        markets=markets or DEFAULT_MARKETS,
        starting_balances=balances,
        fees=fees,
        price_source=None if prices_from_candles else price_map.get,
        **connector_options,
    )
    personal = ExchangePersonalData(clock, starting_balances=balances)
    trader = Trader(
        connector,
        personal,
        clock=clock,
        simulated=True,
        price_of=connector.last_price if prices_from_candles else price_map.get,
        fees=fees,
        safety=safety or OrderSafetyConfig(enabled=False),
    )
    await trader.initialize()
    return SimAccount(clock, connector, personal, trader, price_map)
