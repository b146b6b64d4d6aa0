"""Binance's capital (wallet) endpoints on the fake server: deposits, withdrawals, deposit addresses.

ccxt's ``binance`` client calls (signed, ``/sapi/v1``)::

    GET  /sapi/v1/capital/deposit/hisrec      fetch_deposits      (coin, startTime, endTime, limit)
    GET  /sapi/v1/capital/withdraw/history    fetch_withdrawals   (coin, startTime, endTime, limit)
    GET  /sapi/v1/capital/deposit/address     fetch_deposit_address (coin, network)
    POST /sapi/v1/capital/withdraw/apply      withdraw            (coin, address, amount, addressTag, network)

Each account has a :class:`CapitalLedger` (``capital_ledger(server).account(api_key)``). A test
credits a deposit with :meth:`CapitalLedger.deposit` (the account's free balance grows when the
deposit is credited, once per id) and reads applied withdrawals in ``withdrawals``. A withdrawal
debits the account's free balance by its amount; the fee of the coin (``withdraw_fees``) is taken
from that amount (the destination receives amount - fee). Listeners in ``on_withdraw`` are told
each accepted withdrawal (e.g. a simulated chain delivering it to a wallet).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.state import FakeAccount, FakeExchangeError
from octobot_trading.util.decimals import decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.testing.fake_exchange.server import FakeExchangeServer

__all__ = ["CapitalLedger", "FakeTransfer", "capital_ledger", "capital_routes"]

_S = decimal_to_str
_DEPOSIT_STATUS = {"pending": 0, "ok": 1}
_WITHDRAW_STATUS = {"pending": 4, "ok": 6, "failed": 5, "canceled": 1}


@dataclass
class FakeTransfer:
    """One deposit or withdrawal of a fake account."""

    id: str
    api_key: str
    coin: str
    amount: Decimal
    address: str
    time: int
    status: str = "ok"
    network: str = "BTC"
    tx_id: str = ""
    tag: str = ""
    fee: Decimal = Decimal(0)


@dataclass
class CapitalLedger:
    """Deposits, withdrawals and deposit addresses of the fake server's accounts."""

    server: FakeExchangeServer
    deposits: list[FakeTransfer] = field(default_factory=list)
    withdrawals: list[FakeTransfer] = field(default_factory=list)
    withdraw_fees: dict[str, Decimal] = field(default_factory=dict)
    on_withdraw: list[Callable[[FakeTransfer], object]] = field(default_factory=list)

    def address_of(self, api_key: str, coin: str) -> str:
        """The account's deposit address for ``coin`` (stable, derived from the key)."""
        digest = hashlib.sha256(f"{api_key}/{coin}".encode()).hexdigest()[:24]
        return f"fake-{coin.lower()}-{digest}"

    def owner_of(self, address: str, coin: str) -> str | None:
        """The api key whose deposit address ``address`` is, if any."""
        for api_key in self.server.state.accounts:
            if self.address_of(api_key, coin) == address:
                return api_key
        return None

    def deposit(
        self, api_key: str, coin: str, amount: Decimal, *, tx_id: str, status: str = "ok", network: str = "BTC"
    ) -> FakeTransfer:
        """Record a deposit arriving on-chain (credited to the free balance when ``status == "ok"``)."""
        known = next((d for d in self.deposits if d.tx_id == tx_id and d.api_key == api_key), None)
        if known is not None:
            if known.status != "ok" and status == "ok":
                known.status = "ok"
                self.server.state.accounts[api_key]._move(self.server.state.accounts[api_key].free, coin, amount)
            return known
        transfer = FakeTransfer(
            id=f"dep-{len(self.deposits) + 1}",
            api_key=api_key,
            coin=coin,
            amount=amount,
            address=self.address_of(api_key, coin),
            time=self.server.clock.now_ms(),
            status=status,
            network=network,
            tx_id=tx_id,
        )
        self.deposits.append(transfer)
        if status == "ok":
            account = self.server.state.accounts[api_key]
            account._move(account.free, coin, amount)
        return transfer

    def withdraw(
        self, account: FakeAccount, coin: str, amount: Decimal, address: str, tag: str, network: str
    ) -> FakeTransfer:
        """Apply a withdrawal request (-4026 when the free balance cannot cover it)."""
        if amount <= 0:
            raise FakeExchangeError(-1102, "Mandatory parameter 'amount' was not sent, was empty/null, or malformed.")
        if account.free.get(coin, Decimal(0)) < amount:
            raise FakeExchangeError(-4026, "User has insufficient balance")
        fee = self.withdraw_fees.get(coin, Decimal(0))
        if fee >= amount:
            raise FakeExchangeError(-4022, "The withdrawal amount must cover the fee.")
        account._move(account.free, coin, -amount)
        transfer = FakeTransfer(
            id=f"wd-{len(self.withdrawals) + 1}",
            api_key=account.api_key,
            coin=coin,
            amount=amount,
            address=address,
            time=self.server.clock.now_ms(),
            status="ok",
            network=network or "BTC",
            tx_id=f"fake-tx-wd-{len(self.withdrawals) + 1}",
            tag=tag,
            fee=fee,
        )
        self.withdrawals.append(transfer)
        for listener in list(self.on_withdraw):
            listener(transfer)
        return transfer


