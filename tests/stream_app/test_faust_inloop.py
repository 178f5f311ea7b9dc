"""The consumer on the worker's loop (stream_app.faust.inloop) and the internals it relies on."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import faust
import pytest
from faust.transport.consumer import ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP
from mode.threads import ServiceThread

from intercom_stream.settings import Settings
from stream_app.faust import fetch
from stream_app.faust.inloop import InLoop, run_consumer_in_loop


def in_loop_app(bootstrap_servers: str, name: str) -> faust.App:
    """Return an app whose consumer has the short wait, then runs in-loop, as the worker's."""
    app = faust.App(name, broker=f"kafka://{bootstrap_servers}", autodiscover=False)
    fetch.use_short_fetch_wait(app)
    run_consumer_in_loop(app)
    return app


async def test_the_consumer_thread_class_keeps_the_short_wait_and_runs_in_loop() -> None:
    """The in-loop class is built over the class the consumer had, so both changes apply."""
    thread: Any = in_loop_app("127.0.0.1:9092", "inloop-class").consumer._thread  # type: ignore[attr-defined]
    assert isinstance(thread, InLoop)
    assert isinstance(thread, fetch.ShortWaitConsumerThread)
    assert thread.thread_loop is thread.parent_loop is asyncio.get_running_loop()


@pytest.mark.integration
async def test_the_consumer_starts_serves_and_stops_on_the_running_loop_without_a_thread(
    kafka_settings: Settings, unique: str
) -> None:
    """No thread is started; calls run on this loop; stopping leaves other tasks running."""
    app = in_loop_app(kafka_settings.kafka_bootstrap_servers, f"inloop-{unique}")
    thread: Any = app.consumer._thread  # type: ignore[attr-defined]
    before = set(threading.enumerate())
    bystander = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.wait_for(thread.start(), timeout=30)
    try:
        assert set(threading.enumerate()) == before
        kafka = thread._ensure_consumer()
        assert kafka._fetch_max_wait_ms == fetch.FETCH_WAIT_MS
        tp = TP(kafka_settings.topic_notifications, 0)
        assert await asyncio.wait_for(thread.highwaters(tp), timeout=30) == {tp: 0}
    finally:
        await asyncio.wait_for(thread.stop(), timeout=30)
    assert kafka._closed
    assert not bystander.done(), "stopping the consumer cancelled a task that was not its own"
    bystander.cancel()


def test_faust_creates_its_consumer_thread_in_one_method() -> None:
    """ThreadDelegateConsumer builds its thread by `_new_consumer_thread`, which fetch.py sets."""
    assert "self._new_consumer_thread()" in inspect.getsource(ThreadDelegateConsumer.__init__)


def test_mode_runs_a_service_thread_on_the_thread_loop_it_is_given() -> None:
    """ServiceThread takes `thread_loop` and makes it the service's own loop."""
    source = inspect.getsource(ServiceThread.__init__)
    assert "thread_loop or asyncio.new_event_loop()" in source
    assert "super().__init__(loop=self.thread_loop" in source


def test_mode_s_start_and_serve_hand_over_by_the_running_future() -> None:
    """`start` waits on `_thread_running`, which `_serve` resolves once started up."""
    start, serve = inspect.getsource(ServiceThread.start), inspect.getsource(ServiceThread._serve)
    assert "self._thread_started.set()" in start
    assert "await self._thread_running" in start
    assert "notify, self._thread_running" in serve


def test_mode_s_serve_ends_by_cancelling_every_task_of_the_thread_loop() -> None:
    """Which is why the in-loop class makes `_gather_remaining_tasks` do nothing."""
    assert "await self._gather_remaining_tasks()" in inspect.getsource(ServiceThread._serve)
    gather = inspect.getsource(ServiceThread._gather_remaining_tasks)
    assert "all_tasks(loop=self.thread_loop)" in gather
    assert "task.cancel()" in gather


def test_faust_builds_aiokafka_s_consumer_on_the_thread_loop() -> None:
    """The consumer and its tasks live on `thread_loop`: here, the worker's loop."""
    source = inspect.getsource(AIOKafkaConsumerThread.on_start)
    assert "self._create_consumer(loop=self.thread_loop)" in source


@pytest.mark.parametrize("method", ["getmany", "commit", "seek_to_committed", "highwaters"])
def test_faust_reaches_aiokafka_s_consumer_through_call_thread(method: str) -> None:
    """Each such call goes through `call_thread`, which the in-loop class makes a plain call."""
    source = inspect.getsource(getattr(AIOKafkaConsumerThread, method))
    assert "await self.call_thread(" in source
