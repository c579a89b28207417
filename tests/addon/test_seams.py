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
        # ids, export and the record dataclasses (the façade's return types) hold no state
        allowed = {"ids", "export", "records"}
        assert storage <= {f"porchlight_edge.recorder.{name}" for name in allowed}, (
            f"{path.name} imports {sorted(storage)}"
        )


def test_recorder_thread_boundary_is_a_queue_of_immutable_jobs() -> None:
    """Loop side (recorder, snapshots) and worker share nothing mutable: jobs are frozen
    dataclasses, only the worker touches writers and the index, only the loop the clip
    state machine."""
    import dataclasses
    import typing

    from porchlight_edge.recorder import jobs as job_types

    jobs = typing.get_args(job_types.Job.__value__)
    assert len(jobs) >= 6
    for job in jobs:
        assert dataclasses.is_dataclass(job), job
        assert job.__dataclass_params__.frozen, f"{job.__name__} must be frozen"  # type: ignore[attr-defined]
    loop_side = [PACKAGE / "recorder" / "recorder.py", PACKAGE / "recorder" / "snapshots.py"]
    for path in loop_side:
        touched = _attributes(path) & {"writer", "index", "add_event", "set_snapshot", "write"}
        assert not touched, f"{path.name} does worker work: {sorted(touched)}"
    worker_side = _attributes(PACKAGE / "recorder" / "worker.py")
    assert not worker_side & {"end_at", "limit_at", "_clip", "_picks", "_burst"}
