"""Parameter sweeps on Ray: each row is the serial backtest of its config, failures stay in their row.

Ray runs locally on loopback: one instance for the session (``ray_session``), and fresh
processes for the default local start-up and for joining an existing cluster.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest, run_sweep
from octobot_trading.backtesting.sweep import SweepResult, validate_grid
from octobot_trading.backtesting.sweep_report import render_sweep_report
from octobot_trading.cli import main
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes.sma_cross import SmaCrossMode

pytest_plugins = ["tests.backtesting.ray_session"]

FIXTURES = Path(__file__).parent / "fixtures"
DATA_FILE = FIXTURES / "BTC_USDT-5m-head600.json"
OPTIONS: dict[str, Any] = {"starting_portfolio": {"USDT": "5000"}, "fees": ot.Fees(maker="0.001", taker="0.002")}
GRID = {"fast_period": [4, 6, 12], "slow_period": [12, 20]}


@pytest.fixture(scope="module")
def data() -> CandleData:
    return CandleData.from_file(DATA_FILE)


@pytest.fixture(scope="module")
def swept(ray_cluster: Any, data: CandleData) -> SweepResult:
    """One sweep of ``GRID`` for the module (6 combinations, one refused: fast 12 >= slow 12)."""
    return asyncio.run(
        run_sweep(data, SmaCrossMode, grid=GRID, mode_config={"buy_fraction": "0.5"}, progress=False, **OPTIONS)
    )


async def test_each_row_equals_the_serial_backtest_of_its_config(swept: SweepResult, data: CandleData) -> None:
    table = swept.table
    assert [row.params for row in table] == [{"fast_period": f, "slow_period": s} for f in (4, 6, 12) for s in (12, 20)]
    assert [row.index for row in table] == list(range(6))
    hashes = set()
    for row in table:
        config = {"buy_fraction": "0.5", **row.params}
        if row.params == {"fast_period": 12, "slow_period": 12}:
            with pytest.raises(ConfigurationError) as refused:
                await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config, **OPTIONS)
            assert not row.ok and row.metrics is None and row.event_log_hash is None
            assert (row.error_type, row.error_message) == ("ConfigurationError", str(refused.value))
            assert "fast_period must be smaller than slow_period" in (row.error or "")
            continue
        serial = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config, **OPTIONS)
        assert row.ok and row.error is None
        assert row.event_log_hash == serial.event_log_hash
        assert row.final_portfolio == serial.final_portfolio
        assert row.metrics == serial.metrics
        assert (row.fills, row.candles) == (len(serial.trades), serial.candles) and row.fills
        assert row.mode_config == serial.mode_config
        hashes.add(row.event_log_hash)
    assert len(hashes) == 5  # every completed combination traded differently
    assert swept.workers == 2 and swept.candles == 600 and swept.symbols == ["BTC/USDT"]
    assert swept.time_frames == ["5m"] and swept.mode_name == "sma_cross"


async def test_a_combination_failing_inside_its_backtest_is_reported_in_its_row(
    ray_cluster: Any, data: CandleData
) -> None:
    grid = {"time_frame": ["5m", "1h"]}  # the data has no 1h candles: the mode refuses to start
    result = await run_sweep(
        data, SmaCrossMode, grid=grid, mode_config={"fast_period": 4, "slow_period": 12}, progress=False
    )
    ok, failed = result.table
    with pytest.raises(ConfigurationError) as serial:
        await run_backtest(
            data, trading_mode=SmaCrossMode, mode_config={"fast_period": 4, "slow_period": 12, "time_frame": "1h"}
        )
    assert ok.ok and ok.event_log_hash
    assert (failed.error_type, failed.error_message) == ("ConfigurationError", str(serial.value))
    assert "1h" in (failed.error or "")
    assert result.table.failed == [failed]


async def test_the_data_goes_into_the_object_store_once(
    ray_cluster: Any, data: CandleData, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[Any] = []
    real_put = ray_cluster.put

    def counting_put(value: Any, *args: Any, **kwargs: Any) -> Any:
        stored.append(value)
        return real_put(value, *args, **kwargs)

    monkeypatch.setattr(ray_cluster, "put", counting_put)
    result = await run_sweep(
        data, SmaCrossMode, grid={"fast_period": [3, 4, 5, 6]}, mode_config={"slow_period": 12}, progress=False
    )
    assert len(result.table) == 4 and not result.table.failed
    assert stored == [data]


async def test_keep_orders_reaches_every_backtest_of_the_sweep(
    ray_cluster: Any, data: CandleData, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    real_remote = ray_cluster.remote

    class _Recording:
        def __init__(self, task: Any) -> None:
            self.task = task

        def remote(self, data_ref: Any, mode: Any, config: Any, options: dict[str, Any]) -> Any:
            sent.append(options)
            return self.task.remote(data_ref, mode, config, options)

    def remote(**kwargs: Any) -> Any:
        return lambda function: _Recording(real_remote(**kwargs)(function))

    monkeypatch.setattr(ray_cluster, "remote", remote)
    grid = {"fast_period": [4, 6]}
    result = await run_sweep(
        data, SmaCrossMode, grid=grid, mode_config={"slow_period": 12}, keep_orders=False, progress=False, **OPTIONS
    )
    assert [options["keep_orders"] for options in sent] == [False, False]
    for row in result.table:
        serial = await run_backtest(
            data, trading_mode=SmaCrossMode, mode_config={"slow_period": 12, **row.params}, keep_orders=False, **OPTIONS
        )
        assert row.ok and row.event_log_hash == serial.event_log_hash and row.fills == len(serial.trades)


async def test_a_keep_orders_that_is_not_a_bool_is_refused_before_anything_runs(data: CandleData) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await run_sweep(data, SmaCrossMode, grid={"fast_period": [4]}, keep_orders="no", progress=False)  # type: ignore[arg-type]
    assert refused.value.field == "keep_orders"


@pytest.mark.parametrize(
    ("grid", "field", "words"),
    [
        ({"fast_periods": [5]}, "grid.fast_periods", "not a setting of sma_cross"),
        ({"fast_period": []}, "grid.fast_period", "has no values"),
        ({"fast_period": 5}, "grid.fast_period", "needs a list of values"),
        ({"fast_period": "5,10"}, "grid.fast_period", "needs a list of values"),
        ({"fast_period": {5, 10}}, "grid.fast_period", "needs a list of values"),
        ({"fast_period": [5, 10, 5]}, "grid.fast_period", "repeats the value 5"),
        ({}, "grid", "non-empty mapping"),
        ([("fast_period", [5])], "grid", "non-empty mapping"),
        ({5: [5]}, "grid", "parameter names"),
    ],
)
async def test_an_invalid_grid_is_refused_before_anything_runs(
    data: CandleData, grid: Any, field: str, words: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        # an address where no cluster listens: reaching it would fail differently
        await run_sweep(data, SmaCrossMode, grid=grid, address="127.0.0.1:9", progress=False)
    assert refused.value.field == field
    assert words in str(refused.value)
    with pytest.raises(ConfigurationError, match="workers must be a positive integer"):
        await run_sweep(data, SmaCrossMode, grid={"fast_period": [5]}, workers=0, address="127.0.0.1:9")


async def test_without_ray_installed_the_sweep_says_which_extra_to_install(
    data: CandleData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives: ModuleNotFoundError
    with pytest.raises(ConfigurationError, match=r"pip install 'octobot_trading\[sweep\]'") as missing:
        await run_sweep(data, SmaCrossMode, grid={"fast_period": [4]}, mode_config={"slow_period": 12})
    assert missing.value.field == "ray"


def test_grid_values_of_the_same_text_but_another_type_are_distinct() -> None:
    assert validate_grid(SmaCrossMode, {"buy_fraction": ("0.5", Decimal("0.5"))}) == {
        "buy_fraction": ["0.5", Decimal("0.5")]
    }


def test_the_table_sorts_and_exports_csv(swept: SweepResult, tmp_path: Path) -> None:
    table = swept.table
    by_return = table.sort("total_return", descending=True)
    returns = [row.metrics.total_return for row in by_return if row.metrics is not None]
    assert returns == sorted(returns, reverse=True) and len(returns) == 5
    assert not by_return[-1].ok  # the failed row has no value: last either way
    assert not table.sort("total_return")[-1].ok
    assert [row.params["fast_period"] for row in table.sort("fast_period")][:2] == [4, 4]
    assert table.best("total_return") is by_return[0]
    assert table.best("max_drawdown").metrics == min(
        (r.metrics for r in table if r.metrics), key=lambda m: m.max_drawdown
    )
    with pytest.raises(ConfigurationError, match="unknown sweep column"):
        table.sort("profit")
    path = swept.to_csv(tmp_path / "sweep.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == table.columns
    assert table.columns[:2] == ["fast_period", "slow_period"]
    assert {"final_BTC", "final_USDT", "event_log_hash", "error", "sharpe"} <= set(table.columns)
    for written, row in zip(rows, table, strict=True):
        assert int(written["fast_period"]) == row.params["fast_period"]
        if row.ok:
            assert row.final_portfolio is not None and row.metrics is not None
            assert written["event_log_hash"] == row.event_log_hash and written["error"] == ""
            assert Decimal(written["final_USDT"]) == row.final_portfolio["USDT"]
            assert Decimal(written["total_return"]) == row.metrics.total_return  # exact text
        else:
            assert written["event_log_hash"] == "" and written["error"].startswith("ConfigurationError: ")
    records = table.to_records()
    assert records[0]["fast_period"] == 4 and isinstance(records[0]["final_USDT"], Decimal)


def test_the_sweep_report_is_a_self_contained_heatmap(swept: SweepResult, tmp_path: Path) -> None:
    page = render_sweep_report(swept, metric="sharpe")
    assert '"type":"heatmap"' in page.replace(" ", "")
    assert not re.findall(r"<script[^>]*src=", page)  # plotly inlined, nothing loaded: opens offline
    assert len(page) > 1_000_000
    assert "fast_period" in page and "slow_period" in page and "sharpe" in page
    assert "ConfigurationError: " in page  # the failed combination is listed with its error
    best = swept.table.best("sharpe")
    assert (best.event_log_hash or "")[:16] in page
    path = swept.write_report(tmp_path / "sweep.html", metric="total_return", x="slow_period", y="fast_period")
    assert path.read_text(encoding="utf-8").count("<html") == 1
    with pytest.raises(ConfigurationError, match="unknown metric") as bad:
        render_sweep_report(swept, metric="profit")
    assert bad.value.field == "metric"
    with pytest.raises(ConfigurationError, match="not a swept parameter"):
        render_sweep_report(swept, x="buy_fraction")
    with pytest.raises(ConfigurationError, match="two different parameters"):
        render_sweep_report(swept, x="fast_period", y="fast_period")


def test_sweep_command_prints_ranked_rows_and_writes_csv_and_report(
    ray_cluster: Any, data: CandleData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, report = tmp_path / "rows.csv", tmp_path / "sweep.html"
    code = main(
        [
            "sweep",
            "--data",
            str(DATA_FILE),
            "--mode",
            "octobot_trading.modes.sma_cross:SmaCrossMode",
            "--grid",
            "fast_period=4,6",
            "--grid",
            "slow_period=12,20",
            "--portfolio",
            "USDT=5000",
            "--csv",
            str(csv_path),
            "--report",
            str(report),
            "--metric",
            "sharpe",
            "--no-progress",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "sma_cross sweep on BTC/USDT (5m), 600 candles: 4 combinations, 0 failed" in out
    assert out.splitlines()[1].split()[:3] == ["fast_period", "slow_period", "sharpe"]
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["fast_period"], r["slow_period"]) for r in rows] == [("4", "12"), ("4", "20"), ("6", "12"), ("6", "20")]
    serial = asyncio.run(
        run_backtest(
            data,
            trading_mode=SmaCrossMode,
            mode_config={"fast_period": 6, "slow_period": 20},
            starting_portfolio={"USDT": "5000"},
        )
    )
    assert rows[3]["event_log_hash"] == serial.event_log_hash
    assert report.exists() and '"type":"heatmap"' in report.read_text(encoding="utf-8").replace(" ", "")


def test_sweep_command_refuses_a_malformed_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["sweep", "--data", str(DATA_FILE), "--csv", str(tmp_path / "r.csv"), "--report", str(tmp_path / "r.html")]
    assert main([*base, "--grid", "fast_period"]) == 2
    assert "--grid expects NAME=VALUE,VALUE" in capsys.readouterr().err
    assert main([*base, "--grid", "fast_period=5,", "--address", "127.0.0.1:9"]) == 2
    assert "--grid expects NAME=VALUE,VALUE" in capsys.readouterr().err
    assert main([*base, "--grid", "fast=5,10", "--address", "127.0.0.1:9"]) == 2
    assert "grid parameter 'fast' is not a setting of sma_cross" in capsys.readouterr().err
    assert main([*base, "--grid", "fast_period=5", "--metric", "profit"]) == 2
    assert "unknown metric 'profit'" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


RAY_SETTINGS = ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_USAGE_STATS_ENABLED")


def _run_script(script: str, tmp_path: Path, *, ray_settings: bool) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; ``ray_settings=False`` leaves the loopback settings out of its env."""
    path = tmp_path / "sweep_script.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if ray_settings or name not in RAY_SETTINGS}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path.cwd()), os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, str(path), str(DATA_FILE)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


