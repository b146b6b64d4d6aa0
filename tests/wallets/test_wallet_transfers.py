"""Wallets and transfers: the real ccxt client against the fake Binance capital endpoints, and the simulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import TransactionType
from octobot_trading.errors import InsufficientFunds, WithdrawalsDisabled
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.exchanges.types import TransferStatus
from octobot_trading.personal_data import ExchangePersonalData
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from octobot_trading.testing.fake_exchange.capital import capital_ledger
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.wallets import AccountTransfers, SimulatedBlockchainWallet, SimulatedChain
from tests.exchanges.conftest import FIXTURES, ccxt_options

D = Decimal


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
        yield srv


def _connector(server: FakeExchangeServer, *, allow_withdrawals: bool) -> CCXTConnector:
    config = ExchangeConfig(
        exchange="binance",
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options=ccxt_options(server),
        symbols=("BTC/USDT",),
        allow_withdrawals=allow_withdrawals,
    )
    return CCXTConnector(
        config, LiveClock(), client_hook=server.client_hook, retry_policy=RetryPolicy(attempts=2, base_delay=0.05)
    )


def _link(chain: SimulatedChain, server: FakeExchangeServer, currency: str) -> None:
    """Connect the simulated chain and the fake venue: on-chain deposits credit it, its withdrawals pay out."""
    ledger = capital_ledger(server)
    chain.watch(
        ledger.address_of(server.api_key, currency),
        lambda tx: ledger.deposit(server.api_key, tx.currency, tx.received, tx_id=tx.txid),
    )
    ledger.on_withdraw.append(lambda w: chain.receive(w.address, w.coin, w.amount - w.fee, txid=w.tx_id))


async def test_transfers_between_a_wallet_and_the_exchange_move_balances_exactly(server):
    chain = SimulatedChain(LiveClock(), network="BTC", fees={"BTC": "0.0001"})
    wallet = SimulatedBlockchainWallet(chain, allow_withdrawals=True, balances={"BTC": "1"})
    _link(chain, server, "BTC")
    capital_ledger(server).withdraw_fees["BTC"] = D("0.0005")
    connector = _connector(server, allow_withdrawals=True)
    try:
        transfers = AccountTransfers(connector, wallet)
        sent = await transfers.deposit("BTC", "0.5")
        assert sent.status is TransferStatus.OK and sent.received == D("0.4999")
        assert await wallet.balance("BTC") == D("0.5")
        assert (await connector.fetch_balance())["BTC"].free == D("1.4999")  # 1 held + what arrived
        withdrawal = await transfers.withdraw("BTC", "0.2")
        assert withdrawal.kind == "withdrawal" and withdrawal.amount == D("0.2")
        assert (await connector.fetch_balance())["BTC"].free == D("1.2999")
        assert await wallet.balance("BTC") == D("0.6995")  # 0.2 less the venue's 0.0005 fee
        changed = sorted(await transfers.sync("BTC"), key=lambda t: t.kind)  # (Binance dates withdrawals to the s)
        assert [(t.kind, t.amount, t.status) for t in changed] == [
            ("deposit", D("0.4999"), TransferStatus.OK),
            ("withdrawal", D("0.2"), TransferStatus.OK),
        ]
        assert changed[1].fee == D("0.0005") and changed[0].txid == sent.txid
    finally:
        await connector.close()


async def test_deposits_are_deduplicated_by_id_and_reported_again_only_on_a_status_change(server):
    ledger = capital_ledger(server)
    personal = ExchangePersonalData(SimulatedClock(0), starting_balances={"BTC": "1"})
    connector = _connector(server, allow_withdrawals=False)
    try:
        transfers = AccountTransfers(
            connector,
            SimulatedBlockchainWallet(SimulatedChain(LiveClock())),
            transactions=personal.transactions_manager,
        )
        ledger.deposit(server.api_key, "BTC", D("0.3"), tx_id="tx-a", status="pending")
        ledger.deposit(server.api_key, "BTC", D("0.3"), tx_id="tx-a", status="pending")  # seen twice on-chain
        (pending,) = await transfers.sync()
        assert (pending.amount, pending.status) == (D("0.3"), TransferStatus.PENDING)
        assert await transfers.sync() == []  # nothing new
        assert personal.transactions_manager.transactions(TransactionType.DEPOSIT) == []  # not settled yet
        ledger.deposit(server.api_key, "BTC", D("0.3"), tx_id="tx-a", status="ok")
        (credited,) = await transfers.sync()
        assert credited.id == pending.id and credited.status is TransferStatus.OK
        assert await transfers.sync() == []
        assert personal.transactions_manager.total(TransactionType.DEPOSIT, "BTC") == D("0.3")
        assert (await connector.fetch_deposits("BTC"))[0].amount == D("0.3")
        assert server.account().free["BTC"] == D("1.3")  # credited once
    finally:
        await connector.close()


async def test_withdrawals_are_refused_unless_enabled_and_nothing_is_sent(server, caplog):
    ledger = capital_ledger(server)
    chain = SimulatedChain(LiveClock())
    key = "wallet-private-key-9d1f"
    wallet = SimulatedBlockchainWallet(chain, private_key=key, balances={"BTC": "1"})
    connector = _connector(server, allow_withdrawals=False)
    try:
        with pytest.raises(WithdrawalsDisabled):
            await connector.withdraw("BTC", D("0.1"), "some-address")
        assert ledger.withdrawals == [] and server.account().free["BTC"] == D("1")
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(WithdrawalsDisabled):
                await AccountTransfers(connector, wallet).deposit("BTC", "0.1")  # the wallet is not allowed either
        assert await wallet.balance("BTC") == D("1")
        with pytest.raises(TypeError):
            await wallet.withdraw("BTC", 0.1, "x")  # type: ignore[arg-type]
        assert key not in repr(wallet) and key not in caplog.text
    finally:
        await connector.close()


async def test_simulated_account_transfers_apply_to_the_local_portfolio_once():
    clock = SimulatedClock(1_700_000_000_000)
    connector = SimulatedConnector(clock, markets={"BTC/USDT": MarketSpec()}, starting_balances={"USDT": "100"})
    personal = ExchangePersonalData(clock, starting_balances={"USDT": "100"})
    chain = SimulatedChain(clock, network="BTC")
    wallet = SimulatedBlockchainWallet(chain, allow_withdrawals=True, balances={"USDT": "50"})
    chain.watch(
        connector.deposit_address_of("USDT"),
        lambda tx: connector.receive_deposit(tx.currency, tx.received, transaction_id=tx.txid, txid=tx.txid),
    )
    connector.withdrawal_listeners.append(lambda w: chain.receive(w.address or "", w.currency, w.amount, txid=w.txid))
    transfers = AccountTransfers(
        connector, wallet, transactions=personal.transactions_manager, portfolio=personal.portfolio_manager.portfolio
    )
    sent = await transfers.deposit("USDT", "20")
    assert connector.receive_deposit("USDT", "20", transaction_id=sent.txid).id == sent.txid  # a repeat: no effect
    with pytest.raises(WithdrawalsDisabled):
        await transfers.withdraw("USDT", "5")
    connector.allow_withdrawals = True
    with pytest.raises(InsufficientFunds):
        await transfers.withdraw("USDT", "500")
    await transfers.withdraw("USDT", "5")
    assert len(await transfers.sync()) == 2 and await transfers.sync() == []
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    assert (usdt.total, usdt.available) == (D("115"), D("115"))
    assert (await connector.fetch_balance())["USDT"].free == D("115")
    assert await wallet.balance("USDT") == D("35")
    assert [t.amount for t in personal.transactions_manager.recorded()] == [D("20"), D("-5")]


def test_wallets_are_reachable_from_the_package():
    assert ot.wallets.BlockchainWallet.__abstractmethods__ >= {"balance", "deposit_address", "transaction_status"}


async def test_a_pending_chain_transfer_credits_its_destination_only_when_confirmed():
    from octobot_trading.errors import WalletError

    chain = SimulatedChain(SimulatedClock(0), fees={"ETH": "0.001"}, auto_confirm=False)
    sender = SimulatedBlockchainWallet(chain, allow_withdrawals=True, balances={"ETH": "2"})
    receiver = SimulatedBlockchainWallet(chain)
    assert await sender.balance("ETH") == 0  # the funding itself waits for a confirmation
    assert [t.received for t in chain.confirm()] == [D(2)]
    sent = await sender.withdraw("ETH", "1.5", await receiver.deposit_address("ETH"))
    assert await sender.transaction_status(sent.txid) is TransferStatus.PENDING
    assert (await sender.balance("ETH"), await receiver.balance("ETH")) == (D("0.5"), D(0))
    chain.confirm()
    assert await receiver.transaction_status(sent.txid) is TransferStatus.OK
    assert (await sender.balance("ETH"), await receiver.balance("ETH")) == (D("0.5"), D("1.499"))
    with pytest.raises(InsufficientFunds):
        await sender.withdraw("ETH", "1", await receiver.deposit_address("ETH"))
    with pytest.raises(WalletError):
        await sender.transaction_status("no-such-tx")
    assert (await sender.balance("ETH"), await receiver.balance("ETH")) == (D("0.5"), D("1.499"))


async def test_a_built_manager_withdraws_only_when_the_builder_allows_it(server):
    ledger = capital_ledger(server)
    wallet = SimulatedBlockchainWallet(SimulatedChain(LiveClock(), network="BTC"))

    def builder() -> ot.ExchangeBuilder:
        return (
            ot.ExchangeBuilder("binance")
            .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
            .with_symbols(["BTC/USDT"])
            .with_ccxt_options(ccxt_options(server))
            .with_client_hook(server.client_hook)
            .rest_only(True)
            .use_real_trader()
        )

    async with await builder().build() as manager:
        with pytest.raises(WithdrawalsDisabled):
            await AccountTransfers(manager, wallet).withdraw("BTC", "0.1")
    assert ledger.withdrawals == [] and server.account().free["BTC"] == D("1")
    async with await builder().allow_withdrawals().build() as manager:
        transfers = AccountTransfers(manager, wallet)
        withdrawal = await transfers.withdraw("BTC", "0.1")
        assert ledger.withdrawals[0].address == wallet.address and withdrawal.amount == D("0.1")
        assert server.account().free["BTC"] == D("0.9")
        (settled,) = await transfers.sync("BTC")
        assert settled.id == withdrawal.id and settled.status is TransferStatus.OK
        recorded = manager.exchange_personal_data.transactions_manager.transactions(TransactionType.WITHDRAWAL)
        assert [(t.id, t.amount) for t in recorded] == [(f"withdrawal:{withdrawal.id}", D("-0.1"))]
