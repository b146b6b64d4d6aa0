"""What a sweep refuses before any work, and how the ``sweep`` command ends when it cannot finish well.

A bad Ray address, a trading mode that is not a mode class, data that is not ``CandleData`` and an
output path that cannot be written are typed errors naming them; a sweep whose every combination
failed still prints and writes its table, then exits 2.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.backtesting import CandleData, run_sweep
from octobot_trading.cli import main
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes.sma_cross import SmaCrossConfig, SmaCrossMode

FIXTURES = Path(__file__).parent / "fixtures"
DATA_FILE = FIXTURES / "BTC_USDT-5m-head600.json"


@pytest.fixture(scope="module")
def data() -> CandleData:
    return CandleData.from_file(DATA_FILE)


@pytest.mark.parametrize("address", ["not a host", "localhost", "127.0.0.1:0", "127.0.0.1:99999", "http://h:1", ""])
async def test_a_malformed_ray_address_is_refused_naming_it(data: CandleData, address: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await run_sweep(data, SmaCrossMode, grid={"fast_period": [4]}, address=address, progress=False)
    assert refused.value.field == "address"
    assert f"not a Ray cluster address: {address!r}" in str(refused.value)


async def test_a_ray_client_address_without_the_client_package_says_what_to_install(
    data: CandleData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)  # what an environment without the Ray Client gives
    with pytest.raises(ConfigurationError) as refused:
        await run_sweep(data, SmaCrossMode, grid={"fast_period": [4]}, address="ray://127.0.0.1:10001", progress=False)
    assert refused.value.field == "address"
    assert "pip install 'ray[client]'" in str(refused.value) and "'ray://127.0.0.1:10001'" in str(refused.value)


_UNREACHABLE = """
    import asyncio, json, socket, sys, threading
    from octobot_trading.backtesting import CandleData, run_sweep, sweep_ray
    from octobot_trading.modes.sma_cross import SmaCrossMode

    data = CandleData.from_file(sys.argv[1])
    sweep_ray.CONNECT_TIMEOUT_S = 1.0

    def serve(answer):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        def accept():
            while True:
                connection, _ = server.accept()
                if answer is not None:
                    connection.recv(100)
                    connection.sendall(answer)
                    if answer[3:4] != bytes([4]):  # an HTTP/2 (gRPC) server keeps its connections open
                        connection.close()
                    else:
                        kept.append(connection)
        threading.Thread(target=accept, daemon=True).start()
        return server

    kept = []
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: a connection is refused
    silent, http = serve(None), serve(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n")
    grpc = serve(bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))  # answers HTTP/2 (any gRPC server), then nothing
    outcomes = {}
    for name, sock in (("refused", closed), ("silent", silent), ("http", http), ("grpc", grpc)):
        address = "127.0.0.1:%d" % sock.getsockname()[1]
        try:
            asyncio.run(run_sweep(data, SmaCrossMode, grid={"fast_period": [4]}, address=address, progress=False))
            outcomes[name] = "joined"
        except Exception as exc:
            outcomes[name] = [type(exc).__name__, getattr(exc, "field", None), str(exc), address]
    import ray
    outcomes["initialized"] = ray.is_initialized()
    print(json.dumps(outcomes))
"""


def test_joining_an_address_that_does_not_answer_as_a_cluster_fails_in_bounded_time(tmp_path: Path) -> None:
    script = tmp_path / "unreachable.py"
    script.write_text(textwrap.dedent(_UNREACHABLE), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(Path.cwd()), os.environ.get("PYTHONPATH")) if p))
    # Ray alone would retry the last two for ever; the timeout only keeps a regression from stalling the suite
    done = subprocess.run(
        [sys.executable, str(script), str(DATA_FILE)], capture_output=True, text=True, env=env, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes.pop("initialized") is False
    for name, reason in (
        ("refused", "Connection refused"),
        ("silent", "no answer within 1 s"),
        ("http", "not a Ray cluster"),
    ):
        error_type, field, message, address = outcomes[name]
        assert (error_type, field) == ("ConfigurationError", "address"), outcomes[name]
        assert f"cannot reach the Ray cluster at {address!r}" in message and reason in message
    # a gRPC server that is not Ray's control store: refused once it does not list its nodes
    error_type, field, message, address = outcomes["grpc"]
    assert (error_type, field) == ("ConfigurationError", "address"), outcomes["grpc"]
    assert f"what answers at {address!r} is not a Ray cluster" in message and "within 1 s" in message


def test_the_sweep_command_with_a_bad_address_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            *["sweep", "--data", str(DATA_FILE), "--grid", "fast_period=4,6", "--address", "not a host"],
            *["--no-progress", "--csv", str(tmp_path / "r.csv"), "--report", str(tmp_path / "r.html")],
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        "error: ConfigurationError: not a Ray cluster address: 'not a host' "
        "(expected 'host:port', 'ray://host:port' or 'auto')"
    ]
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("mode", ["sma_cross", None, int, SmaCrossConfig, 5])
async def test_run_sweep_refuses_a_trading_mode_that_is_not_a_mode_class(data: CandleData, mode: Any) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await run_sweep(data, mode, grid={"fast_period": [4]}, progress=False)
    assert refused.value.field == "trading_mode" and repr(mode) in str(refused.value)


async def test_run_sweep_refuses_data_that_is_not_candle_data(data: CandleData) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await run_sweep(str(DATA_FILE), SmaCrossMode, grid={"fast_period": [4]}, progress=False)  # type: ignore[arg-type]
    assert refused.value.field == "data" and "CandleData.from_file(path)" in str(refused.value)


def test_the_sweep_command_whose_every_combination_fails_writes_its_table_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, report = tmp_path / "rows.csv", tmp_path / "sweep.html"
    # fast_period 40 and 50 are each refused against the default slow_period 30
    code = main(
        [
            *["sweep", "--data", str(DATA_FILE), "--grid", "fast_period=40,50", "--no-progress"],
            *["--csv", str(csv_path), "--report", str(report)],
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "2 combinations, 2 failed" in captured.out
    refusal = "ConfigurationError: invalid sma_cross config: sma_cross config: Value error, fast_period must be"
    assert captured.out.count(f"failed: {refusal}") == 2
    assert captured.err.startswith(f"error: every one of the 2 combinations failed (first: {refusal}")
    assert len(captured.err.splitlines()) == 1
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["fast_period"], r["error"].split(":")[0]) for r in rows] == [
        ("40", "ConfigurationError"),
        ("50", "ConfigurationError"),
    ]
    assert "fast_period must be smaller than slow_period" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("option", ["--csv", "--report"])
def test_the_sweep_command_refuses_an_unwritable_output_path_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    paths = {"--csv": str(tmp_path / "r.csv"), "--report": str(tmp_path / "r.html")}
    paths[option] = str(tmp_path / "missing" / "out.file")
    code = main(
        ["sweep", "--data", str(DATA_FILE), "--grid", "fast_period=4,6", "--grid", "slow_period=12", "--no-progress"]
        + [item for pair in paths.items() for item in pair]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""  # nothing ran
    assert captured.err.splitlines() == [
        f"error: ConfigurationError: {option} {paths[option]!r}: its directory "
        f"{str(tmp_path / 'missing')!r} does not exist"
    ]
    assert not any(Path(path).exists() for path in paths.values())


def test_the_backtest_command_refuses_a_report_path_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["backtest", "--data", str(DATA_FILE), "--mode", "sma_cross", "--no-progress"]
    assert main([*base, "--report", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: ConfigurationError: --report {str(tmp_path)!r}: is a directory"]
    assert main([*base, "--report", str(tmp_path / "no" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
