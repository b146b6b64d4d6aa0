"""Type checkers see the public API with its real types, not ``Any``.

``import octobot_trading`` loads the heavy subsystems lazily (module ``__getattr__``); without the
``if TYPE_CHECKING:`` declarations mypy would type every lazy name as ``Any`` and check nothing
in user code. Two checks, both through mypy itself:

* the ``_typed_usage`` function below uses ``typing.assert_type`` on the names users start from
  (at run time ``assert_type`` does nothing; mypy fails on any mismatch, ``Any`` included);
* every name of ``ot.__all__``, ``ot.backtesting.__all__`` and ``ot.modes.__all__`` is passed to
  ``reveal_type`` and none may be revealed as ``Any``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import assert_type

import pytest

import octobot_trading as ot
from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.runner import BacktestResult
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.exchanges.factory import ExchangeFactory
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.registry import ExchangesRegistry
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.personal_data.orders.groups import OrderGroup
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.personal_data.trader import Trader

REPO = Path(__file__).resolve().parents[2]


def _typed_usage(manager: ot.ExchangeManager, order: ot.Order, trader: ot.Trader) -> None:
    """Checked by mypy (see ``test_mypy_checks_the_typed_usage_of_the_public_api``), never called."""
    assert_type(ot.ExchangeBuilder("binance"), ExchangeBuilder)
    assert_type(ot.ExchangeBuilder("binance").with_symbols(["BTC/USDT"]), ExchangeBuilder)
    assert_type(manager, ExchangeManager)
    assert_type(manager.exchange, RestExchange)
    assert_type(order, Order)
    assert_type(trader, Trader)
    assert_type(ot.exchanges_registry, ExchangesRegistry)
    assert_type(ot.ExchangeFactory, type[ExchangeFactory])
    assert_type(ot.RestExchange, type[RestExchange])
    assert_type(ot.OrderGroup, type[OrderGroup])
    assert_type(ot.Position, type[Position])
    assert_type(ot.backtesting.CandleData.from_file("x.json"), CandleData)
    assert_type(ot.modes.SmaCrossMode, type[SmaCrossMode])
    assert_type(ot.backtesting.BacktestResult, type[BacktestResult])
    # money arguments accept the documented Decimal | int | str (converted on construction)
    assert_type(ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5", max_amount=1000), ot.MarketSpec)
    assert_type(ot.Fees(maker="0.001", taker=Decimal("0.001")), ot.Fees)


def _public_names() -> list[str]:
    names = [f"ot.{name}" for name in ot.__all__]
    names += [f"ot.backtesting.{name}" for name in ot.backtesting.__all__]
    names += [f"ot.modes.{name}" for name in ot.modes.__all__]
    return names


def _run_mypy(*paths: Path, flags: tuple[str, ...] = ()) -> tuple[str, int]:
    api = pytest.importorskip("mypy.api", reason="mypy is part of the test extra: pip install -e '.[test]'")
    limit = sys.getrecursionlimit()
    try:
        stdout, stderr, status = api.run(
            [
                "--config-file",
                str(REPO / "pyproject.toml"),
                "--cache-dir",
                str(REPO / ".mypy_cache"),
                "--no-error-summary",
                *flags,
                *map(str, paths),
            ]
        )
    finally:  # mypy raises the process's recursion limit and keeps it: later tests rely on the default
        sys.setrecursionlimit(limit)
    return stdout + stderr, status


def test_mypy_sees_real_types_for_every_public_name(tmp_path: Path) -> None:
    names = _public_names()
    snippet = tmp_path / "reveal_public_api.py"
    snippet.write_text(
        "import octobot_trading as ot\n\n" + "".join(f"reveal_type({name})\n" for name in names), encoding="utf-8"
    )
    this_file = Path(__file__).resolve()
    output, status = _run_mypy(snippet, this_file)
    revealed = dict(re.findall(r"reveal_public_api\.py:(\d+): note: Revealed type is \"(.*)\"", output))
    assert len(revealed) == len(names), output
    untyped = [name for line, name in enumerate(names, start=3) if revealed[str(line)] == "Any"]
    assert untyped == [], f"mypy types these public names as Any: {untyped}"
    # the typed usage of this file type-checks too (assert_type fails on Any or a wrong type)
    errors = [line for line in output.splitlines() if ": error:" in line]
    assert errors == [] and status == 0, output


def test_mypy_reports_a_misspelled_public_name(tmp_path: Path) -> None:
    """The lazy loader's module ``__getattr__`` is hidden from type checkers, so a typo is an error, not ``Any``."""
    snippet = tmp_path / "misspelled_public_api.py"
    snippet.write_text(
        "import octobot_trading as ot\n\n"
        "ot.ExchangeBuildr('binance')\n"
        "ot.backtesting.run_backtst\n"
        "ot.backtesting.CandleData\n",
        encoding="utf-8",
    )
    output, status = _run_mypy(snippet)
    errors = sorted(int(line) for line in re.findall(r"misspelled_public_api\.py:(\d+): error: .*attr-defined", output))
    assert errors == [3, 4] and status == 1, output
    assert 'has no attribute "ExchangeBuildr"' in output and 'has no attribute "run_backtst"' in output


