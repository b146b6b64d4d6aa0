"""SmaCrossMode on contracts follows the position mode the trader holds for the symbol (set through
the trader, or adopted from the venue), not the market spec's default: in hedge mode its orders
name the position side. Paper futures engine reading its prices from the fake USDⓈ-M venue
through the real ccxt ``binanceusdm`` client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionMode, PositionSide
from octobot_trading.modes.channel import DecisionAction, TradingDecision
from octobot_trading.modes.context import ModeContext
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing import FakeFuturesServer
from tests.clock_driving import build_simulated
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]

XRP = "XRP/USDT:USDT"


def _paper(venue: FakeFuturesServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binanceusdm")
        .with_market_type("linear")
        .with_symbols([XRP])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(SimulatedClock(venue.market("XRPUSDT").now_ms))
        .with_time_frames(["1m"])
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=600.0)
        .use_simulated_trader(starting_portfolio={"USDT": "1000"})
    )


async def _decide(manager: Any, sma: SmaCrossMode, action: DecisionAction, price: Decimal) -> None:
    await sma.consumers[0].on_decision(TradingDecision(XRP, action, manager.clock.now_ms(), price=price))


@pytest.mark.parametrize("mode", [PositionMode.ONE_WAY, PositionMode.HEDGE])
async def test_sma_cross_trades_contracts_in_the_position_mode_set_through_the_trader(
    futures_venue: FakeFuturesServer, mode: PositionMode
) -> None:
    manager: Any = await build_simulated(_paper(futures_venue))
    async with manager:
        await manager.trader.set_position_mode(XRP, mode)
        context = ModeContext.from_manager(manager)
        assert context.position_mode(XRP) is mode
        sma = SmaCrossMode(context, {"allow_short": True})
        await sma.start()
        try:
            price = Decimal(str(futures_venue.market("XRPUSDT").last_price))
            await _decide(manager, sma, DecisionAction.BUY, price)
            held = [(p.side, p.contracts > 0) for p in manager.connector.positions_snapshot()]
            assert held == [(PositionSide.LONG, True)]
            await _decide(manager, sma, DecisionAction.SELL, price)  # the flip: close the long, open a short
            held = [(p.side, p.contracts > 0) for p in manager.connector.positions_snapshot()]
            assert held == [(PositionSide.SHORT, True)]
            sides = {o.position_side for o in manager.exchange_personal_data.orders_manager.all_orders()}
            assert sides == ({PositionSide.LONG, PositionSide.SHORT} if mode is PositionMode.HEDGE else {None})
        finally:
            await sma.stop()
