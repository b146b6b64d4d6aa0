"""Transactions: fees, realised PnL, deposits, withdrawals and transfers, each recorded once."""

from octobot_trading.personal_data.transactions.transaction import Transaction, TransactionsManager

__all__ = ["Transaction", "TransactionsManager"]
