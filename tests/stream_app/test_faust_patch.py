"""Replacing a library method once, the original kept (stream_app.faust.patch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stream_app.faust.patch import wrap_once


def test_a_method_is_wrapped_once_and_its_original_kept() -> None:
    """Wrapping twice wraps once; the replacement calls through and keeps the original."""

    class Owner:
        def method(self) -> str:
            return "original"

    wrapped: list[Callable[..., str]] = []

    def wrap(method: Callable[..., str]) -> Callable[..., str]:
        wrapped.append(method)
        return lambda self: f"wrapped {method(self)}"

    wrap_once(Owner, "method", wrap)
    wrap_once(Owner, "method", wrap)
    replaced: Any = Owner.method
    assert Owner().method() == "wrapped original"
    assert len(wrapped) == 1
    assert replaced.original(Owner()) == "original"
