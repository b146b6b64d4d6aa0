"""Conditional orders of the fake USDⓈ-M venue (Binance's algo-order service, ``/fapi/v1/algoOrder``).

``STOP_MARKET`` / ``STOP`` trigger when the price reaches the trigger price against the
position (a buy at or above it, a sell at or below it); ``TAKE_PROFIT_MARKET`` / ``TAKE_PROFIT``
the other way round (a buy at or below, a sell at or above). The price watched is the last price
(``workingType=CONTRACT_PRICE``, the default) or the mark price (``MARK_PRICE``). An order that
would trigger at once is refused (-2021). Conditional orders reserve no margin.

When triggered, the order becomes a regular order (``MARKET`` for the ``*_MARKET`` types,
``LIMIT`` at ``price`` otherwise) with the same client id and ``origType`` the conditional type;
the conditional order turns ``FINISHED`` and names it in ``actualOrderId`` (``EXPIRED`` when the
regular order is refused, e.g. a reduce-only order with no position left). A ``*_MARKET`` order
fills at its trigger price, or at the price that reached it when that price was already past
the trigger (a gap). ``closePosition=true`` closes the whole position of its side when triggered.
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.records import ALGO_TYPES, AlgoOrder
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState, OrderRequest
from octobot_trading.testing.fake_exchange.state import FakeExchangeError
from octobot_trading.util.decimals import ZERO

__all__ = ["AlgoRequest", "cancel_algo", "place_algo", "trigger_algos"]


class AlgoRequest:
    """A conditional order as sent to ``POST /fapi/v1/algoOrder`` (already parsed)."""

    def __init__(
        self,
        symbol_id: str,
        side: str,
        order_type: str,
        quantity: Decimal | None,
        trigger_price: Decimal,
        client_algo_id: str,
        *,
        price: Decimal | None = None,
        position_side: str = "BOTH",
        reduce_only: bool = False,
        close_position: bool = False,
        working_type: str = "CONTRACT_PRICE",
        time_in_force: str = "GTC",
    ) -> None:
        self.symbol_id = symbol_id
        self.side = side
        self.order_type = order_type
        self.quantity = quantity
        self.trigger_price = trigger_price
        self.client_algo_id = client_algo_id
        self.price = price
        self.position_side = position_side
        self.reduce_only = reduce_only
        self.close_position = close_position
        self.working_type = working_type
        self.time_in_force = time_in_force


def _reached(order: AlgoOrder, price: Decimal) -> bool:
    stop = order.order_type in ("STOP", "STOP_MARKET")
    upward = (order.side == "BUY") == stop
    return price >= order.trigger_price if upward else price <= order.trigger_price


def place_algo(state: FuturesVenueState, account: FuturesVenueAccount, request: AlgoRequest) -> AlgoOrder:
    """Validate and store a conditional order; nothing changes on error."""
    market = state.market(request.symbol_id)
    if request.side not in ("BUY", "SELL"):
        raise FakeExchangeError(-1117, "Invalid side.")
    if request.order_type not in ALGO_TYPES:
        raise FakeExchangeError(-1116, "Invalid orderType.")
    if request.working_type not in ("CONTRACT_PRICE", "MARK_PRICE"):
        raise FakeExchangeError(-1102, "Mandatory parameter 'workingType' was not sent, was empty/null, or malformed.")
    state.check_position_side(account, request.position_side, request.reduce_only)
    state.check_price(market, request.trigger_price)
    limit = request.order_type in ("STOP", "TAKE_PROFIT")
    if limit:
        if request.price is None:
            raise FakeExchangeError(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
        state.check_price(market, request.price)
    if request.close_position:
        if request.quantity is not None or not request.order_type.endswith("_MARKET"):
            raise FakeExchangeError(-4136, "Target strategy invalid for orderType, closePosition true.")
    else:
        if request.quantity is None:
            raise FakeExchangeError(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        state.check_quantity(market, request.quantity, market_order=not limit)
    state.check_client_id(account.api_key, request.client_algo_id)
    now = state.now_ms()
    order = AlgoOrder(
        algo_id=state.next_algo_id(),
        client_algo_id=request.client_algo_id,
        api_key=account.api_key,
        symbol_id=market.symbol_id,
        side=request.side,
        order_type=request.order_type,
        quantity=request.quantity if request.quantity is not None else ZERO,
        trigger_price=request.trigger_price,
        create_time=now,
        price=request.price if request.price is not None else ZERO,
        position_side=request.position_side,
        reduce_only=request.reduce_only or request.close_position,
        close_position=request.close_position,
        working_type=request.working_type,
        time_in_force=request.time_in_force,
        update_time=now,
    )
    watched = market.mark_price if order.working_type == "MARK_PRICE" else market.last_price
    if _reached(order, watched):
        raise FakeExchangeError(-2021, "Order would immediately trigger.")
    state.algo_orders[order.algo_id] = order
    state.notify_algo(order)
    return order


def find_algo(state: FuturesVenueState, api_key: str, algo_id: str | None, client_algo_id: str | None) -> AlgoOrder:
    """Look a conditional order up by ``algoId`` or ``clientAlgoId``; -2013 when unknown."""
    if algo_id is None and client_algo_id is None:
        raise FakeExchangeError(-1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")
    for order in state.algo_orders.values():
        if order.api_key != api_key:
            continue
        if algo_id is not None and str(order.algo_id) == algo_id:
            return order
        if algo_id is None and order.client_algo_id == client_algo_id:
            return order
    raise FakeExchangeError(-2013, "Order does not exist.")


def cancel_algo(state: FuturesVenueState, order: AlgoOrder) -> AlgoOrder:
    """Cancel an open conditional order; -2011 when it is not open."""
    if not order.is_open:
        raise FakeExchangeError(-2011, "Unknown order sent.")
    order.algo_status = "CANCELED"
    order.update_time = state.now_ms()
    state.notify_algo(order)
    return order


def trigger_algos(state: FuturesVenueState, market: FuturesMarket, path: list[Decimal], working_type: str) -> None:
    """Trigger the open conditional orders of ``market`` watching ``working_type`` that the price ``path`` reaches."""
    candidates = sorted(
        (
            a
            for a in state.algo_orders.values()
            if a.symbol_id == market.symbol_id and a.is_open and a.working_type == working_type
        ),
        key=lambda a: a.algo_id,
    )
    for algo in candidates:
        for index, price in enumerate(path):
            if _reached(algo, price):
                fill_price = price if index == 0 else algo.trigger_price
                _trigger(state, market, algo, fill_price)
                break


def _trigger(state: FuturesVenueState, market: FuturesMarket, algo: AlgoOrder, fill_price: Decimal) -> None:
    now = state.now_ms()
    algo.trigger_time = now
    algo.update_time = now
    algo.algo_status = _place_triggered(state, market, algo, fill_price)
    state.notify_algo(algo)


def _place_triggered(state: FuturesVenueState, market: FuturesMarket, algo: AlgoOrder, fill_price: Decimal) -> str:
    """Place the regular order of a triggered conditional order; return the conditional order's new status."""
    account = state.accounts[algo.api_key]
    quantity = algo.quantity
    if algo.close_position:
        side = None if algo.position_side == "BOTH" else algo.position_side.lower()
        held = next(
            (p for p in account.futures.positions() if p.symbol == market.symbol and (side is None or p.side == side)),
            None,
        )
        if held is None:
            return "EXPIRED"
        quantity = held.contracts
    market_type = algo.order_type.endswith("_MARKET")
    request = OrderRequest(
        market.symbol_id,
        algo.side,
        "MARKET" if market_type else "LIMIT",
        quantity,
        None if market_type else algo.price,
        algo.client_algo_id,
        position_side=algo.position_side,
        reduce_only=algo.reduce_only and not account.dual_side,
        time_in_force="GTC" if market_type else algo.time_in_force,
    )
    saved = market.last_override
    if market_type:
        market.last_override = fill_price  # the market order fills where the trigger was reached
    try:
        order = state.place_order(
            account, request, orig_type=algo.order_type, stop_price=algo.trigger_price, working_type=algo.working_type
        )
    except FakeExchangeError:
        return "EXPIRED"
    finally:
        market.last_override = saved
    algo.actual_order_id = order.order_id
    return "FINISHED" if order.status != "EXPIRED" else "EXPIRED"
