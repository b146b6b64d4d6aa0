"""Futures positions seen from the portfolio value and from a trading mode's context."""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.exchanges.types import ExchangePosition
from octobot_trading.modes.context import ModeContext
from octobot_trading.personal_data.portfolios.valuation import PortfolioValuator
from octobot_trading.personal_data.positions.position import Position, PositionsManager

XRP = "XRP/USDT:USDT"
BTC_INVERSE = "BTC/USD:BTC"


def _position(symbol: str, side: PositionSide, pnl: str) -> Position:
    return Position(symbol, side, D(100), D(1), D(1), D(pnl), D(10), None, 0, MarginMode.ISOLATED)


def test_portfolio_value_adds_the_unrealized_pnl_of_open_positions_in_their_settle_currency():
    prices = {"BTC/USDT": D(40000)}
    valuator = PortfolioValuator("USDT", ["BTC/USDT"], prices.get)
    totals = {"USDT": D(1000), "BTC": D("0.1")}
    assert valuator.value(totals) == D(5000)
    positions = [_position(XRP, PositionSide.LONG, "-12.5"), _position(BTC_INVERSE, PositionSide.SHORT, "0.001")]
    assert valuator.value(totals, positions) == D(5000) - D("12.5") + D(40)
    profit = valuator.profitability(totals, totals, positions=positions)
    assert profit.value == D("5027.5") and profit.starting_value == D(5000)


async def test_mode_context_reads_positions_by_side_and_relays_liquidations():
    manager = PositionsManager()
    context = ModeContext(
        channels=None,
        trader=None,
        portfolio=None,
        clock=SimulatedClock(0),
        symbols=[XRP],
        time_frames=[],
        market_spec=lambda symbol: None,  # type: ignore[arg-type,return-value]
        positions=manager,
    )
    assert context.position(XRP) is None
    manager.update_from_exchange(
        [
            ExchangePosition(XRP, "long", D(100), D(1), D(1), D(1), D(10), "isolated", None, 0, hedged=True),
            ExchangePosition(XRP, "short", D(40), D(1), D(1), D(-1), D(10), "isolated", None, 0, hedged=True),
        ]
    )
    assert context.position(XRP, PositionSide.SHORT).size == D(40)  # type: ignore[union-attr]
    assert context.position(XRP, PositionSide.LONG).size == D(100)  # type: ignore[union-attr]
    seen: list[object] = []

    async def listener(liquidation: object) -> None:
        seen.append(liquidation)

    remove = context.on_liquidation(listener)
    await manager.notify_liquidations(["first"])
    remove()
    await manager.notify_liquidations(["second"])
    assert seen == ["first"]
    assert ModeContext(None, None, None, SimulatedClock(0), [], [], lambda s: None).position(XRP) is None  # type: ignore[arg-type,return-value]
