"""Transfers go through the manager's exchange class (its ``fix_transaction`` hook) and paper
trading honours the builder's ``allow_withdrawals()``."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import WithdrawalsDisabled
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.exchanges.types import ExchangeTransaction
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.wallets import AccountTransfers, SimulatedBlockchainWallet, SimulatedChain

D = Decimal


class TaggingExchange(RestExchange):
    """A venue class whose hook marks every transaction it repaired."""

    def fix_transaction(self, transaction: ExchangeTransaction) -> ExchangeTransaction:
        return dataclasses.replace(transaction, network="repaired")


async def test_rest_exchange_passes_transfer_calls_through_its_fix_transaction_hook() -> None:
    clock = SimulatedClock(1_700_000_000_000)
    connector = SimulatedConnector(clock, markets={"BTC/USDT": MarketSpec()}, starting_balances={"USDT": "100"})
    exchange = TaggingExchange(connector, clock)
    connector.receive_deposit("USDT", "20", transaction_id="d1")
    (deposit,) = await exchange.fetch_deposits("USDT")
    assert (deposit.id, deposit.amount, deposit.network) == ("d1", D("20"), "repaired")
    address = await exchange.fetch_deposit_address("USDT")
    assert address.address == connector.deposit_address_of("USDT")
    with pytest.raises(WithdrawalsDisabled):
        await exchange.withdraw("USDT", D("5"), "elsewhere")
    connector.allow_withdrawals = True
    sent = await exchange.withdraw("USDT", D("5"), "elsewhere")
    assert sent.network == "repaired" and sent.amount == D("5")
    (listed,) = await exchange.fetch_withdrawals("USDT")
    assert listed.id == sent.id and listed.network == "repaired"
    # the generic class changes nothing
    assert (await RestExchange(connector, clock).fetch_deposits("USDT"))[0].network is None


def _paper(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options(server.ccxt_config())
        .with_client_hook(server.client_hook)
        .rest_only()
        .with_exchange_class(TaggingExchange)
        .use_simulated_trader(starting_portfolio={"USDT": "1000"})
    )


async def test_paper_trading_withdraws_through_the_manager_exchange_only_when_the_builder_allows_it() -> None:
    chain = SimulatedChain(SimulatedClock(0), network="USDT")
    wallet = SimulatedBlockchainWallet(chain)
    async with FakeExchangeServer() as server:
        async with await _paper(server).build() as manager:
            transfers = AccountTransfers(manager, wallet)
            assert transfers.venue is manager.exchange
            with pytest.raises(WithdrawalsDisabled):
                await transfers.withdraw("USDT", "10")
            assert (await manager.exchange.fetch_balance())["USDT"].free == D("1000")
        async with await _paper(server).allow_withdrawals().build() as manager:
            transfers = AccountTransfers(manager, wallet)
            withdrawal = await transfers.withdraw("USDT", "10")
            assert withdrawal.network == "repaired" and withdrawal.address == await wallet.deposit_address("USDT")
            assert (await manager.exchange.fetch_balance())["USDT"].free == D("990")
            (settled,) = await transfers.sync("USDT")
            assert settled.id == withdrawal.id and settled.network == "repaired"


async def test_a_backtest_manager_withdraws_only_when_the_builder_allows_it() -> None:
    from pathlib import Path

    from octobot_trading.backtesting import CandleData

    data = CandleData.from_file(
        Path(__file__).parents[1] / "backtesting" / "fixtures" / "BTC_USDT-1h-head50.json",
        exchange="binance",
        symbol="BTC/USDT",
        time_frame="1h",
    )

    def builder() -> ot.ExchangeBuilder:
        return (
            ot.ExchangeBuilder("binance").use_backtesting(data).with_trading_config(starting_portfolio={"USDT": "1000"})
        )

    async with await builder().build() as manager:
        with pytest.raises(WithdrawalsDisabled):
            await manager.exchange.withdraw("USDT", D("10"), "elsewhere")
    async with await builder().allow_withdrawals().build() as manager:
        assert (await manager.exchange.withdraw("USDT", D("10"), "elsewhere")).amount == D("10")
        assert (await manager.exchange.fetch_balance())["USDT"].free == D("990")


async def test_paper_transfers_keep_the_manager_portfolio_in_step_with_the_simulated_venue() -> None:
    chain = SimulatedChain(SimulatedClock(0), network="USDT")
    wallet = SimulatedBlockchainWallet(chain)
    async with FakeExchangeServer() as server:
        async with await _paper(server).allow_withdrawals().build() as manager:
            portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
            transfers = AccountTransfers(manager, wallet)
            assert transfers.portfolio is portfolio  # the default on a simulated manager
            venue = manager.exchange.connector
            assert isinstance(venue, SimulatedConnector)
            venue.receive_deposit("USDT", "250", transaction_id="dep-1")
            await transfers.withdraw("USDT", "40")
            await transfers.sync()
            await transfers.sync()  # settled transfers are applied once
            balance = (await manager.exchange.fetch_balance())["USDT"]
            assert balance.free == D("1210")
            usdt = portfolio.get_currency_portfolio("USDT")
            assert (usdt.total, usdt.available) == (balance.total, balance.free)
            # an explicit None keeps transfers off any portfolio
            assert AccountTransfers(manager, wallet, portfolio=None).portfolio is None
