"""Local position accounting for futures: fills, funding and liquidations on wallets, exactly (no I/O).

:class:`FuturesAccount` holds one wallet per settle currency (``USDT`` for ``BTC/USDT:USDT``,
``BTC`` for ``BTC/USD:BTC``), the open positions as immutable :class:`Position` snapshots, the
contract settings of each symbol (leverage, margin mode, position mode, from its
:class:`ContractSpec` until changed) and the margin reserved by open orders. It implements the
rules of docs/futures.md; the formulas are in
:mod:`~octobot_trading.personal_data.positions.contract_math` and how one fill changes a position
in :mod:`~octobot_trading.personal_data.positions.fill_planning`.

Every operation validates everything first and changes state only when nothing is wrong, so a
refused order, fill or setting leaves the account as it was. The wallet moves only through
recorded transactions: realized PnL (``pnl:<fill id>``, ``liquidation:<symbol>:<side>:<time>``),
trading fees (``fee:<fill id>``, negative) and funding (``funding:<symbol>:<side>:<time>``), so
``wallet = start + Σ realized PnL - Σ fees + Σ funding`` holds exactly. A fill or funding event
already applied (same id) is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, localcontext

from octobot_trading.enums import MarginMode, OrderSide, PositionMode, PositionSide, TransactionType
from octobot_trading.errors import ConfigurationError, InsufficientFunds, OpenPositionsError
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions import fill_planning
from octobot_trading.personal_data.positions.account_records import (
    FillResult,
    FundingPayment,
    Liquidation,
    checked_mark,
    exact_input,
)
from octobot_trading.personal_data.positions.fill_planning import ContractSettings, FillPlan, plan_fill, valued
from octobot_trading.personal_data.positions.isolated_funding import funding_due, isolated_funding
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.personal_data.transactions.transaction import Transaction, TransactionsManager
from octobot_trading.util.contract_spec import ContractSpec, settle_currency
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal

__all__ = ["FillResult", "FundingPayment", "FuturesAccount", "Liquidation"]

_LONG, _SHORT, _BOTH = PositionSide.LONG, PositionSide.SHORT, PositionSide.BOTH
_EXACT_ADD, _EXACT_SUBTRACT = cm.EXACT.add, cm.EXACT.subtract


class FuturesAccount:
    """Wallets, positions and contract settings of a futures account, accounted from fills.

    Parameters
    ----------
    contracts
        ``{symbol: ContractSpec}``; a spot symbol is refused (``ConfigurationError``).
    wallets
        Starting balance per settle currency (``{"USDT": "1000"}``); missing ones start at 0.
    """

    def __init__(self, contracts: Mapping[str, ContractSpec], wallets: Mapping[str, Decimal | int | str]) -> None:
        self.specs: dict[str, ContractSpec] = {}
        for symbol, spec in contracts.items():
            if not isinstance(spec, ContractSpec):
                raise ConfigurationError(
                    f"{symbol}: expected a ContractSpec, got {type(spec).__name__}", field="contracts", symbol=symbol
                )
            self.specs[symbol] = spec.for_symbol(symbol)
        starting = {c: to_decimal(v, name=f"wallet {c}") for c, v in wallets.items()}
        for currency, value in starting.items():
            if value < 0:
                raise ConfigurationError(f"wallet {currency} must not be negative", field="wallets")
        self._wallets: dict[str, Decimal] = dict(starting)
        for spec in self.specs.values():
            self._wallets.setdefault(settle_currency(spec.symbol or ""), ZERO)
        self._settings = {
            s: ContractSettings(spec.leverage, spec.margin_mode, spec.position_mode) for s, spec in self.specs.items()
        }
        self._positions: dict[tuple[str, PositionSide], Position] = {}
        self._marks: dict[str, Decimal] = {}
        self._reserved: dict[str, tuple[str, Decimal]] = {}
        self._applied: set[str] = set()
        self._bounds: dict[str, tuple[float, float]] = {}
        self._settle: dict[str, str] = {}  # symbol -> settle currency
        self.transactions = TransactionsManager()

    # ----------------------------------------------------------------- reading
    def wallet(self, currency: str) -> Decimal:
        """Wallet balance in ``currency`` (start + realized PnL - fees + funding)."""
        return self._wallets.get(currency, ZERO)

    @property
    def wallets(self) -> dict[str, Decimal]:
        """Every wallet balance."""
        return dict(self._wallets)

    def positions(self) -> list[Position]:
        """Open positions, by symbol then side."""
        return [self._positions[k] for k in sorted(self._positions)]

    def get(self, symbol: str, side: PositionSide | None = None) -> Position | None:
        """The open position of ``symbol`` (of ``side`` LONG / SHORT when given), or None."""
        for (sym, _), position in sorted(self._positions.items()):
            if sym == symbol and (side is None or side is _BOTH or position.side is side):
                return position
        return None

    def settings(self, symbol: str) -> tuple[Decimal, MarginMode, PositionMode]:
        """``(leverage, margin_mode, position_mode)`` of ``symbol``."""
        s = self._settings_of(symbol)
        return s.leverage, s.margin_mode, s.position_mode

    def available(self, currency: str, *, orders: bool = True) -> Decimal:
        """Margin available for new orders: wallet - Σ initial margins - reserved + Σ cross unrealized PnL
        (``orders=False``: before any open order's reservation)."""
        return self._available(currency, self._positions, self._reserved if orders else {})  # (exact in any context)

    def margin_balance(self, currency: str) -> Decimal:
        """Cross margin balance: wallet - Σ isolated initial margins + Σ cross unrealized PnL."""
        with localcontext(cm.EXACT):
            total = self.wallet(currency)
            for position in self._in_currency(currency, self._positions):
                if position.margin_mode is MarginMode.ISOLATED:
                    total -= position.initial_margin or ZERO
                else:
                    total += position.unrealized_pnl or ZERO
            return total

    def load_state(
        self,
        wallets: Mapping[str, Decimal],
        settings: Mapping[str, tuple[Decimal, MarginMode, PositionMode]],
        positions: Iterable[Position],
        transactions: Iterable[Transaction],
        applied: Iterable[str],
    ) -> None:
        """Start again from a stored state (paper restart): wallets, the settings of known symbols,
        positions (their marks kept), the recorded transactions and the fill ids already applied.
        Open orders' reservations are not restored: the orders are placed again."""
        for symbol, (leverage, margin_mode, position_mode) in settings.items():
            self._spec(symbol)
            self._settings[symbol] = ContractSettings(leverage, margin_mode, position_mode)
        self._wallets.update(wallets)
        self._positions = {
            (p.symbol, p.side if self._settings_of(p.symbol).position_mode is PositionMode.HEDGE else _BOTH): p
            for p in positions
        }
        self._marks.update({p.symbol: p.mark_price for p in self._positions.values() if p.mark_price is not None})
        self._reserved.clear()
        self._bounds.clear()
        for transaction in transactions:
            self.transactions.record(transaction)
        self._applied.update(applied)

    # ----------------------------------------------------------------- settings
    def add_contract(self, symbol: str, spec: ContractSpec, wallet: Decimal = ZERO) -> None:
        """Trade ``symbol`` with ``spec`` too; a new settle wallet starts at ``wallet``. A known symbol is kept."""
        if symbol in self.specs:
            return
        bound = spec.for_symbol(symbol)
        self.specs[symbol] = bound
        self._wallets.setdefault(settle_currency(symbol), wallet)
        self._settings[symbol] = ContractSettings(bound.leverage, bound.margin_mode, bound.position_mode)

    def set_leverage(self, symbol: str, leverage: Decimal | int | str) -> Decimal:
        """Set the leverage of new positions of ``symbol`` (refused while one is open)."""
        value = self._spec(symbol).check_leverage(leverage)
        self._refuse_if_open(symbol, "leverage")
        self._settings_of(symbol).leverage = value
        return value

    def set_margin_mode(self, symbol: str, mode: MarginMode | str) -> None:
        """Set ``symbol``'s margin mode; ``OpenPositionsError`` while it has open positions."""
        try:
            value = MarginMode(mode)
        except ValueError:
            raise ConfigurationError(f"unknown margin_mode {mode!r}", field="margin_mode") from None
        self._refuse_if_open(symbol, "margin_mode")
        self._settings_of(symbol).margin_mode = value

    def set_position_mode(self, symbol: str, mode: PositionMode | str) -> None:
        """Set ``symbol``'s position mode; ``OpenPositionsError`` while it has open positions."""
        try:
            value = PositionMode(mode)
        except ValueError:
            raise ConfigurationError(f"unknown position_mode {mode!r}", field="position_mode") from None
        self._refuse_if_open(symbol, "position_mode")
        self._settings_of(symbol).position_mode = value

    # ----------------------------------------------------------------- orders and fills
    def check_order(
        self,
        symbol: str,
        side: OrderSide | str,
        contracts: Decimal | int | str,
        price: Decimal | int | str,
        *,
        fee_rate: Decimal | int | str = ZERO,
        reduce_only: bool = False,
        position_side: PositionSide | str | None = None,
    ) -> Decimal:
        """Raise the error an order would meet if filled now at ``price``; return the margin it needs.

        The margin needed is the growth of the initial margins plus the fee, less the PnL and
        margin freed by the part that closes (0 for an order that only reduces).
        """
        return self._needed(symbol, side, contracts, price, fee_rate, reduce_only, position_side, None)

    def reserve(
        self,
        order_id: str,
        symbol: str,
        side: OrderSide | str,
        contracts: Decimal | int | str,
        price: Decimal | int | str,
        *,
        fee_rate: Decimal | int | str = ZERO,
        reduce_only: bool = False,
        position_side: PositionSide | str | None = None,
    ) -> Decimal:
        """Reserve the margin an open order needs (``InsufficientFunds`` when not available).

        Reserving again under the same ``order_id`` (an order edited, or the rest of a partially
        filled order) replaces its reservation.
        """
        needed = self._needed(symbol, side, contracts, price, fee_rate, reduce_only, position_side, order_id)
        self._reserved[order_id] = (settle_currency(symbol), needed)
        return needed

    def release(self, order_id: str) -> Decimal:
        """Release an order's reserved margin (canceled or filled); return the amount released."""
        entry = self._reserved.pop(order_id, None)
        return entry[1] if entry else ZERO

    def apply_fill(
        self,
        fill_id: str,
        symbol: str,
        side: OrderSide | str,
        contracts: Decimal | int | str,
        price: Decimal | int | str,
        timestamp: int,
        *,
        fee_rate: Decimal | int | str = ZERO,
        reduce_only: bool = False,
        position_side: PositionSide | str | None = None,
        order_id: str | None = None,
        mark: Decimal | None = None,
    ) -> FillResult | None:
        """Apply one fill; None when ``fill_id`` was already applied.

        ``order_id`` releases that order's reservation as part of the fill. ``mark``: a new mark of
        an isolated ``symbol``, applied first as :meth:`update_mark` (the position the fill replaces
        is built at it, not revalued). Raises (changing nothing but the mark) ``InvalidOrder``
        (``limit="position_side"`` / ``"reduce_only"``) and ``InsufficientFunds`` as :meth:`check_order`.
        """
        if fill_id in self._applied:
            return None
        if mark is None:
            return self._apply(fill_id, symbol, side, contracts, price, timestamp, fee_rate, reduce_only,
                               position_side, order_id)  # fmt: skip
        exact_mark = checked_mark(symbol, mark)
        self._marks[symbol] = exact_mark  # isolated: no position's valuation enters the margin check
        try:
            return self._apply(fill_id, symbol, side, contracts, price, timestamp, fee_rate, reduce_only,
                               position_side, order_id)  # fmt: skip
        finally:
            self.update_mark(symbol, exact_mark)  # values the positions the fill left untouched (and on refusal)

    def _apply(
        self,
        fill_id: str,
        symbol: str,
        side: OrderSide | str,
        contracts: Decimal | int | str,
        price: Decimal | int | str,
        timestamp: int,
        fee_rate: Decimal | int | str,
        reduce_only: bool,
        position_side: PositionSide | str | None,
        order_id: str | None,
    ) -> FillResult:
        with localcontext(cm.EXACT):
            order_side, amount, exact_price, rate = self._inputs(symbol, side, contracts, price, fee_rate)
            plan = self._plan(symbol, order_side, amount, exact_price, rate, reduce_only, position_side,
                              ignore_reservation=order_id)  # fmt: skip
            currency = self._currency(symbol)
            if order_id is not None:
                self._reserved.pop(order_id, None)
            self._commit(plan)
            self._applied.add(fill_id)
            if plan.realized:
                self._record(f"pnl:{fill_id}", TransactionType.REALISED_PNL, currency, plan.realized, timestamp, symbol)
            if plan.fee:
                self._record(f"fee:{fill_id}", TransactionType.TRADING_FEE, currency, -plan.fee, timestamp, symbol)
            return FillResult(
                fill_id,
                symbol,
                order_side,
                amount,
                exact_price,
                plan.fee,
                plan.realized,
                plan.closed,
                plan.opened,
                plan.positions[(symbol, plan.slot)],
                timestamp,
            )

    # ----------------------------------------------------------------- market events
    def update_mark(self, symbol: str, mark_price: Decimal | int | str) -> None:
        """Set ``symbol``'s mark price: its positions' unrealized PnL and maintenance margin follow."""
        mark = checked_mark(symbol, mark_price)
        spec = self._spec(symbol)
        self._marks[symbol] = mark
        positions = self._positions
        stale = [k for k, p in positions.items() if k[0] == symbol and p.mark_price is not mark]  # (built at it: kept)
        for key in stale:
            positions[key] = valued(spec, positions[key], mark)  # (exact in any context)

    def apply_funding(
        self, symbol: str, rate: Decimal | int | str, mark_price: Decimal | int | str, timestamp: int
    ) -> list[FundingPayment]:
        """Pay funding on every open position of ``symbol``: ``notional at mark x rate``.

        Longs pay a positive rate and shorts receive it (the reverse for a negative rate). A
        payment already recorded (same symbol, side and time) is not paid again.
        """
        value = to_decimal(rate, name="rate")
        self.update_mark(symbol, mark_price)
        mark = self._marks[symbol]
        spec, currency = self._spec(symbol), settle_currency(symbol)
        payments = []
        with localcontext(cm.EXACT):
            for key, position, tx_id, amount in funding_due(self._positions, spec, symbol, mark, value, timestamp):
                if self.transactions.has(tx_id):
                    continue
                wallet = self.wallet(currency)
                amount, margined = isolated_funding(spec, self._positions, key, wallet, amount, self._reserved)
                if margined is not None:  # partly paid from its isolated margin: the liquidation price moves
                    self._positions[key] = margined
                    self._bounds.pop(symbol, None)
                self._record(tx_id, TransactionType.FUNDING_FEE, currency, amount, timestamp, symbol)
                payments.append(FundingPayment(timestamp, symbol, position.side, value, mark, amount, currency))
        return payments

    def liquidation_bounds(self, symbol: str) -> tuple[float, float]:
        """Float thresholds for a per-candle pre-check: ``(long bound, short bound)``.

        A candle whose float low is above the long bound and whose float high is below the short
        bound liquidates no isolated position of ``symbol``, so :meth:`check_isolated_liquidation`
        (exact, Decimal) needs calling only when ``low <= long bound or high >= short bound``. The
        bounds are the isolated liquidation prices as floats moved one step outwards (never
        missing a liquidation of prices read from data files); ``-inf`` / ``inf`` when there is
        none. Cached until the symbol's positions change.
        """
        bounds = self._bounds.get(symbol)
        if bounds is None:
            long_bound, short_bound = -math.inf, math.inf
            for (sym, _), position in self._positions.items():
                liq = position.liquidation_price
                if sym != symbol or position.margin_mode is not MarginMode.ISOLATED or liq is None:
                    continue
                if position.side is _LONG:
                    long_bound = max(long_bound, math.nextafter(float(liq), math.inf))
                else:
                    short_bound = min(short_bound, math.nextafter(float(liq), -math.inf))
            bounds = self._bounds[symbol] = (long_bound, short_bound)
        return bounds

    def check_isolated_liquidation(
        self, symbol: str, path: Iterable[Decimal | int | str], timestamp: int
    ) -> list[Liquidation]:
        """Walk a mark-price ``path`` (open → extremes → close) and liquidate the isolated positions it reaches.

        A long is liquidated when the path reaches a price <= its liquidation price, a short at
        >= it; the position closes at its liquidation price and loses its whole initial margin
        (recorded as realized PnL), no fee.
        """
        prices = [to_decimal(p, name="price") for p in path]
        done: list[Liquidation] = []
        with localcontext(cm.EXACT):
            for key, position in sorted(self._positions.items()):
                liq = position.liquidation_price
                if key[0] != symbol or position.margin_mode is not MarginMode.ISOLATED or liq is None:
                    continue
                hit = any(p <= liq for p in prices) if position.side is _LONG else any(p >= liq for p in prices)
                if hit:
                    margin = position.initial_margin or ZERO
                    done.append(self._liquidate(key, position, liq, -margin, timestamp))
        return done

    def check_cross_liquidation(self, currency: str, timestamp: int) -> list[Liquidation]:
        """Liquidate every cross position in ``currency`` when the margin balance <= Σ their maintenance margins.

        Each closes at its mark price, no fee. Profits are realized first, then losses in symbol
        order, each loss capped so that the wallet never goes below the isolated margins it holds
        (below zero when there are none); ``margin_lost`` is the loss realized.
        """
        with localcontext(cm.EXACT):
            cross = [
                (k, p)
                for k, p in sorted(self._positions.items())
                if p.margin_mode is MarginMode.CROSS and settle_currency(k[0]) == currency
            ]
            if not cross:
                return []
            maintenance = sum((p.maintenance_margin or ZERO for _, p in cross), ZERO)
            if self.margin_balance(currency) > maintenance:
                return []
            floor = sum(
                (
                    p.initial_margin or ZERO
                    for p in self._in_currency(currency, self._positions)
                    if p.margin_mode is MarginMode.ISOLATED
                ),
                ZERO,
            )
            cross.sort(key=lambda kp: (kp[1].unrealized_pnl or ZERO) < 0)  # profits first, stable
            done = []
            for key, position in cross:
                pnl = position.unrealized_pnl or ZERO
                if pnl < 0:
                    pnl = max(pnl, min(floor - self.wallet(currency), ZERO))
                price = position.mark_price or self._marks[key[0]]
                done.append(self._liquidate(key, position, price, pnl, timestamp))
            return done

    # ----------------------------------------------------------------- internals
    def _spec(self, symbol: str) -> ContractSpec:
        try:
            return self.specs[symbol]
        except KeyError:
            raise ConfigurationError(f"no contract spec for {symbol}", field="contracts", symbol=symbol) from None

    def _settings_of(self, symbol: str) -> ContractSettings:
        self._spec(symbol)
        return self._settings[symbol]

    def _refuse_if_open(self, symbol: str, what: str) -> None:
        self._spec(symbol)
        if any(k[0] == symbol for k in self._positions):
            raise OpenPositionsError(
                f"cannot change {what} of {symbol} while it has open positions", field=what, symbol=symbol
            )

    def _in_currency(
        self, currency: str, positions: Mapping[tuple[str, PositionSide], Position | None]
    ) -> list[Position]:
        return [p for k, p in positions.items() if p is not None and settle_currency(k[0]) == currency]

    def _available(
        self,
        currency: str,
        positions: Mapping[tuple[str, PositionSide], Position | None],
        reserved: Mapping[str, tuple[str, Decimal]],
        wallet: Decimal | None = None,
        without: str | None = None,
        replaced: Mapping[tuple[str, PositionSide], Position | None] | None = None,
    ) -> Decimal:
        """wallet - Σ initial margins + Σ cross unrealized PnL - Σ reservations of ``currency``;
        ``replaced``: positions taking these keys' place, ``without``: a reservation left out.
        (Every term is exact, and so is the sum in any context: the order does not matter.)"""
        add, subtract = _EXACT_ADD, _EXACT_SUBTRACT
        total = self.wallet(currency) if wallet is None else wallet
        for group in (positions, replaced) if replaced else (positions,):
            for key, position in group.items():
                if position is None or (group is positions and replaced and key in replaced):
                    continue
                if self._currency(key[0]) != currency:
                    continue
                total = subtract(total, position.initial_margin or ZERO)
                if position.margin_mode is MarginMode.CROSS:
                    total = add(total, position.unrealized_pnl or ZERO)
        for order_id, (c, amount) in reserved.items():
            if c == currency and order_id != without:
                total = subtract(total, amount)
        return total

    def _currency(self, symbol: str) -> str:
        """The settle currency of ``symbol`` (kept per symbol)."""
        currency = self._settle.get(symbol)
        if currency is None:
            currency = self._settle[symbol] = settle_currency(symbol)
        return currency

    def _needed(
        self,
        symbol: str,
        side: OrderSide | str,
        contracts: Decimal | int | str,
        price: Decimal | int | str,
        fee_rate: Decimal | int | str,
        reduce_only: bool,
        position_side: PositionSide | str | None,
        without: str | None,
    ) -> Decimal:
        with localcontext(cm.EXACT):
            order_side, amount, exact_price, rate = self._inputs(symbol, side, contracts, price, fee_rate)
            plan = self._plan(symbol, order_side, amount, exact_price, rate, reduce_only, position_side,
                              ignore_reservation=without, resting=True)  # fmt: skip
            if not plan.opened:
                return ZERO
            before = self._available(self._currency(symbol), self._positions, self._reserved, without=without)
            return max(before - self._after(plan, without, order_side, exact_price, resting=True), ZERO)

    def _after(self, plan: FillPlan, without: str | None, side: OrderSide, price: Decimal, resting: bool) -> Decimal:
        """Margin available after ``plan`` (``resting``: an order to place, at its price: ``unearned_profit``)."""
        currency = self._currency(plan.symbol)
        wallet = self.wallet(currency) + plan.realized - plan.fee
        after = self._available(currency, self._positions, self._reserved, wallet, without, plan.positions)
        if resting and (mark := self._marks.get(plan.symbol)) is not None:
            after -= fill_planning.unearned_profit(self.specs[plan.symbol], plan, side, price, mark)
        return after

    def _inputs(
        self, symbol: str, side: OrderSide | str, contracts: Decimal | int | str, price: Decimal | int | str,
        fee_rate: Decimal | int | str,
    ) -> tuple[OrderSide, Decimal, Decimal, Decimal]:  # fmt: skip
        """An order's raw inputs checked and converted, once for every caller (an unknown symbol first)."""
        self._spec(symbol)
        return (
            side if type(side) is OrderSide else OrderSide(side),
            exact_input(contracts, "amount"),
            exact_input(price, "price"),
            exact_input(fee_rate, "fee_rate"),
        )

    def _plan(
        self,
        symbol: str,
        side: OrderSide,
        contracts: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        reduce_only: bool,
        position_side: PositionSide | str | None,
        *,
        ignore_reservation: str | None,
        resting: bool = False,
    ) -> FillPlan:
        """Check and plan one fill from converted inputs (:meth:`_inputs`), margin included."""
        plan = plan_fill(
            self.specs[symbol],
            self._settings[symbol],
            self._positions,
            self._marks.get(symbol),
            symbol,
            side,
            contracts,
            price,
            fee_rate,
            reduce_only,
            position_side,
        )
        if plan.opened:
            after = self._after(plan, ignore_reservation, side, price, resting)
            if after < 0:
                currency = self._currency(symbol)
                # (may be < 0: cross loss)
                free = max(self._available(currency, self._positions, self._reserved, without=ignore_reservation), ZERO)
                raise InsufficientFunds(
                    f"not enough {currency} margin: the order needs {decimal_to_str(free - after)}, "
                    f"{decimal_to_str(free)} available",
                    symbol=symbol,
                )
        return plan

    def _commit(self, plan: FillPlan) -> None:
        self._bounds.pop(plan.symbol, None)
        for key, position in plan.positions.items():
            if position is None:
                self._positions.pop(key, None)
            else:
                self._positions[key] = position

    def _liquidate(
        self, key: tuple[str, PositionSide], position: Position, price: Decimal, realized: Decimal, timestamp: int
    ) -> Liquidation:
        currency = settle_currency(key[0])
        del self._positions[key]
        self._bounds.pop(key[0], None)
        self._record(
            f"liquidation:{key[0]}:{position.side}:{timestamp}",
            TransactionType.REALISED_PNL,
            currency,
            realized,
            timestamp,
            key[0],
        )
        assert position.margin_mode is not None
        return Liquidation(timestamp, key[0], position.side, position.contracts, price, -realized, position.margin_mode)

    def _record(
        self, tx_id: str, kind: TransactionType, currency: str, amount: Decimal, timestamp: int, symbol: str
    ) -> None:
        if self.transactions.record(Transaction(tx_id, kind, currency, amount, timestamp, symbol=symbol)):
            self._wallets[currency] = self._wallets.get(currency, ZERO) + amount
