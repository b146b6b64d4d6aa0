"""The account's trading state in one place: orders, portfolio, trades, transactions, positions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from octobot_trading.clock import Clock
from octobot_trading.enums import TransactionType
from octobot_trading.errors import PortfolioError
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.positions.position import PositionsManager
from octobot_trading.personal_data.trades.trade import TradesManager
from octobot_trading.personal_data.transactions.transaction import Transaction, TransactionsManager
from octobot_trading.util.decimals import to_decimal

__all__ = ["ExchangePersonalData"]


class ExchangePersonalData:
    """``manager.exchange_personal_data``: the managers of one exchange account.

    Parameters
    ----------
    clock:
        Time source of orders and trades.
    starting_balances:
        Simulated starting portfolio (None for a real account: refreshed from the exchange).
    reference_market:
        Currency of portfolio values.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        starting_balances: Mapping[str, Decimal | int | str] | None = None,
        reference_market: str = "USDT",
        reserve_fees_in_spent_currency: bool = False,
    ) -> None:
        self.clock = clock
        self.portfolio_manager = PortfolioManager(
            starting_balances,
            reference_market=reference_market,
            reserve_fees_in_spent_currency=reserve_fees_in_spent_currency,
        )
        self.trades_manager = TradesManager()
        self.transactions_manager = TransactionsManager(self.trades_manager)
        self.positions_manager = PositionsManager()
        self.orders_manager = OrdersManager(
            clock=clock,
            portfolio_manager=self.portfolio_manager,
            trades_manager=self.trades_manager,
            transactions_manager=self.transactions_manager,
        )

    def record_deposit(
        self, transaction_id: str, currency: str, amount: Decimal | int | str, sub_portfolio: str | None = None
    ) -> bool:
        """Credit a deposit once: a known ``transaction_id`` is ignored (returns False)."""
        return self._move(
            TransactionType.DEPOSIT, transaction_id, currency, to_decimal(amount, name="amount"), sub_portfolio
        )

    def record_withdrawal(
        self, transaction_id: str, currency: str, amount: Decimal | int | str, sub_portfolio: str | None = None
    ) -> bool:
        """Debit a withdrawal once (``PortfolioNegativeBalance`` and no change when not covered)."""
        return self._move(
            TransactionType.WITHDRAWAL, transaction_id, currency, -to_decimal(amount, name="amount"), sub_portfolio
        )

    def record_transfer(
        self,
        transaction_id: str,
        currency: str,
        amount: Decimal | int | str,
        source: str | None,
        destination: str | None,
    ) -> bool:
        """Move free funds between sub-portfolios (None: the account's free part) once."""
        if self.transactions_manager.has(transaction_id):
            return False
        value = to_decimal(amount, name="amount")
        self.portfolio_manager.transfer(currency, value, source, destination)
        return self.transactions_manager.record(
            Transaction(
                transaction_id,
                TransactionType.TRANSFER,
                currency,
                value,
                self.clock.now_ms(),
                source=source,
                destination=destination,
            )
        )

    def _move(
        self, kind: TransactionType, transaction_id: str, currency: str, amount: Decimal, sub_portfolio: str | None
    ) -> bool:
        if self.transactions_manager.has(transaction_id):
            return False
        if amount == 0:
            raise PortfolioError(f"a {kind.value} of zero {currency}")
        self.portfolio_manager.deposit(currency, amount, sub_portfolio)
        return self.transactions_manager.record(
            Transaction(transaction_id, kind, currency, amount, self.clock.now_ms(), destination=sub_portfolio)
        )

    @property
    def portfolio(self):  # type: ignore[no-untyped-def]
        """Shortcut to ``portfolio_manager.portfolio``."""
        return self.portfolio_manager.portfolio
