"""Fixtures of the operations tests: the writer process and the fake Intercom."""

from tests.stream_app.writer.conftest import fake
from tests.stream_app.writer.test_writer_kafka import worker, writer_settings

__all__ = ["fake", "worker", "writer_settings"]
