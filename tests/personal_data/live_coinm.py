"""The engine on the fake COIN-M venue for the live inverse futures tests: ``ExchangeBuilder("binancecoinm")``
on ``BTC/USD:BTC`` (100 USD contracts margined in BTC) with 1h candles, the real trader and the real
ccxt client on loopback (REST only by default), on a simulated clock started at the venue's time."""

from __future__ import annotations

from typing import Any

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide
from octobot_trading.testing import FakeCoinMServer

BTC = "BTC/USD:BTC"
VENUE_ID = "BTCUSD_PERP"


def coinm_clock(venue: FakeCoinMServer) -> SimulatedClock:
    """A simulated clock at the venue's current time."""
    return SimulatedClock(venue.market(VENUE_ID).now_ms)


def coinm_builder(
    venue: FakeCoinMServer, clock: SimulatedClock, poll_seconds: float, *, rest_only: bool = True, **trading_config: Any
) -> ot.ExchangeBuilder:
    """The builder on ``venue``'s account (the account polled every ``poll_seconds``; REST only unless
    ``rest_only`` is False; ``trading_config`` goes to ``with_trading_config``)."""
    return (
        ot.ExchangeBuilder("binancecoinm")
        .with_credentials(api_key=venue.api_key, api_secret=venue.api_secret)
        .with_market_type("inverse")
        .with_symbols([BTC])
        .with_time_frames(["1h"])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .with_trading_config(
            order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=poll_seconds, **trading_config
        )
        .use_real_trader()
        .rest_only(rest_only)
    )


def coinm_position(manager: Any, side: PositionSide | None = None) -> Any:
    """The manager's local ``BTC/USD:BTC`` position (of ``side`` in hedge mode), None when flat."""
    return manager.exchange_personal_data.positions_manager.get(BTC, side)


async def assert_coinm_follows_venue(manager: Any, venue: FakeCoinMServer) -> None:
    """Every local position and the BTC balance equal the venue's exactly."""
    futures = venue.futures_account().futures
    for side in (PositionSide.LONG, PositionSide.SHORT):
        local, theirs = coinm_position(manager, side), futures.get(BTC, side)
        assert (local is None) == (theirs is None), side
        if local is not None:
            assert (local.size, local.entry_price, local.leverage) == (theirs.size, theirs.entry_price, theirs.leverage)
            assert (local.margin_mode, local.initial_margin) == (theirs.margin_mode, theirs.initial_margin)
            assert local.liquidation_price == theirs.liquidation_price
    balance = (await manager.exchange.fetch_balance())["BTC"]
    assert balance.total == futures.wallet("BTC")
    asset = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("BTC")
    assert (asset.total, asset.available) == (balance.total, balance.free)
