"""Registry entries that name what they hold, imported on first use."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(entry: Any, package: str | None = None) -> Any:
    """``entry`` itself when it is callable, else the object its ``"module:attribute"`` names,
    imported now (``module`` relative to ``package`` when given). Registries hold such names so
    that heavy modules (PyTorch, a writer) load only when their entry is used.

    Example:
        >>> resolve("json:dumps")([1])
        '[1]'
    """
    if callable(entry):
        return entry
    module, _, attribute = entry.partition(":")
    return getattr(importlib.import_module(f"{package}.{module}" if package else module), attribute)
