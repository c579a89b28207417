"""Where the repository and the add-on's folder are, and the add-on's YAML files as read."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import yaml  # type: ignore[import-untyped]

ROOT: Final = Path(__file__).resolve().parents[2]
ADDON: Final = ROOT / "addon"


def load_addon_yaml(name: str) -> Any:
    """The parsed YAML file `name` of the add-on's folder (config.yaml, build.yaml, ...)."""
    return yaml.safe_load((ADDON / name).read_text(encoding="utf-8"))
