"""Motion engine vs the Frigate-style reference on real sequences with ground truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.datasets import MANIFESTS, data_root, load_sequences, run_side_by_side
from benchmarks.motion import engine_detector, reference_detector

pytestmark = pytest.mark.shared_data

ROOT = data_root()
# Scored frames per sequence (None = all; the whole set runs in about 20 s).
LIMIT: int | None = None
MARGIN = 0.02
"""How far below the reference one sequence may score (pixel F1 and frame F1)."""


@pytest.mark.skipif(
    ROOT is None, reason="no ../shared/data (or PORCHLIGHT_SHARED_DATA): motion ground truth absent"
)
def test_engine_beats_frigate_style_reference() -> None:
    assert ROOT is not None
    sequences = load_sequences(ROOT)
    assert sequences, "manifest lists no sequences"
    # Every manifest present is covered (manifest-added.json brings the still visitor).
    listed = {
        name
        for m in MANIFESTS
        if (ROOT / m).is_file()
        for name in json.loads((ROOT / m).read_text())
    }
    assert {s.name for s in sequences} == listed
    rows = []
    for seq in sequences:
        eng, ref = run_side_by_side(seq, [engine_detector, reference_detector], limit=LIMIT)
        # Same frames scored for both.
        assert len(eng.frame_truth) == len(ref.frame_truth) > 0
        rows.append((seq.name, eng.pixel_f1, ref.pixel_f1, eng.frame_f1, ref.frame_f1))
    table = "\n".join(
        f"{n}: pixel {e:.3f} vs {r:.3f}, frame {fe:.3f} vs {fr:.3f}" for n, e, r, fe, fr in rows
    )
    assert np.mean([r[1] for r in rows]) > np.mean([r[2] for r in rows]), table
    assert np.mean([r[3] for r in rows]) > np.mean([r[4] for r in rows]), table
    # No sequence may be clearly worse than the reference, on either measure.
    for name, e, r, fe, fr in rows:
        assert e >= r - MARGIN, f"{name} pixel F1 {e:.3f} worse than reference {r:.3f}\n{table}"
        assert fe >= fr - MARGIN, f"{name} frame F1 {fe:.3f} worse than reference {fr:.3f}\n{table}"
