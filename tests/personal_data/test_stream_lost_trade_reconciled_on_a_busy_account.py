"""A fill whose trade the private stream never delivers is reconciled over REST within
``watchdog_seconds`` of its order update, even while the account's other streams keep talking
(orders placed and canceled): the watchdog's silence rule alone would wait for ever."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, private_streams_on, streaming_venue

WATCHDOG = 60


class _DropTradesOf:
    """The engine's exchange, with the streamed trades of the orders in ``drop`` lost."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange
        self.drop: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)

    async def watch_my_trades(self, symbol: str | None = None) -> Any:
        while True:
            trades = [t for t in await self._exchange.watch_my_trades(symbol) if (t.order_id or "") not in self.drop]
            if trades:
                return trades


def _canceled(order: Any) -> Any:
    return lambda: order.status is OrderStatus.CANCELED


async def test_a_lost_streamed_trade_is_reconciled_within_the_watchdog_while_other_orders_stream() -> None:
    async with (
        streaming_venue() as venue,
        private_streams_on(venue, _DropTradesOf, WATCHDOG) as (manager, account, exchange),
    ):
        price = (venue.market("XRPUSDT").last_price * Decimal("0.9")).quantize(Decimal("0.0001"))
        order = await manager.trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, XRP, "100", price)
        exchange.drop.add(order.exchange_order_id or "")
        venue.fill_order(int(order.exchange_order_id or 0))  # its trade never reaches the engine
        orders = manager.exchange_personal_data.orders_manager
        await until(lambda: order.status is OrderStatus.CLOSED)
        assert orders.has_inferred(order) and account.reconciliations == 1
        # the account keeps talking: an order placed and canceled every 30 simulated seconds
        for _ in range(4):
            manager.clock.advance(30_000)
            other = await manager.trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, XRP, "10", price)
            await manager.trader.cancel_order(other)
            await until(_canceled(other))
        await until(lambda: not orders.has_inferred(order) and account.reconciliations == 2)
        assert account.gaps == 1
        (trade,) = [t for t in orders.trades_manager.trades() if t.order_id == order.id]
        assert trade.amount == Decimal("100")
