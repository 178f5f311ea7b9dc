"""One way to replace a method of aiokafka's: once, keeping the original beside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def wrap_once(owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
    """Replace `owner.name` with `wrap(original)` unless already wrapped; keep the original."""
    current = getattr(owner, name)
    if getattr(current, "wrapped", False):
        return
    replacement = wrap(current)
    replacement.wrapped = True
    replacement.original = current
    setattr(owner, name, replacement)
