"""Guard tests: layout rules that keep the code base honest."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "octobot_trading"
CCXT_DIR = PACKAGE / "exchanges" / "connectors" / "ccxt"


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_ccxt_is_imported_only_by_the_ccxt_connector():
    offenders = []
    for path in _modules():
        if CCXT_DIR in path.parents:
            continue
        if any(name == "ccxt" or name.startswith("ccxt.") for name in _imports(path)):
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []


def test_modules_stay_readable():
    too_long = [
        f"{p.relative_to(PACKAGE.parent)} ({n})"
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    ]
    assert too_long == []


def test_layout_is_shallow():
    deep = [str(p.relative_to(PACKAGE)) for p in _modules() if len(p.relative_to(PACKAGE).parts) > 4]
    assert deep == []


def test_no_wall_clock_outside_clock_module():
    offenders = []
    for path in _modules():
        if path.name == "clock.py" and path.parent == PACKAGE:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("time.time()", "time.time_ns()", "datetime.now(", "datetime.utcnow("):
            if needle in text:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}: {needle}")
    assert offenders == []


_FLOAT_MONEY = re.compile(r"(?<![\w.])float\(\s*(price|amount|quantity|cost|fee|balance)")


def test_no_float_money_conversions():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{lineno}"
        for path in _modules()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _FLOAT_MONEY.search(line)
    ]
    assert offenders == []


def _tool(name: str) -> list[str]:
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (it is in the 'dev' extra)")
    return [exe]


def test_ruff_clean():
    cmd = _tool("ruff")
    targets = [name for name in ("octobot_trading", "tests", "bench") if (PACKAGE.parent / name).is_dir()]
    proc = subprocess.run([*cmd, "check", *targets], cwd=PACKAGE.parent, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean():
    _tool("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=PACKAGE.parent, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_mypy_checks_the_library_and_the_tests():
    """``test_mypy_clean`` covers what pyproject's mypy settings name: both trees, tests relaxed only."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert set(config["files"]) >= {"octobot_trading", "tests"}
    tests_override = next(o for o in config["overrides"] if "tests.*" in o["module"])
    assert tests_override.get("ignore_errors") is not True
    assert config["disallow_untyped_defs"] is True and config["check_untyped_defs"] is True


def test_code_is_formatted():
    """The whole code base stays as ``ruff format`` writes it (run ``ruff format`` to fix)."""
    cmd = _tool("ruff")
    targets = [name for name in ("octobot_trading", "tests", "bench") if (PACKAGE.parent / name).is_dir()]
    proc = subprocess.run(
        [*cmd, "format", "--check", *targets], cwd=PACKAGE.parent, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
