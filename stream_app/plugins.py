"""Loads handlers of your own: `HANDLER_PLUGINS=pkg.module:register,...`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from intercom_stream.errors import ConfigurationError
from stream_app.router import Router


def load_plugins(router: Router, specs: str) -> Router:
    """Call each `module:function` in the comma-separated specs with the router; return it."""
    for spec in filter(None, (part.strip() for part in specs.split(","))):
        module_name, _, function_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
            register = cast(Callable[[Router], object], getattr(module, function_name))
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigurationError(f"handler plugin {spec!r} cannot be loaded: {exc}") from exc
        register(router)
    return router
