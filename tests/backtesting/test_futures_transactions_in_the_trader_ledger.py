"""In backtests (and paper trading) the trader's ``exchange_personal_data.transactions_manager``
lists the futures transactions a live venue's reads record: funding (FUNDING_FEE), liquidations
(LIQUIDATION, -margin lost) and each contract fill's realized PnL (REALISED_PNL), next to the
trading fees, each once. Long 100 XRP/USDT:USDT at 1.2, 10x isolated, taker fee 0.0004; funding
0.0001 at a mark of 1.2 (-0.012); sell 50 at 1.3 (+5); the 50 left are liquidated (margin 6)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.backtesting import FundingData
from octobot_trading.enums import TransactionType
from octobot_trading.personal_data.transactions.transaction import Transaction
from tests.backtesting.scripted_futures import MINUTE, T0, XRP, flat, market, scripted_run


async def test_funding_liquidation_and_realized_pnl_are_trader_transactions(tmp_path: Path) -> None:
    managers: list[Any] = []

    async def keep(ctx: Any) -> None:
        managers.append(ctx.trader.personal_data.transactions_manager)

    prices = [flat("1.2"), flat("1.2"), flat("1.3"), ("1.3", "1.3", "0.9", "0.9"), flat("0.9")]
    funding = FundingData(XRP, [T0 + 2 * MINUTE], ["0.0001"], interval="1m")
    result, _ = await scripted_run(
        tmp_path,
        prices,
        {0: market(ot.OrderSide.BUY, "100"), 2: market(ot.OrderSide.SELL, "50")},
        every=keep,
        funding_rates=funding,
    )
    transactions = managers[-1]
    got = [
        (t.type, t.amount, t.timestamp)
        for t in transactions.transactions()
        if t.type is not TransactionType.TRADING_FEE and t.amount != 0
    ]
    assert got == [
        (TransactionType.FUNDING_FEE, D("-0.012"), T0 + 2 * MINUTE),
        (TransactionType.REALISED_PNL, D(5), T0 + 3 * MINUTE),
        (TransactionType.LIQUIDATION, D(-6), T0 + 4 * MINUTE),
    ]
    assert [liq.margin_lost for liq in result.liquidations] == [D(6)]
    fees = transactions.total(TransactionType.TRADING_FEE, "USDT")
    assert fees == -(D("0.048") + D("0.026"))
    # the ledger adds up to the wallet, and an id already there is not recorded twice
    total = sum((t.amount for t in transactions.transactions(currency="USDT")), D(0))
    assert D(1000) + total == result.final_portfolio["USDT"]
    funding_tx = transactions.transactions(TransactionType.FUNDING_FEE)[0]
    assert transactions.has(funding_tx.id)
    assert not transactions.record(Transaction(funding_tx.id, TransactionType.FUNDING_FEE, "USDT", D(1), 0))
    assert len(transactions.transactions(TransactionType.FUNDING_FEE)) == 1
