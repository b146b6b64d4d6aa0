"""OCO sells share one reservation: the member still open keeps it when the member holding it is canceled.

The first member of an OCO pair on the same funds holds the reservation; the second reserves
nothing more. Whether the holder is canceled by the group (its sibling partly filled) or by the
user, the sibling still open must keep its remaining amount reserved, locally and at the venue,
so that no other order can take those funds and the rest of its fill settles.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data import GroupKind, OrderGroup
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.helpers import make_account

D = Decimal
MARKETS = {"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.001", min_cost="1")}


async def _oco_pair(acc, amount: str):
    group = OrderGroup(GroupKind.OCO)
    stop = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", D(amount), trigger_price=D("80"), group=group)
    limit = await acc.trader.create_order("limit", "sell", "BTC/USDT", D(amount), D("120"), group=group)
    return stop, limit


async def _books(acc) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """``(local (total, available), venue (total, free))`` of BTC."""
    venue = (await acc.connector.fetch_balance())["BTC"]
    return acc.asset("BTC"), (venue.total, venue.free)


def test_oco_sell_partly_filled_keeps_its_remaining_reserved_after_the_group_cancels_its_sibling():
    async def scenario():
        acc = await make_account(
            {"USDT": "1000", "BTC": "10"}, markets=MARKETS, prices={"BTC/USDT": "100"}, partial_fill_fraction="0.5"
        )
        stop, limit = await _oco_pair(acc, "2")
        assert await _books(acc) == ((D(10), D(8)), (D(10), D(8)))
        await acc.candle("100", "121", "99", "120", volume="2")  # fills half of the limit sell

        assert (limit.status, limit.filled, stop.status) == (
            OrderStatus.PARTIALLY_FILLED,
            D(1),
            OrderStatus.CANCELED,
        )
        # 1 BTC sold, 1 BTC still offered by the limit sell: 9 total, 8 available
        assert await _books(acc) == ((D(9), D(8)), (D(9), D(8)))
        assert acc.personal.orders_manager.reserved_by_open_orders() == {"BTC": D(1)}
        # the other 8 BTC can be sold; the limit's remaining BTC cannot be sold twice
        await acc.trader.create_order("limit", "sell", "BTC/USDT", D(8), D("150"))
        await acc.candle("120", "121", "119", "120", volume="10")  # the rest of the limit sell fills

        assert limit.status is OrderStatus.CLOSED and limit.filled == D(2)
        assert await _books(acc) == ((D(8), D(0)), (D(8), D(0)))

    asyncio.run(scenario())


def test_oco_sell_keeps_the_shared_funds_reserved_when_the_user_cancels_the_sibling_holding_them():
    async def scenario():
        acc = await make_account({"USDT": "1000", "BTC": "10"}, markets=MARKETS, prices={"BTC/USDT": "100"})
        stop, limit = await _oco_pair(acc, "2")
        await acc.trader.cancel_order(stop)

        assert limit.status is OrderStatus.OPEN
        assert await _books(acc) == ((D(10), D(8)), (D(10), D(8)))
        assert acc.personal.orders_manager.reserved_by_open_orders() == {"BTC": D(2)}
        await acc.trader.cancel_order(limit)
        assert await _books(acc) == ((D(10), D(10)), (D(10), D(10)))

    asyncio.run(scenario())


def test_shrinking_the_oco_sell_holding_the_shared_funds_keeps_what_its_sibling_still_needs_reserved():
    async def scenario():
        acc = await make_account({"USDT": "1000", "BTC": "10"}, markets=MARKETS, prices={"BTC/USDT": "100"})
        stop, limit = await _oco_pair(acc, "2")
        await acc.trader.edit_order(stop, amount=D(1))

        # the limit sell still offers 2 BTC: they stay reserved
        assert await _books(acc) == ((D(10), D(8)), (D(10), D(8)))
        assert sum(acc.personal.orders_manager.reserved_by_open_orders().values()) == D(2)
        await acc.candle("100", "121", "99", "120", volume="5")  # the limit sell fills, the stop is canceled

        assert (limit.status, limit.filled, stop.status) == (OrderStatus.CLOSED, D(2), OrderStatus.CANCELED)
        assert await _books(acc) == ((D(8), D(8)), (D(8), D(8)))

    asyncio.run(scenario())
