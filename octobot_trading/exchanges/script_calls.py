"""The simple-script calls of :class:`~octobot_trading.exchanges.rest_exchange.RestExchange`.

Plain functions behind ``get_ticker_price``, ``execute_trade`` and ``get_portfolio_value``
(the protocols of :mod:`octobot_trading.exchanges.protocols`), plus the conversion of a
balance to another currency through the venue's markets. They take the exchange (through its
public calls only, see :class:`ScriptVenue`) and any state they need as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from decimal import Decimal
from typing import Any, Protocol

from octobot_trading.constants import CLIENT_ORDER_ID_PREFIX
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import AmbiguousOrderOutcome, BadExchangeResponse, InvalidOrder, NotSupported
from octobot_trading.exchanges.protocols import OrderEntry
from octobot_trading.exchanges.types import Balance, ExchangeOrder, MarketInfo, Ticker
from octobot_trading.util.decimals import ZERO, to_decimal
from octobot_trading.util.ids import new_client_order_id

__all__ = [
    "ScriptVenue",
    "conversion_rate",
    "direct_rate",
    "execute_trade",
    "order_kind",
    "order_side",
    "portfolio_value",
    "ticker_price",
]

#: Intermediate currencies tried first when no market converts an asset directly.
_PREFERRED_MIDDLES = ("USDT", "USDC", "USD", "BTC", "ETH", "BUSD", "EUR")


class ScriptVenue(Protocol):
    """The exchange calls these functions use."""

    @property
    def name(self) -> str: ...

    @property
    def max_client_order_id_length(self) -> int: ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def get_ticker_price(self, symbol: str) -> Decimal: ...

    async def fetch_balance(self) -> dict[str, Balance]: ...

    async def load_markets(self, reload: bool = False) -> dict[str, MarketInfo]: ...

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None: ...


def order_side(side: OrderSide | str, symbol: str) -> OrderSide:
    """``OrderSide`` or its exact value (``"buy"`` / ``"sell"``), as the trader's orders accept it."""
    if type(side) is OrderSide:  # (the enum call is a Python-level call: once per order)
        return side
    try:
        return OrderSide(side)
    except ValueError:
        raise InvalidOrder(f"unknown order side {side!r}", limit="side", symbol=symbol) from None


def order_kind(order_type: OrderType | str, symbol: str) -> OrderType:
    """``OrderType`` or its exact value; anything else raises ``InvalidOrder``."""
    if type(order_type) is OrderType:
        return order_type
    try:
        return OrderType(order_type)
    except ValueError:
        raise InvalidOrder(f"unknown order type {order_type!r}", limit="type", symbol=symbol) from None


async def ticker_price(exchange: ScriptVenue, symbol: str) -> Decimal:
    """The last price of ``symbol`` (the ticker's ``last``, else its ``close``)."""
    ticker = await exchange.fetch_ticker(symbol)
    price = ticker.last if ticker.last is not None else ticker.close
    if price is None:
        raise BadExchangeResponse(f"ticker of {symbol} has no price", exchange=exchange.name, symbol=symbol)
    return price


