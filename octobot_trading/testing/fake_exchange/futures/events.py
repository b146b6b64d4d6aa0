"""Market events of the fake USDⓈ-M venue: price moves, candle replay, funding, liquidation and ADL.

* :func:`set_last_price` — the last trade price jumps to a value (until the next candle): resting
  limit orders it reaches fill at their price, ``CONTRACT_PRICE`` conditional orders trigger.
* :func:`set_mark_price` — the mark price jumps to a value (until the next candle):
  ``MARK_PRICE`` conditional orders trigger, positions are revalued and liquidations checked.
* :func:`advance` — every market moves to its next candle: resting limit orders are matched
  against its range, conditional orders against its path (open, nearer extreme, other extreme,
  close), funding is settled at every funding time the step passes (00:00, 08:00, 16:00 UTC) and
  liquidations are checked at the new mark price.
* :func:`settle_funding` — every open position pays ``notional at mark x rate`` through the
  accounting; each payment is a ``FUNDING_FEE`` income row and the event joins the funding-rate
  history.
* :func:`check_liquidations` — an isolated position whose liquidation price the mark reaches, and
  every cross position of a settle asset whose margin balance falls to the maintenance margin, is
  closed by the venue: the open orders of the closed position are canceled (every open order of
  the symbol in one-way mode, those of the closed side in hedge mode: the other side's position
  and orders are left alone; conditional orders too, margin released) and a filled
  ``LIQUIDATION`` force order (client id ``autoclose-<time>``, ``IOC`` ``LIMIT`` at the closing
  price, realized PnL minus the margin lost) appears in ``/fapi/v1/forceOrders``, the orders,
  the trades and the income.
* :func:`auto_deleverage` — the venue closes a position at the mark price, no fee (an ``ADL``
  force order, client id ``adl_autoclose``); the closed position's open orders are canceled as
  for a liquidation.
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderSide, PositionSide
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.testing.fake_exchange.futures.algo import trigger_algos
from octobot_trading.testing.fake_exchange.futures.markets import FUNDING_INTERVAL_MS, FuturesMarket
from octobot_trading.testing.fake_exchange.futures.records import ForceOrder, FuturesFill, FuturesOrder
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.testing.fake_exchange.state import FakeExchangeError
from octobot_trading.util.decimals import ZERO

__all__ = ["advance", "auto_deleverage", "check_liquidations", "set_last_price", "set_mark_price", "settle_funding"]


def set_last_price(state: FuturesVenueState, market: FuturesMarket, price: Decimal) -> None:
    """Move the last price of ``market`` (see the module docstring)."""
    market.last_override = price
    state.match(market, price, price)
    trigger_algos(state, market, [price], "CONTRACT_PRICE")


def set_mark_price(state: FuturesVenueState, market: FuturesMarket, price: Decimal) -> list[ForceOrder]:
    """Move the mark price of ``market``; return the force orders of the liquidations it caused."""
    market.mark_override = price
    trigger_algos(state, market, [price], "MARK_PRICE")
    return check_liquidations(state, market)


def _path(o: Decimal, h: Decimal, lo: Decimal, c: Decimal) -> list[Decimal]:
    return [o, lo, h, c] if o - lo <= h - o else [o, h, lo, c]


def advance(state: FuturesVenueState, steps: int = 1) -> list[ForceOrder]:
    """Move every market ``steps`` candles forward (see the module docstring); return the liquidations."""
    done: list[ForceOrder] = []
    for _ in range(steps):
        for market in state.markets.values():
            if market.cursor + 1 >= len(market.candles):
                raise IndexError(f"{market.symbol_id}: no more candles to replay")
        for market in state.markets.values():
            before = market.now_ms
            market.cursor += 1
            market.last_override = None
            market.mark_override = None
            _, o, h, lo, c, _ = market.current
            state.match(market, lo, h)
            trigger_algos(state, market, _path(o, h, lo, c), "CONTRACT_PRICE")
            trigger_algos(state, market, [market.mark_price], "MARK_PRICE")
            funding_time = (before // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
            while funding_time <= market.now_ms and not market.is_dated:  # dated futures: no funding
                settle_funding(state, market, funding_time)
                funding_time += FUNDING_INTERVAL_MS
            done += check_liquidations(state, market)
    return done


def settle_funding(
    state: FuturesVenueState, market: FuturesMarket, funding_time: int | None = None, rate: Decimal | None = None
) -> list[Decimal]:
    """Settle funding of ``market`` at ``funding_time`` (default: the next funding time, settled early).

    ``rate`` defaults to the data's rate for that time (else the market's default rate: what
    ``premiumIndex`` quotes as ``lastFundingRate``). A position already paid at that time is not
    paid again (when the replay reaches it later, for instance). Returns the amounts paid
    (negative) or received, one per position paying now.
    """
    when = funding_time if funding_time is not None else market.next_funding_time()
    value = rate if rate is not None else market.funding_rate_at(when)
    mark = market.mark_price
    amounts: list[Decimal] = []
    for account in state.accounts.values():
        state.sync_marks(account)
        payments = account.futures.apply_funding(market.symbol, value, mark, when)
        for payment in payments:
            state.add_income(account, market, "FUNDING_FEE", payment.amount, when)
            amounts.append(payment.amount)
        if payments:
            state._touch(account, "FUNDING_FEE")
    if all(t != when for t, _, _ in market.settled_funding):
        market.settled_funding.append((when, value, mark))
    return amounts


def check_liquidations(state: FuturesVenueState, market: FuturesMarket) -> list[ForceOrder]:
    """Liquidate what the current mark price of ``market`` reaches, in every account (module docstring)."""
    done: list[ForceOrder] = []
    now = state.now_ms()
    for account in state.accounts.values():
        state.sync_marks(account)
        liquidations = account.futures.check_isolated_liquidation(market.symbol, [market.mark_price], now)
        liquidations += account.futures.check_cross_liquidation(market.settle, now)
        for liquidation in liquidations:
            done.append(_liquidated(state, account, liquidation))
    return done


def _liquidated(state: FuturesVenueState, account: FuturesVenueAccount, liquidation: Liquidation) -> ForceOrder:
    market = next(m for m in state.markets.values() if m.symbol == liquidation.symbol)
    realized = -liquidation.margin_lost
    force = _force_order(
        state, account, market, liquidation.side, liquidation.size, liquidation.price, realized, "LIQUIDATION"
    )
    if realized:
        state.add_income(account, market, "REALIZED_PNL", realized, force.order.time, str(force.order.fills[0].id))
    return force


def auto_deleverage(
    state: FuturesVenueState, account: FuturesVenueAccount, market: FuturesMarket, side: PositionSide | None = None
) -> ForceOrder:
    """Close the position of ``market`` (of ``side`` in hedge mode) at the mark price, no fee (an ADL)."""
    state.sync_marks(account)
    position = account.futures.get(market.symbol, side)
    if position is None:
        raise FakeExchangeError(-2013, "No position to deleverage.")
    mark = market.mark_price
    close_side = OrderSide.SELL if position.side is PositionSide.LONG else OrderSide.BUY
    fill_id = state.next_fill_id()
    result = account.futures.apply_fill(
        str(fill_id),
        market.symbol,
        close_side,
        position.contracts,
        mark,
        state.now_ms(),
        reduce_only=not account.dual_side,
        position_side=position.side if account.dual_side else None,
    )
    assert result is not None
    force = _force_order(
        state, account, market, position.side, position.contracts, mark, result.realized_pnl, "ADL", fill_id
    )
    if result.realized_pnl:
        state.add_income(account, market, "REALIZED_PNL", result.realized_pnl, force.order.time, str(fill_id))
    return force


def _force_order(
    state: FuturesVenueState,
    account: FuturesVenueAccount,
    market: FuturesMarket,
    side: PositionSide,
    size: Decimal,
    price: Decimal,
    realized: Decimal,
    kind: str,
    fill_id: int | None = None,
) -> ForceOrder:
    position_side = side.value.upper() if account.dual_side else "BOTH"
    for open_order in state.open_orders_of(account.api_key, market.symbol_id):
        if account.dual_side and open_order.position_side != position_side:
            continue  # hedge mode: the other side's position, and its orders, are not touched
        if isinstance(open_order, FuturesOrder):
            state.cancel(open_order)
        else:
            open_order.algo_status = "CANCELED"
            open_order.update_time = state.now_ms()
            state.notify_algo(open_order)
    now = state.now_ms()
    order_id = state.next_order_id()
    order_side = "SELL" if side is PositionSide.LONG else "BUY"
    order = FuturesOrder(
        order_id=order_id,
        client_order_id=f"autoclose-{now}" if kind == "LIQUIDATION" else "adl_autoclose",
        api_key=account.api_key,
        symbol_id=market.symbol_id,
        side=order_side,
        type="LIMIT",
        price=price,
        orig_qty=size,
        time=now,
        position_side=position_side,
        reduce_only=True,
        time_in_force="IOC",
        status="FILLED",
        update_time=now,
        contract_size=market.contract_size,
    )
    order.executed_qty = size
    order.add_fill_value(size, price)
    trade_id = fill_id if fill_id is not None else state.next_fill_id()
    order.fills.append(
        FuturesFill(
            trade_id,
            order_id,
            market.symbol_id,
            order_side,
            position_side,
            price,
            size,
            ZERO,
            market.settle,
            realized,
            now,
            False,
            market.contract_size,
        )
    )
    state.orders[order_id] = order
    force = ForceOrder(order, kind)
    state.force_orders.append(force)
    state._notify(order)
    state._touch(account, kind)
    return force
