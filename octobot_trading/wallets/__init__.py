"""Blockchain wallets and transfers between a wallet and an exchange account.

* :class:`BlockchainWallet` — the abstract wallet (balance, deposit address, withdraw,
  transaction status); :class:`SimulatedBlockchainWallet` on a :class:`SimulatedChain` for tests
  and backtests;
* :class:`AccountTransfers` — deposits and withdrawals between a wallet and an exchange account,
  with a ledger deduplicated by transaction id.

Money leaving (a wallet's or an exchange's withdrawal) is refused with ``WithdrawalsDisabled``
unless explicitly enabled. See ``docs/wallets.md``.
"""

from octobot_trading.wallets.simulated import SimulatedBlockchainWallet, SimulatedChain
from octobot_trading.wallets.transfers import AccountTransfers
from octobot_trading.wallets.wallet import BlockchainWallet, ChainTransaction

__all__ = ["AccountTransfers", "BlockchainWallet", "ChainTransaction", "SimulatedBlockchainWallet", "SimulatedChain"]