async def execute_trade(
    exchange: ScriptVenue,
    entry: OrderEntry | None,
    placements: MutableMapping[str, ExchangeOrder | None],
    symbol: str,
    side: OrderSide | str,
    amount: Decimal | int | str,
    price: Decimal | int | str | None,
) -> ExchangeOrder:
    """Place a market (no ``price``) or limit order through ``entry``; return the venue's view.

    ``placements`` is the exchange's table of orders being placed this way: the exchange's
    ``create_order`` records the venue's answer there under the client order id.
    See ``RestExchange.execute_trade`` for the checks and errors.
    """
    kind, order_side_ = (OrderType.MARKET if price is None else OrderType.LIMIT), order_side(side, symbol)
    qty = to_decimal(amount, name="amount")
    px = to_decimal(price, name="price") if price is not None else None
    if entry is None:
        raise NotSupported(
            "execute_trade needs the engine's order checks: use the exchange of a built "
            "manager (ExchangeFactory.create_exchange or ExchangeBuilder), which has a trader",
            exchange=exchange.name,
            symbol=symbol,
        )
    await exchange.fetch_ticker(symbol)  # a current price for the price protection
    # an engine sharing its account gives its orders its own prefix (TradingConfig.client_order_id_prefix)
    prefix = getattr(entry, "client_order_id_prefix", None) or CLIENT_ORDER_ID_PREFIX
    cid = new_client_order_id(exchange.max_client_order_id_length, prefix=prefix)
    placements[cid] = None
    try:
        await entry.create_order(kind, order_side_, symbol, qty, px, client_order_id=cid)
        placed = placements.get(cid)
    finally:
        placements.pop(cid, None)
    if placed is None:
        placed = await exchange.fetch_order_by_client_id(cid, symbol)
    if placed is None:
        raise AmbiguousOrderOutcome(
            "the venue did not confirm the order; it stays in flight and is resolved "
            "by the next sync (do not re-send it)",
            client_order_id=cid,
            exchange=exchange.name,
            symbol=symbol,
        )
    return placed


async def portfolio_value(exchange: ScriptVenue, currency: str) -> Decimal:
    """The total balance value in ``currency`` at last prices (see ``RestExchange.get_portfolio_value``)."""
    balances = await exchange.fetch_balance()
    markets = await exchange.load_markets()
    amounts = {asset: balance.total for asset, balance in balances.items()}
    # a futures account: the settle currency's total is the wallet; the open positions'
    # unrealized PnL (in their settle currency) is part of the account's value
    get_positions = getattr(exchange, "get_positions", None)
    for position in await get_positions() if get_positions is not None else ():
        if position.unrealized_pnl:
            settle = position.symbol.partition(":")[2]
            amounts[settle] = amounts.get(settle, ZERO) + position.unrealized_pnl
    total = ZERO
    missing: list[str] = []
    for asset, amount in amounts.items():
        if amount == 0:
            continue
        rate = await conversion_rate(exchange, asset, currency, markets)
        if rate is None:
            missing.append(asset)
        else:
            total += amount * rate
    if missing:
        raise NotSupported(
            f"no market converts {', '.join(sorted(missing))} to {currency} on {exchange.name}", exchange=exchange.name
        )
    return total


async def direct_rate(exchange: ScriptVenue, source: str, target: str, markets: Mapping[str, Any]) -> Decimal | None:
    """Price of one ``source`` in ``target`` through ``source/target`` or its inverse market, else None."""
    if source == target:
        return Decimal(1)
    if f"{source}/{target}" in markets:
        return await exchange.get_ticker_price(f"{source}/{target}")
    if f"{target}/{source}" in markets:
        return 1 / await exchange.get_ticker_price(f"{target}/{source}")
    # no spot market: a contract market of the pair prices it too (BTC/USD:BTC converts BTC to USD)
    for symbol in sorted(markets):
        pair = symbol.partition(":")[0]
        if ":" in symbol and pair in (f"{source}/{target}", f"{target}/{source}"):
            price = await exchange.get_ticker_price(symbol)
            return price if pair == f"{source}/{target}" else 1 / price
    return None


async def conversion_rate(
    exchange: ScriptVenue, source: str, target: str, markets: Mapping[str, Any]
) -> Decimal | None:
    """Price of one ``source`` in ``target``: direct, else through one intermediate currency."""
    direct = await direct_rate(exchange, source, target, markets)
    if direct is not None:
        return direct
    linked = {
        part
        for symbol in markets
        for part in symbol.split(":")[0].split("/")
        if source in symbol.split(":")[0].split("/")
    } - {source, target}
    preferred = _PREFERRED_MIDDLES
    for middle in sorted(linked, key=lambda c: (preferred.index(c) if c in preferred else len(preferred), c)):
        second = await direct_rate(exchange, middle, target, markets)
        if second is None:
            continue
        first = await direct_rate(exchange, source, middle, markets)
        if first is not None:
            return first * second
    return None