_SCRIPT_HEAD = """
    import asyncio, json, os, sys
    from octobot_trading.backtesting import CandleData, run_backtest, run_sweep
    from octobot_trading.modes.sma_cross import SmaCrossMode

    data = CandleData.from_file(sys.argv[1])
    grid = {"fast_period": [4, 6], "slow_period": [12]}

    def serial_hashes():
        return [asyncio.run(run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": f,
                                                                                       "slow_period": 12}))
                .event_log_hash for f in (4, 6)]
"""


def test_run_sweep_starts_a_local_ray_with_one_worker_per_core_and_stops_it(tmp_path: Path) -> None:
    outcome = _run_script(
        _SCRIPT_HEAD
        + """
    result = asyncio.run(run_sweep(data, SmaCrossMode, grid=grid, progress=False))
    import ray
    print(json.dumps({"hashes": [row.event_log_hash for row in result.table], "workers": result.workers,
                      "running_after": ray.is_initialized(), "serial": serial_hashes(),
                      "cores": os.cpu_count(), "address": result.cluster_address,
                      "settings": [os.environ.get(name) for name in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER",
                                                                     "RAY_USAGE_STATS_ENABLED")]}))
    """,
        tmp_path,
        ray_settings=False,
    )  # the sweep sets them itself
    assert outcome["hashes"] == outcome["serial"] and all(outcome["hashes"])
    assert outcome["workers"] == outcome["cores"]
    assert outcome["running_after"] is False
    assert outcome["address"].startswith("127.0.0.1:")  # a local sweep stays on loopback ...
    assert outcome["settings"] == ["0", "0"]  # ... and sends no usage statistics


def test_run_sweep_joins_an_existing_cluster_by_address(ray_cluster: Any, tmp_path: Path) -> None:
    address = ray_cluster.get_runtime_context().gcs_address
    assert address.startswith("127.0.0.1:")
    outcome = _run_script(
        _SCRIPT_HEAD
        + f"""
    result = asyncio.run(run_sweep(data, SmaCrossMode, grid=grid, address={address!r}, progress=False))
    print(json.dumps({{"hashes": [row.event_log_hash for row in result.table], "workers": result.workers,
                      "serial": serial_hashes(), "address": result.cluster_address,
                      "errors": [row.error for row in result.table]}}))
    """,
        tmp_path,
        ray_settings=True,
    )  # this driver, like the session's cluster, on loopback
    assert outcome["errors"] == [None, None]
    assert outcome["hashes"] == outcome["serial"] and all(outcome["hashes"])
    assert outcome["address"] == address and outcome["workers"] == 2  # it ran on the session's cluster
    assert ray_cluster.is_initialized()  # the joining sweep left the cluster running
