"""The in-flight window: per-contact order, concurrency across contacts, acks in offset order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from stream_app.writer.inflight import Inflight
from stream_app.writer.wire import checkpoint, on_the_wire


def never(error: BaseException) -> None:
    """Fail the test: no job may fail here."""
    raise AssertionError(f"unexpected fatal job error: {error!r}")


class Recorder:
    """Jobs that finish when the test releases them, recording starts and acks."""

    def __init__(self) -> None:
        """Start with nothing released."""
        self.started: list[str] = []
        self.acked: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def job(self, name: str) -> Callable[[], Awaitable[None]]:
        """Return a job that records its start and waits for its release."""
        self.gates[name] = asyncio.Event()

        async def run() -> None:
            self.started.append(name)
            await self.gates[name].wait()

        return run

    def ack(self, name: str) -> Callable[[], None]:
        """Return an ack callback recording the name."""
        return lambda: self.acked.append(name)

    async def release(self, name: str) -> None:
        """Let the named job finish and give callbacks a turn."""
        self.gates[name].set()
        for _ in range(5):
            await asyncio.sleep(0)


async def submit(
    window: Inflight, rec: Recorder, name: str, contact: str, partition: int = 0
) -> None:
    """Submit a recorded job."""
    await window.submit(partition, contact, rec.ack(name), rec.job(name))


async def settle() -> None:
    """Give started tasks a few turns of the loop."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_same_contact_waits_other_contacts_proceed() -> None:
    """A slow command delays later ones of its contact, not other contacts."""
    rec, window = Recorder(), Inflight(10, on_fatal=never)
    await submit(window, rec, "a1", "a")
    await submit(window, rec, "b1", "b")
    await submit(window, rec, "a2", "a")
    await settle()
    assert rec.started == ["a1", "b1"]
    await rec.release("a1")
    assert rec.started == ["a1", "b1", "a2"]
    await window.close()


async def test_acks_follow_offset_order_even_when_jobs_finish_out_of_order() -> None:
    """A finished record is acked only once every earlier record of its partition is."""
    rec, window = Recorder(), Inflight(10, on_fatal=never)
    for name, contact in [("o0", "a"), ("o1", "b"), ("o2", "c")]:
        await submit(window, rec, name, contact)
    await settle()
    await rec.release("o2")
    await rec.release("o1")
    assert rec.acked == []
    await rec.release("o0")
    assert rec.acked == ["o0", "o1", "o2"]
    assert len(window) == 0


async def test_partitions_ack_independently() -> None:
    """A stuck record holds back its own partition only."""
    rec, window = Recorder(), Inflight(10, on_fatal=never)
    await submit(window, rec, "p0", "a", partition=0)
    await submit(window, rec, "p1", "b", partition=1)
    await settle()
    await rec.release("p1")
    assert rec.acked == ["p1"]
    await window.close()


async def test_a_full_window_makes_the_consumer_wait() -> None:
    """With `limit` records unacknowledged, submit waits until the head is acked."""
    rec, window = Recorder(), Inflight(2, on_fatal=never)
    await submit(window, rec, "o0", "a")
    await submit(window, rec, "o1", "b")
    third = asyncio.create_task(submit(window, rec, "o2", "c"))
    await settle()
    assert not third.done()
    await rec.release("o0")
    await asyncio.wait_for(third, 1)
    await window.close()


async def test_a_failed_job_is_fatal_and_never_acked() -> None:
    """A job that raises reaches on_fatal; neither it nor later records are acked."""
    fatal: list[BaseException] = []
    rec, window = Recorder(), Inflight(10, on_fatal=fatal.append)

    async def boom() -> None:
        raise RuntimeError("dead-letter write failed")

    await window.submit(0, "a", rec.ack("bad"), boom)
    await submit(window, rec, "next", "b")
    await settle()
    await rec.release("next")
    assert [type(e) for e in fatal] == [RuntimeError]
    assert rec.acked == []
    await window.close()


async def test_drop_all_forgets_records_without_acking() -> None:
    """On revocation every job is cancelled and nothing is acked."""
    rec, window = Recorder(), Inflight(10, on_fatal=never)
    await submit(window, rec, "o0", "a")
    await submit(window, rec, "o1", "a")
    assert window.drop_all() == 2
    await settle()
    assert rec.acked == []
    assert len(window) == 0


async def test_drop_all_lets_go_of_each_dropped_record() -> None:
    """Each dropped record's `forget` runs once (faust must stop waiting for it), none is acked."""
    rec, window, forgotten = Recorder(), Inflight(10, on_fatal=never), []

    def forget(name: str) -> Callable[[], None]:
        return lambda: forgotten.append(name)

    for name in ("o0", "o1"):
        await window.submit(0, "a", rec.ack(name), rec.job(name), forget(name))
    window.drop_all()
    await settle()
    assert (forgotten, rec.acked) == (["o0", "o1"], [])
    await window.close()
    assert forgotten == ["o0", "o1"]


async def test_a_dropped_job_finishes_the_call_on_the_wire_then_makes_no_other() -> None:
    """Dropping a job mid-call lets Intercom's answer reach the ledger; its next call never goes."""
    window, gate, outcomes = Inflight(10, on_fatal=never), asyncio.Event(), []

    async def two_calls() -> None:
        for call in ("first", "second"):
            checkpoint()  # as Sender._call does before each call
            with on_the_wire():
                await gate.wait()
            outcomes.append(call)  # the answer recorded (the ledger, in the processor)

    await window.submit(0, "a", lambda: outcomes.append("acked"), two_calls)
    await settle()
    assert window.drop_all() == 1
    gate.set()
    await window.close()
    assert outcomes == ["first"]


async def test_a_dropped_job_not_on_the_wire_is_cancelled_at_once() -> None:
    """A job waiting for its turn (budget, backoff, its contact) is cancelled right away."""
    rec, window = Recorder(), Inflight(10, on_fatal=never)
    await submit(window, rec, "waiting", "a")
    await settle()
    window.drop_all()
    await settle()
    assert window._finishing == set()  # ended (cancelled) although its gate never opened
    assert (rec.started, rec.acked) == (["waiting"], [])
