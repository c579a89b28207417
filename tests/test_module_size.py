"""Modules stay small: one job each, at most 400 lines unless the docstring says why.

A module over the limit must state its reason in its docstring with a line starting
`Over 400 lines:`. Both halves are checked: the add-on and the integration.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = (ROOT / "custom_components" / "porchlight", ROOT / "addon" / "porchlight_edge")
MAX_LINES = 400
REASON = "Over 400 lines:"

MODULES = sorted(path for tree in TREES for path in tree.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small_or_says_why(module: Path) -> None:
    source = module.read_text()
    lines = source.count("\n")
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert REASON in docstring, f"{module.name} has {lines} lines and no stated reason"


def test_the_check_sees_the_integration() -> None:
    assert any(path.name == "client.py" for path in MODULES)


def test_the_check_sees_the_addon() -> None:
    assert any(path.name == "recorder.py" for path in MODULES)
