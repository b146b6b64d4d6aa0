"""Storage restores state through public methods of the trading core, never private attributes."""

from __future__ import annotations

import ast
from pathlib import Path

import octobot_trading.storage as storage_package


def _private_accesses(path: Path) -> list[str]:
    """``x._name`` accesses in ``path`` where ``x`` is not ``self`` / ``cls`` (own attributes)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{path.name}:{node.lineno}: .{node.attr}")
    return found


def test_storage_reaches_no_private_attribute_of_another_object():
    files = sorted(Path(storage_package.__file__).parent.glob("*.py"))
    assert files
    assert [hit for path in files for hit in _private_accesses(path)] == []
