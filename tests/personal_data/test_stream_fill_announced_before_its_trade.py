"""The private streams take a venue message carrying an order update and its trade on two watchers
(``watch_orders``, ``watch_my_trades``), which may hand them over in either order: on a loaded
machine the order update announcing the fill is often applied first (its average price makes it an
inferred fill). That fill is not a missed one: the trades stream delivers it right after, and it is
applied as the order's real fill with no REST reconciliation and no gap counted (a fill the stream
really lost is still read over REST, tests/personal_data/test_private_streams.py). The real
ccxt.pro ``binanceusdm`` client against the fake USDⓈ-M venue's user-data stream (loopback, the
account poll stopped); the streams' exchange hands a fill over only once the order update of that
fill was applied (the loaded machine's order, made deterministic)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, private_streams_on, streaming_venue


class _OrderUpdatesFirst:
    """``manager.exchange`` whose fills are handed over only once an order update counting them was
    applied (the orders watcher came back for the next updates)."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange
        self._received: list[ExchangeOrder] = []  # the batch the orders watcher is applying
        self.applied: dict[str, Decimal] = {}  # order id -> filled amount of its last update applied
        self._traded: dict[str, Decimal] = {}  # order id -> amount of the fills received
        self._changed = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)

    async def watch_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        self.applied.update((order.id, order.filled) for order in self._received)  # the watcher is back
        self._changed.set()
        self._received = await self._exchange.watch_orders(symbol)
        return self._received

    async def watch_my_trades(self, symbol: str | None = None) -> list[ExchangeTrade]:
        trades: list[ExchangeTrade] = await self._exchange.watch_my_trades(symbol)
        for trade in trades:
            key = trade.order_id or ""
            self._traded[key] = self._traded.get(key, Decimal(0)) + trade.amount
        while any(self.applied.get(key, Decimal(0)) < amount for key, amount in self._traded.items()):
            self._changed.clear()
            await self._changed.wait()
        return trades


async def test_a_fill_whose_order_update_is_applied_before_its_trade_is_not_a_gap() -> None:
    async with (
        streaming_venue() as venue,
        private_streams_on(venue, _OrderUpdatesFirst) as (manager, account, exchange),
    ):
        price = (venue.market("XRPUSDT").last_price * Decimal("0.9")).quantize(Decimal("0.0001"))
        order = await manager.trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, XRP, "100", price)
        await until(lambda: order.exchange_order_id in exchange.applied)  # its NEW update
        venue.fill_order(int(order.exchange_order_id or 0))  # one message: the order update and the trade
        orders = manager.exchange_personal_data.orders_manager
        await until(lambda: order.status is OrderStatus.CLOSED and not orders.has_inferred(order))
        (trade,) = manager.exchange_personal_data.trades_manager.trades()
        (fill,) = venue.venue.orders[int(order.exchange_order_id or 0)].fills
        assert (trade.id, trade.amount, trade.price) == (str(fill.id), fill.qty, fill.price)
        assert (account.gaps, account.reconciliations) == (0, 1)  # no REST reconciliation for it