#: The documented usage (README / docs: construction, market data, exchange calls, scripts,
#: trading, portfolio, backtesting, scripted modes, signals, sweeps) as a user writes it, with no
#: narrowing of the manager's slots.
_DOCUMENTED_USAGE = """\
from decimal import Decimal

import octobot_trading as ot


async def construction() -> None:
    manager = await (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key="...", api_secret="...", password=None)
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["1m", "1h"])
        .with_ccxt_options({"options": {}})
        .sandboxed(False)
        .rest_only(False)
        .use_real_trader()
        .use_trading_mode(ot.modes.SmaCrossMode, config={"fast_period": 10})
        .with_storage("state.sqlite")
        .build()
    )
    async with manager:
        await manager.wait_ready(timeout=30)
    sd = manager.exchange_symbols_data.get("BTC/USDT")
    closes = sd.candles("5m").closes(limit=None)
    mark: Decimal | None = sd.mark_price
    ticker: ot.Ticker | None = sd.ticker
    best = sd.order_book.best_bid()
    ex: ot.RestExchange = manager.exchange
    balances: dict[str, ot.Balance] = await ex.fetch_balance()
    candles: list[ot.Candle] = await ex.fetch_ohlcv("BTC/USDT", "1h", since=None, limit=None)
    book: ot.OrderBook = await ex.fetch_order_book("BTC/USDT", limit=None)
    placed: ot.ExchangeOrder = await ex.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, "BTC/USDT", "0.01", "20000")
    await ex.cancel_order(placed.id, "BTC/USDT")
    order: ot.Order = await manager.trader.create_order(
        ot.OrderType.LIMIT, ot.OrderSide.BUY, "BTC/USDT", amount="0.01", price="20000")
    await manager.trader.cancel_order(order)
    status: ot.OrderStatus = order.status
    asset = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    available: Decimal = asset.available
    total: Decimal = asset.total
    orders = manager.exchange_personal_data.orders_manager
    print(closes, mark, ticker, best, balances, candles, book, status, available, total, orders, order.id,
          order.exchange_order_id, manager.id, manager.exchange_name, manager.is_simulated, manager.is_backtesting,
          manager.is_future)
    await manager.stop()


async def scripts() -> None:
    async with ot.ExchangeFactory.create_exchange(
            "binance", api_key="...", api_secret="...", testnet=True, ccxt_options=None, client_hook=None) as exchange:
        price: Decimal = await exchange.get_ticker_price("BTC/USDT")
        balances: dict[str, ot.Balance] = await exchange.get_balances()
        order: ot.ExchangeOrder = await exchange.execute_trade("BTC/USDT", ot.OrderSide.BUY, "0.01", price=None)
        history: list[ot.ExchangeOrder] = await exchange.get_order_history("BTC/USDT")
        value: Decimal = await exchange.get_portfolio_value("USDT")
        print(price, balances, order, history, value, await exchange.get_positions())


async def backtest() -> None:
    data = ot.backtesting.CandleData.from_file(
        "BTC_USDT-5m.json", exchange="binance", symbol="BTC/USDT", time_frame="5m")
    result = await ot.backtesting.run_backtest(
        data, trading_mode=ot.modes.SmaCrossMode, mode_config={"fast_period": 10},
        starting_portfolio={"USDT": "10000"}, fees=ot.Fees(maker="0.001", taker="0.001"),
        markets={"BTC/USDT": ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5")})
    print(result.trades, result.final_portfolio, result.metrics, result.equity_curve)


async def scripted_signals_and_sweeps(manager: ot.ExchangeManager, other_manager: ot.ExchangeManager,
                                      data: ot.backtesting.CandleData) -> None:
    ot.ExchangeBuilder("binance").use_trading_mode(ot.modes.ScriptedMode, {"script": "my_script.py"})
    await ot.backtesting.run_backtest(data, trading_mode=ot.modes.ScriptedMode,
                                      mode_config={"script": "my_script.py"})
    publisher = ot.signals.SignalPublisher(manager)
    await publisher.serve(host="127.0.0.1", port=0, token=None)
    follower = ot.signals.SignalFollower(other_manager, source=publisher, sizing="portfolio", token=None)
    text = ot.signals.SignalBundle.from_json("{}").to_json()
    results = await ot.backtesting.run_sweep(
        data, trading_mode=ot.modes.SmaCrossMode, grid={"fast_period": [5, 10, 20], "slow_period": [30, 50]},
        starting_portfolio={"USDT": "10000"}, address=None)
    print(follower, text, results.table)
"""


