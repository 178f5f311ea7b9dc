"""Structured JSON logging through structlog, configured once at the entry point."""

from __future__ import annotations

import logging

import orjson
import structlog


def _dumps(value: object, **_: object) -> str:
    """Serialise a log event with orjson, falling back to str for unknown types."""
    return orjson.dumps(value, default=str).decode()


def configure(level: str = "info") -> None:
    """Render every structlog event as one JSON line on stdout at the given level."""
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s %(message)s")
