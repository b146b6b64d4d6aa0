"""The trader's futures side: contract settings, order checks and margin reservations.

:class:`FuturesTrading` is the trader's collaborator for contract symbols (``BTC/USDT:USDT``,
``BTC/USD:BTC``; docs/futures.md):

* **settings** — :meth:`~FuturesTrading.set_leverage`, :meth:`~FuturesTrading.set_margin_mode`,
  :meth:`~FuturesTrading.set_position_mode` check the value (a float leverage: ``TypeError``; one
  outside the contract spec's range: ``ConfigurationError(field="leverage")``; a spot symbol:
  ``ConfigurationError(field="symbol")``), refuse with ``OpenPositionsError`` (a
  ``ConfigurationError``) while the symbol has an open position **or an open order** (an order
  resting at the venue was reserved at the old setting: cancel it first), then ask the venue
  (``manager.exchange``) and remember the setting;
* **the venue's settings** — live, :meth:`~FuturesTrading.adopt` takes the leverage, margin mode
  and position mode the venue holds for each traded contract (read at start, before readiness);
  on a venue where the position mode is one setting of the whole account (Binance), it then
  applies to every contract and setting it for one symbol sets it for all;
* **order checks** before anything changes — a contract order naming a sub-portfolio is refused
  (``ConfigurationError(field="sub_portfolio")``: one position and one margin wallet per account
  cannot be split); hedge mode needs ``position_side`` (``LONG`` /
  ``SHORT``) and one-way mode refuses it (``InvalidOrder(limit="position_side")``); a
  ``reduce_only`` order that would open, grow or flip a position is refused
  (``InvalidOrder(limit="reduce_only")``), judged on the positions the venue last reported,
  as is one larger than what the position has left after the other resting ``reduce_only``
  orders closing it (``positions.reduce_only``);
* **margin reservation** — an order reserves, in the settle currency, the initial margin of the
  contracts it opens plus the taker fee of its whole amount (``contract_math``), at its valuation
  price; one that only closes reserves nothing; a one-way flip is credited what its close frees,
  for the part of the position earlier open orders do not count on closing. The venue's own
  check (the exact accounting) has the last word; after each fill, funding or liquidation the
  venue's pushed margin replaces the settle currency's balance (:meth:`~FuturesTrading.on_positions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.errors import ConfigurationError, InvalidOrder, OctoBotTradingError, OpenPositionsError
from octobot_trading.exchanges.types import ContractSettings, ExchangePosition, MarketInfo
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions import reduce_only
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec, contract_kind, settle_currency
from octobot_trading.util.decimals import ONE, ZERO, to_decimal
from octobot_trading.util.fees import Fees

__all__ = ["FuturesTrading", "is_contract_symbol"]

_LONG, _SHORT = PositionSide.LONG, PositionSide.SHORT


def is_contract_symbol(symbol: str) -> bool:
    """True for a contract symbol (``BASE/QUOTE:SETTLE``): a cheap test for the order path."""
    return ":" in symbol


class FuturesTrading:
    """Contract settings, checks and reservations of one trader (see the module docstring).

    Parameters
    ----------
    personal_data
        The account's positions, orders and portfolio.
    market
        ``market(symbol)``: the symbol's market (``UnknownSymbol`` when not listed).
    venue
        ``venue()``: where settings go (``manager.exchange``).
    fees
        The account's fee rates (the taker rate is reserved).
    """

    def __init__(
        self,
        personal_data: ExchangePersonalData,
        *,
        market: Callable[[str], MarketInfo],
        venue: Callable[[], Any],
        fees: Fees,
    ) -> None:
        self.personal_data = personal_data
        self.market = market
        self.venue = venue
        self.fees = fees
        self._leverage: dict[str, Decimal] = {}
        self._margin_mode: dict[str, MarginMode] = {}
        self._position_mode: dict[str, PositionMode] = {}
        #: On a venue whose position mode is per account (learned from :meth:`adopt`): the mode of
        #: every contract (None: per symbol).
        self._account_position_mode: PositionMode | None = None
        personal_data.positions_manager.refresh = self._refreshed_positions
        transactions = getattr(personal_data, "transactions_manager", None)
        if transactions is not None:
            transactions.ledger = self._venue_ledger
        self._refresher: Callable[[str], Any] | None = None

    def _refreshed_positions(self, symbol: str) -> Any:
        """The venue's positions of ``symbol`` when a lazily kept mark moved them (a simulated
        venue's ``position_refresher``), else None; a venue without one: the manager stops asking."""
        refresher = self._refresher
        if refresher is None:
            connector = self.venue()
            refresher = getattr(connector, "position_refresher", None) or getattr(
                getattr(connector, "connector", None), "position_refresher", None
            )
            if refresher is None:
                self.personal_data.positions_manager.refresh = None
                return None
            self._refresher = refresher
            self.personal_data.positions_manager.refresh = refresher  # asked directly from now on
        return refresher(symbol)

    def _venue_ledger(self) -> Any:
        """A simulated venue's futures transactions (its account's ledger), else none."""
        connector = self.venue()
        simulated = connector if hasattr(connector, "position_refresher") else getattr(connector, "connector", None)
        futures = getattr(simulated, "futures", None) if hasattr(simulated, "position_refresher") else None
        return () if futures is None else futures.account.transactions.recorded()

    # -- settings ---------------------------------------------------------------------------------------
    def spec(self, symbol: str) -> ContractSpec | None:
        """The contract spec of ``symbol``'s market (None when the market gives a plain MarketSpec)."""
        spec = self.market(symbol).spec
        return spec if isinstance(spec, ContractSpec) else None

    def contract_size(self, symbol: str) -> Decimal | None:
        """The contract size of a contract symbol's market (None: a spot symbol, or a market not listed)."""
        if ":" not in symbol:
            return None
        try:
            spec = self.market(symbol).spec
        except OctoBotTradingError:
            return None
        return spec.contract_size if isinstance(spec, ContractSpec) else None

    def leverage(self, symbol: str) -> Decimal:
        """The leverage of new positions: the last set, else the open position's, else the spec's (1)."""
        if symbol in self._leverage:
            return self._leverage[symbol]
        return self._leverage_with(symbol, self.personal_data.positions_manager.get(symbol))

    def _leverage_with(self, symbol: str, position: Position | None) -> Decimal:
        """:meth:`leverage` given ``position``, what ``positions_manager.get(symbol)`` returns now."""
        if symbol in self._leverage:
            return self._leverage[symbol]
        if position is not None and position.leverage is not None:
            return position.leverage
        spec = self.spec(symbol)
        return spec.leverage if spec is not None else ONE

    def margin_mode(self, symbol: str) -> MarginMode:
        """The margin mode of new positions (the last set, else the spec's, else isolated)."""
        spec = self.spec(symbol)
        return self._margin_mode.get(symbol) or (spec.margin_mode if spec is not None else MarginMode.ISOLATED)

    def position_mode(self, symbol: str) -> PositionMode:
        """The position mode (the account's on a venue where it is per account, else the last set,
        else the spec's, else one-way)."""
        if self._account_position_mode is not None:
            return self._account_position_mode
        spec = self.spec(symbol)
        return self._position_mode.get(symbol) or (spec.position_mode if spec is not None else PositionMode.ONE_WAY)

    def remember_settings(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode, position_mode: PositionMode
    ) -> None:
        """Take ``symbol``'s settings as the venue holds them (a restart's restored state; nothing sent)."""
        self._leverage[symbol] = leverage
        self._margin_mode[symbol] = margin_mode
        self._position_mode[symbol] = position_mode

    def adopt(self, settings: ContractSettings) -> None:
        """Take the settings the venue holds for a contract (live start; nothing sent): its leverage,
        margin mode and position mode where the venue said them. A position mode that is per
        account on the venue (``position_mode_per_account``) becomes every contract's."""
        symbol = settings.symbol
        if settings.leverage is not None:
            self._leverage[symbol] = settings.leverage
        if settings.margin_mode is not None:
            self._margin_mode[symbol] = settings.margin_mode
        if settings.position_mode is not None:
            if settings.position_mode_per_account:
                self._account_position_mode = settings.position_mode
                self._position_mode.clear()
            else:
                self._position_mode[symbol] = settings.position_mode

    async def set_leverage(self, symbol: str, leverage: Decimal | int | str) -> Decimal:
        """Set ``symbol``'s leverage at the venue (see the module docstring); return it."""
        value = to_decimal(leverage, name="leverage")
        spec = self._contract(symbol)
        if spec is not None:
            try:
                spec.check_leverage(value)
            except ConfigurationError as exc:
                if exc.symbol is not None:
                    raise
                raise ConfigurationError(str(exc.message), field="leverage", symbol=symbol) from None
        else:  # a venue market: the range it states (``min_leverage`` / ``max_leverage``), else >= 1
            extra = self.market(symbol).extra
            low, high = Decimal(extra.get("min_leverage", "1")), extra.get("max_leverage")
            low = max(low, ONE)
            if value < low or (high is not None and value > Decimal(high)):
                raise ConfigurationError(
                    f"leverage {value} is outside the range of {symbol} [{low}, {high or 'the venue maximum'}]",
                    field="leverage",
                    symbol=symbol,
                )
        self._refuse_if_busy(symbol, "leverage")
        await self.venue().set_leverage(symbol, value)
        self._leverage[symbol] = value
        return value

    async def set_margin_mode(self, symbol: str, mode: MarginMode | str) -> None:
        """Set ``symbol``'s margin mode at the venue (see the module docstring)."""
        value = _enum(MarginMode, mode, "margin_mode", symbol)
        self._contract(symbol)
        self._refuse_if_busy(symbol, "margin_mode")
        await self.venue().set_margin_mode(symbol, value)
        self._margin_mode[symbol] = value

    async def set_position_mode(self, symbol: str, mode: PositionMode | str) -> None:
        """Set ``symbol``'s position mode at the venue (see the module docstring)."""
        value = _enum(PositionMode, mode, "position_mode", symbol)
        self._contract(symbol)
        self._refuse_if_busy(symbol, "position_mode")
        if self._account_position_mode is not None:  # the venue refuses it while any contract is busy
            for position in self.personal_data.positions_manager.positions():
                self._refuse_if_busy(position.symbol, "position_mode")
        await self.venue().set_position_mode(symbol, value)
        if self._account_position_mode is not None:  # per account on this venue: every contract's
            self._account_position_mode = value
        else:
            self._position_mode[symbol] = value

    def _contract(self, symbol: str) -> ContractSpec | None:
        self.market(symbol)  # UnknownSymbol
        contract_kind(symbol)  # ConfigurationError(field="symbol") for a spot symbol
        return self.spec(symbol)

    def _refuse_if_busy(self, symbol: str, what: str) -> None:
        if self.personal_data.positions_manager.get(symbol) is not None:
            raise OpenPositionsError(
                f"cannot change {what} of {symbol} while it has an open position", field=what, symbol=symbol
            )
        if self.personal_data.orders_manager.count_open(symbol):
            raise OpenPositionsError(
                f"cannot change {what} of {symbol} while it has open orders (cancel them first)",
                field=what,
                symbol=symbol,
            )

    # -- orders -----------------------------------------------------------------------------------------
    def check(self, order: Order, *, bundled: bool = False) -> None:
        """Refuse (``InvalidOrder``, nothing changed) an order breaking the position mode or
        ``reduce_only``, or ``bundled`` with exits (``take_profit_price`` / ``stop_loss_price``)
        while it closes part of a position: its exits close only what an entry opens."""
        symbol, side = order.symbol, order.position_side
        if order.sub_portfolio is not None:
            raise ConfigurationError(
                f"a {symbol} order cannot use the sub-portfolio {order.sub_portfolio!r}: the venue holds one "
                "position per contract and one margin wallet for the whole account, so positions, margin, "
                "PnL, funding and liquidations cannot be split between sub-portfolios",
                field="sub_portfolio",
                symbol=symbol,
            )
        hedge = self.position_mode(symbol) is PositionMode.HEDGE
        if hedge and side not in (_LONG, _SHORT):
            raise InvalidOrder(
                f"{symbol} is in hedge mode: the order needs position_side LONG or SHORT",
                limit="position_side",
                symbol=symbol,
            )
        if not hedge and side is not None:
            raise InvalidOrder(
                f"{symbol} is in one-way mode: position_side must be None", limit="position_side", symbol=symbol
            )
        if hedge and (order.side is OrderSide.SELL) == (side is _LONG):
            held = self.personal_data.positions_manager.get(symbol, side)
            if held is None or held.size < order.amount:
                raise InvalidOrder(
                    f"the order closes more of the {side} position of {symbol} than it holds",
                    limit="amount",
                    symbol=symbol,
                )
        if bundled and (order.reduce_only or self.closing(order) > 0):
            raise InvalidOrder(
                f"exits bundled with a {symbol} order close what it opens, but this order closes (part of) a "
                "position: close it with its own order and bundle the exits with an order that only opens",
                limit="bundled_exits",
                symbol=symbol,
            )
        if order.reduce_only and self.closing(order) < order.amount:
            raise InvalidOrder(
                f"a reduce_only order of {order.amount} would open or grow a position of {symbol}",
                limit="reduce_only",
                symbol=symbol,
            )
        if order.reduce_only and order.trigger_price is None:  # conditional ones: judged when they trigger
            position = self._closed(order)[0]
            others = (
                other.remaining
                for other in self.personal_data.orders_manager.open_orders(symbol, include_inactive=False)
                if other is not order
                and other.id != order.id
                and other.reduce_only
                and other.trigger_price is None
                and self._closed(other)[0] is position
            )
            # what earlier resting ordinary orders count on closing is not free either
            reduce_only.check_room(symbol, order.remaining, self._uncommitted(order, position), others)

    def closing(self, order: Order) -> Decimal:
        """How many contracts of ``order`` would close a position the venue last reported."""
        return self._closed(order)[1]

    def _closed(self, order: Order) -> tuple[Any, Decimal]:
        """``(position, contracts of order that close it)``; ``(None, 0)`` when the order closes nothing."""
        return self._closed_read(order)[:2]

    def _closed_read(self, order: Order) -> tuple[Any, Decimal, Position | None]:
        """:meth:`_closed` and ``positions_manager.get(symbol)`` when that was the read (no
        ``position_side``), else None (then not read)."""
        positions = self.personal_data.positions_manager
        if order.position_side is not None:
            position = positions.get(order.symbol, order.position_side)
            closes = (order.side is OrderSide.SELL) == (order.position_side is _LONG)
            read = None
        else:
            position = read = positions.get(order.symbol)
            closes = position is not None and (order.side is OrderSide.SELL) == (position.side is _LONG)
        if position is None or not closes:
            return None, ZERO, read
        return position, min(position.size, order.remaining), read

    def reservation(self, order: Order, price: Decimal) -> tuple[str, Decimal]:
        """``(settle currency, margin)`` of ``order`` at ``price``.

        The margin is the initial margin of the contracts opened plus the taker fee of the whole
        amount; a one-way order that closes a position and opens the other side is credited what
        closing frees at ``price`` (the position's initial margin and PnL there, less the
        unrealized PnL a cross position already adds to the available margin), never below 0.
        Only the part of the position that earlier open orders do not already count on closing
        is credited (:meth:`_uncommitted`): two resting flips are not both funded by one close.
        """
        symbol = order.symbol
        currency = settle_currency(symbol)
        if order.reduce_only:
            return currency, ZERO
        position, closes, read = self._closed_read(order)
        if closes:  # a resting order also leaves the close earlier resting reduce-only ones count on
            resting = order.order_type is not OrderType.MARKET
            closes = min(closes, self._uncommitted(order, position, reduce_only_too=resting))
        opened = order.remaining - closes
        if opened <= 0:
            return currency, ZERO
        kind = contract_kind(symbol)
        size = self.market(symbol).spec.contract_size
        leverage = self.leverage(symbol) if order.position_side is not None else self._leverage_with(symbol, read)
        exact = cm.EXACT  # every operation in it: exact without switching contexts
        margin = cm.initial_margin(kind, exact.multiply(opened, size), price, leverage)
        margin = exact.add(margin, cm.fee(kind, exact.multiply(order.remaining, size), price, self.fees.taker))
        if position is not None and closes and position.entry_price is not None:
            freed, unrealized = position.initial_margin or ZERO, position.unrealized_pnl or ZERO
            if closes < position.size:  # other orders count on closing the rest
                freed = cm.div(exact.multiply(freed, closes), position.size)
                unrealized = cm.div(exact.multiply(unrealized, closes), position.size)
            margin = exact.subtract(margin, freed)
            closed_pnl = cm.pnl(kind, position.side, exact.multiply(closes, size), position.entry_price, price)
            margin = exact.subtract(margin, closed_pnl)
            if position.margin_mode is MarginMode.CROSS:
                margin = exact.add(margin, unrealized)
            margin = max(margin, ZERO)
        return currency, margin

    def _uncommitted(self, order: Order, position: Any, *, reduce_only_too: bool = False) -> Decimal:
        """Contracts of ``position`` that the open orders placed before ``order`` (active, not
        ``reduce_only``; with ``reduce_only_too`` the reduce-only ones too, conditional ones aside:
        judged when they trigger) do not already count on closing."""
        left = position.size
        for other in self.personal_data.orders_manager.open_orders(order.symbol, include_inactive=False):
            if other is order or (order.id is not None and other.id == order.id):
                break  # (an order being edited: only the ones placed before it)
            counted = not other.reduce_only or (reduce_only_too and other.trigger_price is None)
            if counted and left > 0:
                held, closes = self._closed(other)
                if held is position:
                    left -= min(left, closes)
        return left

    # -- venue pushes -----------------------------------------------------------------------------------
    async def on_positions(
        self,
        positions: list[ExchangePosition | Position],
        margin: Mapping[str, tuple[Decimal, Decimal]],
        liquidations: list[Any],
    ) -> None:
        """Apply the venue's pushed positions and margin, then tell the liquidation listeners."""
        data = self.personal_data
        data.positions_manager.update_from_exchange(positions)
        data.portfolio_manager.apply_margin(margin, data.orders_manager.reserved_by_open_orders())
        if liquidations:
            await data.positions_manager.notify_liquidations(liquidations)


def _enum(kind: Any, value: Any, field: str, symbol: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ConfigurationError(f"unknown {field} {value!r} for {symbol}", field=field, symbol=symbol) from None
