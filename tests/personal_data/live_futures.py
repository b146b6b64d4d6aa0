"""The engine on the fake USDⓈ-M venue for the live futures tests: ``ExchangeBuilder("binanceusdm")``
on the linear XRP market with the real trader and the real ccxt client on loopback, on a
simulated clock started at the venue's time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.testing import FakeFuturesServer
from tests.clock_driving import build_simulated, until_ready
from tests.exchange_data.helpers import until

XRP = "XRP/USDT:USDT"


def venue_clock(venue: FakeFuturesServer) -> SimulatedClock:
    """A simulated clock at the venue's current time."""
    return SimulatedClock(venue.market("XRPUSDT").now_ms)


def live_futures_builder(venue: FakeFuturesServer, clock: SimulatedClock, **trading_config: Any) -> ot.ExchangeBuilder:
    """The builder on ``venue``'s account: linear ``XRP`` with 5m candles, the real trader, ``clock``;
    ``trading_config`` goes to ``with_trading_config`` beside an order safety accepting any price age."""
    return (
        ot.ExchangeBuilder("binanceusdm")
        .with_credentials(api_key=venue.api_key, api_secret=venue.api_secret)
        .with_market_type("linear")
        .with_symbols([XRP])
        .with_time_frames(["5m"])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, **trading_config)
        .use_real_trader()
    )


@contextlib.asynccontextmanager
async def running(builder: ot.ExchangeBuilder) -> AsyncIterator[Any]:
    """The manager ``builder`` builds (on its simulated clock), started and ready; stopped on exit."""
    built = await build_simulated(builder)
    async with built:
        await until_ready(built)
        yield built


def local_position(manager: Any, side: PositionSide | None = None) -> Any:
    """The manager's local ``XRP`` position (of ``side`` in hedge mode), None when flat."""
    return manager.exchange_personal_data.positions_manager.get(XRP, side)


def collect_liquidations(manager: Any) -> list[Liquidation]:
    """The list the manager's positions manager appends each liquidation it reports to, from now on."""
    liquidations: list[Liquidation] = []

    async def on_liquidation(liquidation: Liquidation) -> None:
        liquidations.append(liquidation)

    manager.exchange_personal_data.positions_manager.add_liquidation_listener(on_liquidation)
    return liquidations


async def polled(clock: SimulatedClock, period_s: float, condition: Callable[[], Any], *, polls: int = 5) -> None:
    """Move ``clock`` one account-poll period (``period_s``) at a time until ``condition()`` holds.

    The poll loop schedules its next wake only once its current poll has ended, so a single move
    made while a poll is still in flight (an order's early poll, say) is used up before the loop
    sleeps again: another period is moved after each bounded real-time wait (at most ``polls``)."""
    for _ in range(polls - 1):
        clock.advance(round(period_s * 1000))
        with contextlib.suppress(AssertionError):
            await until(condition, limit_s=3.0)
            return
    clock.advance(round(period_s * 1000))
    await until(condition)
