"""Command-line ``key=value`` settings, shared by the console scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib


def parse_key_values(items: Iterable[str], flag: str = "--set") -> dict[str, Any]:
    """``["a=1", "b=[6, 6]", "c=text"]`` -> ``{"a": 1, "b": [6, 6], "c": "text"}`` (values read as TOML)."""
    values: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag} needs key=value, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            values[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = raw  # a bare string
    return values
