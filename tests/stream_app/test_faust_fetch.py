"""The consumer's short fetch wait (stream_app.faust.fetch) and the faust internals it needs."""

from __future__ import annotations

import inspect
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from stream_app.faust import fetch
from stream_app.faust.seek import SeekingConsumer, use_seeking_consumer


async def fetch_wait(app: faust.App) -> int:
    """Return the fetch wait of the aiokafka consumer the app's consumer thread builds."""
    thread: Any = app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)
    await consumer.stop()  # never started: this only marks it closed
    thread.thread_loop.close()  # the thread never ran, so never closed the loop it made
    return int(consumer._fetch_max_wait_ms)


def new_app() -> faust.App:
    """Return an app with nothing registered, its consumer not created yet."""
    return faust.App("fetch-wait", broker="kafka://127.0.0.1:9092", autodiscover=False)


async def test_faust_hard_codes_a_fetch_wait_of_one_and_a_half_seconds() -> None:
    """faust's own consumer thread builds aiokafka's consumer with fetch_max_wait_ms=1500."""
    assert await fetch_wait(new_app()) == 1500


async def test_the_worker_consumer_waits_briefly_for_new_records() -> None:
    """With the short wait, the consumer thread builds its consumer with FETCH_WAIT_MS."""
    app = new_app()
    fetch.use_short_fetch_wait(app)
    assert isinstance(app.consumer._thread, fetch.ShortWaitConsumerThread)  # type: ignore[attr-defined]
    assert await fetch_wait(app) == fetch.FETCH_WAIT_MS


async def test_the_short_wait_keeps_the_consumer_class_it_is_given() -> None:
    """The seeking consumer stays the base, so its repaired seek still runs."""
    app = new_app()
    use_seeking_consumer(app)
    fetch.use_short_fetch_wait(app)
    assert isinstance(app.consumer, SeekingConsumer)
    await fetch_wait(app)


def test_aiokafka_builds_its_fetcher_with_the_consumer_s_wait() -> None:
    """AIOKafkaConsumer.start hands `_fetch_max_wait_ms` to the Fetcher it creates."""
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)


def test_faust_s_consumer_thread_builds_the_worker_consumer_in_one_method() -> None:
    """faust's thread creates a worker's aiokafka consumer in `_create_worker_consumer`."""
    source = inspect.getsource(AIOKafkaConsumerThread._create_consumer)
    assert "self._create_worker_consumer(transport)" in source
