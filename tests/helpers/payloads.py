"""Check a JSON payload against a protocol TypedDict (keys, nested TypedDicts)."""

from __future__ import annotations

import types
from typing import (
    Any,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)


def _unwrap(hint: Any) -> Any:
    while get_origin(hint) in (NotRequired, Required):
        hint = get_args(hint)[0]
    return hint


def _typeddicts(hint: Any) -> list[Any]:
    """The TypedDicts a value of `hint` may be (directly or as `X | None`)."""
    hint = _unwrap(hint)
    if is_typeddict(hint):
        return [hint]
    if get_origin(hint) in (Union, types.UnionType):
        return [arg for arg in get_args(hint) if is_typeddict(arg)]
    return []


def problems(shape: Any, value: object, *, complete: bool, where: str = "") -> list[str]:
    """What keeps `value` from being a `shape` (a TypedDict), recursively.

    Every required key must be there (an older peer's payload that lacks one means the
    key must be `NotRequired`). With `complete`, a key the TypedDict does not name is a
    problem too (the payload crosses the wire untyped).
    """
    if not isinstance(value, dict):
        return [f"{where or shape.__name__}: not an object"]
    found: list[str] = []
    hints = get_type_hints(shape, include_extras=True)
    # Not `__required_keys__`: with postponed annotations it counts NotRequired keys too.
    for key, hint in hints.items():
        if get_origin(hint) is not NotRequired and key not in value:
            found.append(f"{where}.{key} missing ({shape.__name__})")
    for key, item in value.items():
        if key not in hints:
            if complete:
                found.append(f"{where}.{key} not in {shape.__name__}")
            continue
        hint = _unwrap(hints[key])
        inner = _typeddicts(hint)
        if inner and isinstance(item, dict):
            found += problems(inner[0], item, complete=complete, where=f"{where}.{key}")
        elif get_origin(hint) is list and isinstance(item, list):
            (element,) = get_args(hint)
            if is_typeddict(element):
                for index, entry in enumerate(item):
                    found += problems(
                        element, entry, complete=complete, where=f"{where}.{key}[{index}]"
                    )
    return found
