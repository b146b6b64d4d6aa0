"""A reduce-only order the venue refuses (Binance -2022 "ReduceOnly Order is rejected.", on the fake
USDⓈ-M and COIN-M venues alike) reaches the trader as a typed ``InvalidOrder`` naming the
reduce-only rule, and changes nothing locally: the position, the balance and the open orders stay
as they were. The local books are made to lag the venue on purpose: the venue closes the position
(an auto-deleveraging) between two account polls, so the trader still sees a position to reduce
and sends the order; the venue, with nothing left to reduce, refuses it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.exchanges.futures_venues import COINM, USDM, VenueKind
from tests.personal_data.live_futures import live_futures_builder, running, venue_clock

D = Decimal
POLL_SECONDS = 600.0


@dataclass(frozen=True)
class Venue:
    """One fake venue kind as this test uses it: the kind, the amount traded and the order route."""

    kind: VenueKind
    amount: str
    order_route: str

    @property
    def symbol(self) -> str:
        return self.kind.symbol

    @property
    def venue_id(self) -> str:
        return self.kind.venue_id

    @property
    def asset(self) -> str:
        return self.kind.margin_asset


VENUES = {
    "usdm": Venue(USDM, "100", "/fapi/v1/order"),
    "coinm": Venue(COINM, "10", "/dapi/v1/order"),
}


@contextlib.asynccontextmanager
async def _engine(venue: Venue) -> AsyncIterator[tuple[Any, FakeFuturesServer]]:
    kind = venue.kind
    async with kind.server() as server:
        clock = venue_clock(server, kind)
        builder = live_futures_builder(server, clock, kind=kind, account_poll_seconds=POLL_SECONDS).rest_only(True)
        async with running(builder) as built:
            yield built, server


def _local_state(built: Any, kind: Venue) -> tuple[Any, ...]:
    position = built.exchange_personal_data.positions_manager.get(kind.symbol)
    asset = built.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio(kind.asset)
    orders = built.exchange_personal_data.orders_manager.open_orders()
    in_flight = built.exchange_personal_data.orders_manager.in_flight()
    return (repr(position), asset.total, asset.available, [o.order_id for o in orders], len(in_flight))


@pytest.mark.parametrize("name", sorted(VENUES))
async def test_reduce_only_order_the_venue_refuses_is_a_typed_error_and_changes_nothing_locally(name: str) -> None:
    kind = VENUES[name]
    async with _engine(kind) as (built, server):
        await built.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, kind.symbol, amount=kind.amount)
        positions = built.exchange_personal_data.positions_manager
        await until(lambda: positions.get(kind.symbol) is not None)
        server.auto_deleverage(kind.venue_id)  # the venue closes it; the engine has not polled since
        assert server.futures_account().futures.get(kind.symbol) is None
        before = _local_state(built, kind)
        orders_sent = server.faults.count("POST", kind.order_route)

        with pytest.raises(errors.InvalidOrder) as refused:
            await built.trader.create_order(
                ot.OrderType.MARKET, ot.OrderSide.SELL, kind.symbol, amount=kind.amount, reduce_only=True
            )

        assert refused.value.limit == "reduce_only"
        assert "-2022" in str(refused.value) or "ReduceOnly" in str(refused.value)
        assert server.faults.count("POST", kind.order_route) == orders_sent + 1  # sent once, refused by the venue
        assert _local_state(built, kind) == before
        assert server.futures_account().futures.get(kind.symbol) is None
        assert not server.venue.open_orders_of(server.api_key)