_LEDGERS: weakref.WeakKeyDictionary[Any, CapitalLedger] = weakref.WeakKeyDictionary()


def capital_ledger(server: FakeExchangeServer) -> CapitalLedger:
    """The capital ledger of ``server`` (created on first use)."""
    ledger = _LEDGERS.get(server)
    if ledger is None:
        ledger = _LEDGERS[server] = CapitalLedger(server)
    return ledger


def _window(rows: list[FakeTransfer], params: dict[str, str]) -> list[FakeTransfer]:
    if "coin" in params:
        rows = [r for r in rows if r.coin == params["coin"]]
    if "startTime" in params:
        rows = [r for r in rows if r.time >= int(params["startTime"])]
    if "endTime" in params:
        rows = [r for r in rows if r.time <= int(params["endTime"])]
    rows = sorted(rows, key=lambda r: r.time, reverse=True)  # Binance: newest first
    return rows[: min(int(params.get("limit", "1000")), 1000)]


def capital_routes(server: FakeExchangeServer) -> list[web.RouteDef]:
    """The ``/sapi/v1/capital`` routes of ``server``."""
    ledger = capital_ledger(server)

    async def deposit_history(request: web.Request) -> web.Response:
        account, params = await server._signed(request)
        rows = _window([d for d in ledger.deposits if d.api_key == account.api_key], params)
        return web.json_response(
            [
                {
                    "id": d.id,
                    "amount": _S(d.amount),
                    "coin": d.coin,
                    "network": d.network,
                    "status": _DEPOSIT_STATUS.get(d.status, 0),
                    "address": d.address,
                    "addressTag": d.tag,
                    "txId": d.tx_id,
                    "insertTime": d.time,
                    "transferType": 0,
                    "confirmTimes": "1/1",
                    "unlockConfirm": 0,
                    "walletType": 0,
                }
                for d in rows
            ]
        )

    async def withdraw_history(request: web.Request) -> web.Response:
        account, params = await server._signed(request)
        rows = _window([w for w in ledger.withdrawals if w.api_key == account.api_key], params)
        return web.json_response(
            [
                {
                    "id": w.id,
                    "amount": _S(w.amount),
                    "transactionFee": _S(w.fee),
                    "coin": w.coin,
                    "status": _WITHDRAW_STATUS.get(w.status, 4),
                    "address": w.address,
                    "addressTag": w.tag,
                    "txId": w.tx_id,
                    "applyTime": _binance_time(w.time),
                    "network": w.network,
                    "transferType": 0,
                    "info": "",
                    "confirmNo": 1,
                    "walletType": 0,
                    "txKey": "",
                    "completeTime": _binance_time(w.time),
                }
                for w in rows
            ]
        )

    async def deposit_address(request: web.Request) -> web.Response:
        account, params = await server._signed(request)
        coin = params.get("coin")
        if not coin:
            raise FakeExchangeError(-1102, "Mandatory parameter 'coin' was not sent, was empty/null, or malformed.")
        return web.json_response(
            {"address": ledger.address_of(account.api_key, coin), "coin": coin, "tag": "", "url": ""}
        )

    async def withdraw_apply(request: web.Request) -> web.Response:
        account, params = await server._signed(request)
        coin, address = params.get("coin"), params.get("address")
        if not coin or not address:
            raise FakeExchangeError(-1102, "Mandatory parameter 'coin' or 'address' was not sent.")
        amount = server._decimal(params, "amount")
        assert amount is not None
        transfer = ledger.withdraw(
            account, coin, amount, address, params.get("addressTag", ""), params.get("network", "")
        )
        return web.json_response({"id": transfer.id})

    prefix = "/sapi/v1/capital"
    return [
        web.get(f"{prefix}/deposit/hisrec", deposit_history),
        web.get(f"{prefix}/withdraw/history", withdraw_history),
        web.get(f"{prefix}/deposit/address", deposit_address),
        web.post(f"{prefix}/withdraw/apply", withdraw_apply),
    ]


def _binance_time(ms: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (UTC), the format of Binance's ``applyTime``."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
