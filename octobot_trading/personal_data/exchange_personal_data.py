"""The account's trading state in one place: orders, portfolio, trades, transactions, positions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from octobot_trading.clock import Clock
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.personal_data.positions.position import PositionsManager
from octobot_trading.personal_data.trades.trade import TradesManager
from octobot_trading.personal_data.transactions.transaction import TransactionsManager

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

    def __init__(self, clock: Clock, *, starting_balances: Mapping[str, Decimal | int | str] | None = None,
                 reference_market: str = "USDT", reserve_fees_in_spent_currency: bool = False) -> None:
        self.clock = clock
        self.portfolio_manager = PortfolioManager(
            starting_balances, reference_market=reference_market,
            reserve_fees_in_spent_currency=reserve_fees_in_spent_currency,
        )
        self.trades_manager = TradesManager()
        self.transactions_manager = TransactionsManager()
        self.positions_manager = PositionsManager()
        self.orders_manager = OrdersManager(
            clock=clock, portfolio_manager=self.portfolio_manager, trades_manager=self.trades_manager,
            transactions_manager=self.transactions_manager,
        )

    @property
    def portfolio(self):  # type: ignore[no-untyped-def]
        """Shortcut to ``portfolio_manager.portfolio``."""
        return self.portfolio_manager.portfolio