def test_the_documented_usage_type_checks_strictly_in_user_code(tmp_path: Path) -> None:
    """``manager.trader``, ``.exchange_personal_data`` and ``.exchange_symbols_data`` are typed without
    ``Optional``, so user code under ``mypy --strict`` needs no ``assert ... is not None``."""
    snippet = tmp_path / "user_bot.py"
    snippet.write_text(_DOCUMENTED_USAGE, encoding="utf-8")
    output, status = _run_mypy(snippet, flags=("--strict", "--follow-imports=silent"))
    assert status == 0 and ": error:" not in output, output


def _type_checking_imports(package: Path) -> tuple[dict[str, str], set[str]]:
    """(name -> module, sub-packages) imported under ``if TYPE_CHECKING:`` in ``package``'s ``__init__``."""
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    names: dict[str, str] = {}
    modules: set[str] = set()
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module, ast.unparse(node)
        for alias in node.names:
            assert alias.asname == alias.name, f"re-export {alias.name} as itself"
            if node.module == "octobot_trading":
                modules.add(alias.name)
            else:
                names[alias.name] = node.module
    return names, modules


def test_type_checking_declarations_mirror_the_lazy_names() -> None:
    """The ``if TYPE_CHECKING:`` imports and the run-time lazy tables name the same things."""
    hint = "declare each lazy name under `if TYPE_CHECKING:` as `from <module> import <name> as <name>`"
    names, modules = _type_checking_imports(REPO / "octobot_trading")
    assert names == ot._LAZY, hint
    assert modules == set(ot._LAZY_MODULES), hint
    names, modules = _type_checking_imports(REPO / "octobot_trading" / "backtesting")
    assert names == ot.backtesting._LAZY and modules == set(), hint
    names, modules = _type_checking_imports(REPO / "octobot_trading" / "exchanges")
    assert names == ot.exchanges._LAZY and modules == set(), hint
    for name, module in ot.exchanges._LAZY.items():
        assert getattr(ot.exchanges, name) is getattr(importlib.import_module(module), name)


def test_every_lazy_name_resolves_to_the_declared_object() -> None:
    for name, module in ot._LAZY.items():
        assert getattr(ot, name) is getattr(importlib.import_module(module), name)
    for name in ot._LAZY_MODULES:
        assert getattr(ot, name) is importlib.import_module(f"octobot_trading.{name}")


def test_internal_assembly_modules_are_not_public() -> None:
    assert "wiring" not in ot._LAZY_MODULES
    assert "wiring" not in ot.__all__ and "wiring" not in dir(ot)
