"""Registers the writer agent on the worker's faust app."""

from __future__ import annotations

import faust

from intercom_stream.settings import Settings
from stream_app.dead_letters import Send


def register_writer(app: faust.App, settings: Settings, send_dead_letter: Send) -> None:
    """Register the command-topic agent on the app (under construction: registers nothing yet)."""
