"""Fund reservation, fill settlement, sub-portfolios and balance refresh for one account.

Accounting rules (exact Decimal, see ``docs/trading.md``):

* creating an order reserves what it may spend: the quote cost (``amount x price``) for a buy,
  the base amount for a sell, times ``1 + fee rate`` when the venue charges the fee in the spent
  currency (``reserve_fees_in_spent_currency``);
* canceling releases what is still reserved;
* a fill settles exactly: the spent currency's total drops by the cost (buy) or the amount
  (sell), the received currency's total rises by the amount (buy) or the cost (sell), the fee
  is taken from its own currency (the received one in the simulator), and the reservation is
  released by the matching part (all of what is left on the last fill).

Each operation is atomic (``Portfolio.apply``) and applies to the order's sub-portfolio and to
the account together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.enums import OrderSide
from octobot_trading.errors import ConfigurationError, InsufficientFunds, PortfolioNegativeBalance
from octobot_trading.personal_data.portfolios.portfolio import BalanceChange, Delta, Portfolio
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal
from octobot_trading.util.logging import get_logger
from octobot_trading.util.symbols import cached_symbol

if TYPE_CHECKING:  # annotations only: importing the orders package here would run its __init__ in a loop
    from octobot_trading.personal_data.orders.order import Order

__all__ = ["PortfolioManager"]

_LOGGER = get_logger("personal_data.portfolio")
_BUY = OrderSide.BUY  # module constant: attribute access on an Enum class is slow on the order path


class PortfolioManager:
    """The account portfolio, its sub-portfolios and the order-level accounting.

    Parameters
    ----------
    starting_balances:
        Initial totals (simulated trading) or None (filled by :meth:`refresh_from_balances`).
    reference_market:
        Currency values are expressed in (``"USDT"``).
    """

    def __init__(
        self,
        starting_balances: Mapping[str, Decimal | int | str] | None = None,
        *,
        reference_market: str = "USDT",
        reserve_fees_in_spent_currency: bool = False,
    ) -> None:
        self.portfolio = Portfolio(starting_balances)
        self.reference_market = reference_market
        self.reserve_fees_in_spent_currency = reserve_fees_in_spent_currency
        self.sub_portfolios: dict[str, Portfolio] = {}
        self.starting_totals: dict[str, Decimal] = self.portfolio.totals()
        #: True once the account's balances were replaced with a venue's (live trading): a fill
        #: those balances already count (the venue filled between the order sync and the balance
        #: read) is then recorded without changing them, instead of failing at every sync.
        self.balances_from_venue = False
        #: Live: ``(order, currency) -> amount`` the open orders other than ``order`` reserve of
        #: ``currency`` (set by the account sync): a capped release never credits into it.
        self.reserved_by_others: Callable[[Order, str], Decimal] | None = None
        #: Simulated futures: per settle currency, the venue's last pushed available margin less
        #: the local open orders' reservations, NOT clipped to ``[0, wallet]`` (:meth:`apply_margin`).
        #: A contract order's reserve / release moves this amount and the shown available is it
        #: clipped: with a cross profit above the margin the clipped amount is not additive.
        self._unclipped_margin: dict[str, Decimal] = {}

    # -- sub-portfolios -----------------------------------------------------------------------
    def create_sub_portfolio(self, name: str, allocation: Mapping[str, Decimal | int | str]) -> Portfolio:
        """Carve ``allocation`` out of the account for one trading mode; refuse over-allocation."""
        if not name or name == "main" or name in self.sub_portfolios:
            raise ConfigurationError(f"invalid or duplicate sub-portfolio name {name!r}", field="sub_portfolio")
        amounts = {c: to_decimal(v, name=f"allocation of {c}") for c, v in allocation.items()}
        for currency, amount in amounts.items():
            if amount < 0:
                raise ConfigurationError(f"allocation of {currency} is negative", field="sub_portfolio")
            if amount > self.unallocated_available(currency):
                raise InsufficientFunds(
                    f"cannot allocate {decimal_to_str(amount)} {currency} to {name!r}: only "
                    f"{decimal_to_str(self.unallocated_available(currency))} is unallocated"
                )
        sub = Portfolio(amounts, name=name, parent=self.portfolio)
        self.sub_portfolios[name] = sub
        return sub

    def restore_sub_portfolio(self, name: str, balances: Mapping[str, tuple[Decimal, Decimal]]) -> Portfolio:
        """Put back a stored sub-portfolio's ``{currency: (total, available)}`` (restart recovery),
        creating it when it does not exist yet; inconsistent balances raise, nothing changed."""
        sub = self.sub_portfolios.get(name) or Portfolio(name=name, parent=self.portfolio)
        sub.set_balances(balances)
        self.sub_portfolios[name] = sub
        return sub

    def get_portfolio(self, sub_portfolio: str | None = None) -> Portfolio:
        """Return the named sub-portfolio, or the account portfolio for None."""
        if sub_portfolio is None:
            return self.portfolio
        try:
            return self.sub_portfolios[sub_portfolio]
        except KeyError:
            raise ConfigurationError(f"unknown sub-portfolio {sub_portfolio!r}", field="sub_portfolio") from None

    def unallocated_available(self, currency: str) -> Decimal:
        """Available ``currency`` of the account not carved into a sub-portfolio."""
        if not self.sub_portfolios:
            return self.portfolio.available(currency)
        allocated = sum((s.available(currency) for s in self.sub_portfolios.values()), ZERO)
        return self.portfolio.available(currency) - allocated

    # -- reservations -----------------------------------------------------------------------
    def reservation_for(
        self, order: Order, price: Decimal | None, fee_rate: Decimal = ZERO, fee_in_spent: bool | None = None
    ) -> tuple[str, Decimal]:
        """Return ``(currency, amount)`` that ``order`` must reserve when valued at ``price``.

        The fee (``fee_rate``) is reserved too when it is charged in the spent currency:
        ``fee_in_spent`` (the market's fee side) or, when None, ``reserve_fees_in_spent_currency``.
        """
        symbol = cached_symbol(order.symbol)
        if symbol.settle is not None:  # a contract order's margin is valued by the trader (docs/futures.md)
            return symbol.settle, ZERO
        if order.side is _BUY:
            if price is None:
                raise InsufficientFunds("no price to value the buy order's cost", symbol=order.symbol)
            amount, currency = order.remaining * price, symbol.quote
        else:
            amount, currency = order.remaining, symbol.base
        if fee_rate and (self.reserve_fees_in_spent_currency if fee_in_spent is None else fee_in_spent):
            amount += amount * fee_rate
        return currency, amount

    def reserve(self, order: Order, currency: str, amount: Decimal) -> None:
        """Lock ``amount`` of ``currency`` for ``order``; ``InsufficientFunds`` (no change) if short."""
        sub = order.sub_portfolio
        target = self.portfolio if sub is None else self.get_portfolio(sub)
        if sub is None and amount > (
            self.unallocated_available(currency) if self.sub_portfolios else target.available(currency)
        ):
            raise InsufficientFunds(
                f"not enough {currency}: {decimal_to_str(amount)} needed, "
                f"{decimal_to_str(self.unallocated_available(currency))} available",
                symbol=order.symbol,
                order_id=order.id,
            )
        change = -amount
        if self._unclipped_margin:  # (simulated futures only)
            change = self._contract_margin_delta(order, currency, change)
        try:
            target.apply_deltas(((currency, ZERO, change),))
        except PortfolioNegativeBalance as exc:
            raise InsufficientFunds(
                f"not enough {currency} in {target.name} portfolio: {decimal_to_str(amount)} needed, "
                f"{decimal_to_str(target.available(currency))} available",
                symbol=order.symbol,
                order_id=order.id,
            ) from exc
        order.reserved_currency = currency
        order.reserved_amount += amount

    def release(self, order: Order, amount: Decimal | None = None) -> None:
        """Release ``amount`` (default: everything) of what ``order`` still reserves."""
        if order.reserved_currency is None or order.reserved_amount == 0:
            return
        amount = order.reserved_amount if amount is None else min(amount, order.reserved_amount)
        portfolio, currency, credit = self.get_portfolio(order.sub_portfolio), order.reserved_currency, amount
        if self.balances_from_venue:
            # live: available is the venue's free amount, which a refresh after the order was placed
            # made exclude what the venue (not the local estimate) locks for it, or already include
            # the release when the venue canceled it before that read: credit at most what brings
            # available back to total less what the other open orders still hold; the next refresh
            # is the truth
            locked = portfolio.total(currency) - portfolio.available(currency)
            if self.reserved_by_others is not None:
                locked -= self.reserved_by_others(order, currency)
            credit = min(amount, max(locked, ZERO))
            if credit != amount:
                _LOGGER.debug(
                    "release of %s capped at %s: the venue's balances read already count it", order.id, credit
                )
        else:
            credit = self._contract_margin_delta(order, currency, amount)
        portfolio.apply_deltas(((currency, ZERO, credit),))
        order.reserved_amount -= amount

    # -- fills -----------------------------------------------------------------------------------
    def settle_fill(
        self,
        order: Order,
        amount: Decimal,
        price: Decimal,
        fee: Decimal | None,
        fee_currency: str | None,
    ) -> None:
        """Apply one fill of ``order`` exactly and atomically (raise and change nothing if impossible)."""
        symbol = cached_symbol(order.symbol)
        if symbol.settle is not None:
            self._settle_contract_fill(order, amount)
            return
        cost = amount * price
        last_fill = amount >= (order.amount - order.filled if order.filled else order.amount)
        if order.side is _BUY:
            spent, spent_amount, received, received_amount = symbol.quote, cost, symbol.base, amount
        else:
            spent, spent_amount, received, received_amount = symbol.base, amount, symbol.quote, cost
        source = order
        if order.reservation_owner is not None and order.reserved_amount == 0:
            source = order.reservation_owner
        release = ZERO
        if source.reserved_currency == spent:
            # a fee charged in the spent currency was reserved with the order: release it too
            need = spent_amount + fee if fee and fee_currency == spent else spent_amount
            if source is order and order.side is _BUY and order.price is not None and price < order.price:
                # a buy filled below its limit: the reservation was made at the limit, so this
                # part's reservation is valued there too; the venue frees the difference as well
                need += amount * (order.price - price)
            release = source.reserved_amount if (last_fill and source is order) else min(need, source.reserved_amount)
        changes: list[Delta] = [
            (spent, -spent_amount, release - spent_amount),
            (received, received_amount, received_amount),
        ]
        if source is order and order.reserved_currency not in (None, spent) and last_fill:
            changes.append((order.reserved_currency, ZERO, order.reserved_amount))
            release = order.reserved_amount
        if fee and fee_currency:
            charged = -fee
            changes.append((fee_currency, charged, charged))
        portfolio = self.portfolio if order.sub_portfolio is None else self.get_portfolio(order.sub_portfolio)
        try:
            self._apply_fill_changes(portfolio, order, changes, fee, fee_currency)
        except PortfolioNegativeBalance as exc:
            if not self.balances_from_venue:
                raise
            _LOGGER.warning(
                "fill of %s recorded without changing balances: the venue's balances read already count it (%s)",
                order.id,
                exc,
            )
        # (the shared ZERO once all released: no zero Decimal kept per order)
        source.reserved_amount = ZERO if release == source.reserved_amount else source.reserved_amount - release

    @staticmethod
    def _apply_fill_changes(
        portfolio: Portfolio, order: Order, changes: list[Delta], fee: Decimal | None, fee_currency: str | None
    ) -> None:
        try:
            portfolio.apply_deltas(changes)
        except PortfolioNegativeBalance:
            if not (fee and fee_currency):
                raise
            # the venue took a fee the local books cannot cover (its funds view differs): charge
            # what is there rather than never recording the fill; the next balance refresh corrects it
            changes.pop()
            portfolio._compute(changes)  # the fill itself must fit: raise (nothing changed) if not
            left = ZERO
            for currency, _d_total, d_available in changes:
                if currency == fee_currency:
                    left += d_available
            left += portfolio.available(fee_currency)
            capped = min(fee, max(left, ZERO))
            _LOGGER.warning(
                "fee %s %s of a fill of %s capped at %s (local funds short); refresh balances",
                decimal_to_str(fee),
                fee_currency,
                order.id,
                decimal_to_str(capped),
            )
            if capped:
                changes.append((fee_currency, -capped, -capped))
            portfolio.apply_deltas(changes)

    def _settle_contract_fill(self, order: Order, amount: Decimal) -> None:
        """A contract fill moves no base or quote: it releases the filled part's margin reservation
        (all of it on the last fill). The settle currency's wallet and available margin come from
        the venue (:meth:`apply_margin`, or a balance refresh live)."""
        if order.reserved_amount and order.remaining > 0:
            part = (
                order.reserved_amount if amount >= order.remaining else order.reserved_amount * amount / order.remaining
            )
            if self.balances_from_venue:
                # live: available is the venue's free amount, which already excludes this order's
                # margin; releasing it again would count it twice. The next refresh is the truth.
                order.reserved_amount -= part
                return
            self.release(order, part)

    def apply_margin(self, margin: Mapping[str, tuple[Decimal, Decimal]], reserved: Mapping[str, Decimal]) -> None:
        """Set the settle currencies from the venue's ``{currency: (wallet, available before open
        orders)}``: total = wallet, available = that less ``reserved`` (the local open orders'
        reservations), kept within ``[0, wallet]``."""
        balances = {}
        for currency, (wallet, available) in margin.items():
            free = available - reserved.get(currency, ZERO)
            balances[currency] = (max(wallet, ZERO), min(max(free, ZERO), max(wallet, ZERO)))
        self.portfolio.set_balances(balances)
        for currency, (_wallet, available) in margin.items():
            self._unclipped_margin[currency] = available - reserved.get(currency, ZERO)

    def _contract_margin_delta(self, order: Order, currency: str, change: Decimal) -> Decimal:
        """The available change of reserving (``change < 0``) or releasing a contract order's margin
        in the account portfolio: ``change`` applied to the unclipped available margin the venue
        last pushed (:meth:`apply_margin`), then clipped to ``[0, wallet]`` again. Plain ``change``
        for anything else, or when the available amount moved since that push another way."""
        unclipped = self._unclipped_margin.get(currency)
        if unclipped is None or order.sub_portfolio is not None or cached_symbol(order.symbol).settle is None:
            return change
        total, available = self.portfolio.total(currency), self.portfolio.available(currency)
        if available != min(max(unclipped, ZERO), total):  # changed another way: no longer the venue's
            del self._unclipped_margin[currency]
            return change
        unclipped += change
        self._unclipped_margin[currency] = unclipped
        return min(max(unclipped, ZERO), total) - available

    # -- transfers ----------------------------------------------------------------------------------
    def deposit(self, currency: str, amount: Decimal, sub_portfolio: str | None = None) -> None:
        """Add ``amount`` of ``currency`` (negative for a withdrawal), atomically."""
        self.get_portfolio(sub_portfolio).apply([BalanceChange(currency, total=amount, available=amount)])

    def transfer(self, currency: str, amount: Decimal, source: str | None, destination: str | None) -> None:
        """Move available funds between the account's free part and sub-portfolios."""
        if amount <= 0:
            raise PortfolioNegativeBalance("a transfer amount must be positive", currency=currency)
        if source is None and amount > self.unallocated_available(currency):
            raise InsufficientFunds(f"not enough unallocated {currency} to transfer")
        src = self.get_portfolio(source)
        dst = self.get_portfolio(destination)
        src_changes: list[Delta] = [(currency, -amount, -amount)]
        dst_changes: list[Delta] = [(currency, amount, amount)]
        if src is not self.portfolio:
            src._compute(src_changes)
        if dst is not self.portfolio:
            dst._compute(dst_changes)
        if src is not self.portfolio:
            src._commit(src._compute(src_changes))
        if dst is not self.portfolio:
            dst._commit(dst._compute(dst_changes))

    def refresh_from_balances(self, balances: Mapping[str, tuple[Decimal, Decimal]]) -> None:
        """Replace account balances with the exchange's ``{currency: (total, free)}``.

        Reservations of local open orders are kept consistent: ``available`` becomes the exchange's
        free amount (the exchange already locks what open orders use).
        """
        self.portfolio.set_balances(balances)
        if not self.starting_totals:
            self.starting_totals = self.portfolio.totals()

    def reset_starting_point(self) -> None:
        """Take the current totals as the start for profitability."""
        self.starting_totals = self.portfolio.totals()
