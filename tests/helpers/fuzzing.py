"""Hypothesis strategies shared by the fuzz tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

json_scalars: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
"""Any value Python's json module reads, NaN and the infinities included."""

edge_values: st.SearchStrategy[Any] = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), 1e308, -1, 0, 10**30, True, "", "x", [], {}, [1]]
)
"""The values that break parsers most often: each is tried often, not by luck."""
