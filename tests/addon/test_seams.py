"""Seams inside the add-on, checked on the source: who may reach what."""

from __future__ import annotations

import ast
from pathlib import Path

import porchlight_edge

PACKAGE = Path(porchlight_edge.__file__).parent


def _attributes(path: Path) -> set[str]:
    return {n.attr for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Attribute)}


def _imports(path: Path) -> set[str]:
    return {
        n.module
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.ImportFrom) and n.module is not None
    }


def test_api_goes_through_the_recordings_facade() -> None:
    """No API module touches the clip store, its index or a camera's recorder."""
    for path in sorted((PACKAGE / "api").glob("*.py")):
        reached = _attributes(path) & {"store", "index", "recorder"}
        assert not reached, f"{path.name} reaches {sorted(reached)}"
        storage = {m for m in _imports(path) if m.startswith("porchlight_edge.recorder.")}
        assert storage <= {"porchlight_edge.recorder.ids", "porchlight_edge.recorder.export"}, (
            f"{path.name} imports {sorted(storage)}"
        )
