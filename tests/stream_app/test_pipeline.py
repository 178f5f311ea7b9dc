"""Unit tests of the pipeline: verify, parse, dedup, route, retry, publish, dead-letter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.exceptions import PartitionsMismatch

from intercom_stream.errors import InfrastructureError, PoisonMessageError
from schemas import DeadLetter, Notification, RecordHeader
from schemas.events import ConversationEvent
from schemas.projections import ConversationState
from stream_app import pipeline as pipeline_module
from stream_app.dedup import Deduplicator
from stream_app.errors import (
    DeadLetterWriteError,
    HostFailureError,
    KafkaFailureError,
    TopicsNotReadyError,
)
from stream_app.metrics import WorkerMetrics
from stream_app.outputs import ConversationUpdate, Emit, Output
from stream_app.pipeline import Pipeline, RetryPolicy
from stream_app.router import HandlerContext, Router
from stream_app.source import Source
from tests.stream_app import factories
from tests.stream_app.factories import Destinations, RecordingLog

NOW = 1_763_700_100.0
TOPIC = "conversation.user.created"


class ScriptedHandler:
    """A handler that raises the scripted errors, one per call, then returns its outputs."""

    def __init__(self, outputs: Sequence[Output] = (), errors: Sequence[Exception] = ()) -> None:
        """Keep the outputs and the errors to raise first."""
        self.outputs = list(outputs)
        self.errors = list(errors)
        self.calls: list[tuple[Notification, HandlerContext]] = []

    async def __call__(self, n: Notification, ctx: HandlerContext) -> Sequence[Output]:
        """Record the call, then raise the next scripted error or return the outputs."""
        self.calls.append((n, ctx))
        if self.errors:
            raise self.errors.pop(0)
        return self.outputs


class DeadLetters:
    """Records every dead letter sent, or fails every send when told to."""

    def __init__(self, error: Exception | None = None) -> None:
        """Start with none sent; raise `error` on every send if given."""
        self.error = error
        self.sent: list[tuple[bytes | None, bytes]] = []

    async def __call__(self, key: bytes | None, value: bytes, headers: Any = ()) -> None:
        """Record the dead letter, or raise."""
        if self.error is not None:
            raise self.error
        self.sent.append((key, value))

    def letters(self) -> list[DeadLetter]:
        """Return the dead letters sent, parsed."""
        return [DeadLetter.model_validate_json(value) for _, value in self.sent]


class Harness:
    """A pipeline over fakes, with everything a test needs to look at."""

    def __init__(self, resolved: bool = True, dead_letter_error: Exception | None = None) -> None:
        """Build the router, sink, dead letters, metrics, retry policy and deduplicator."""
        self.router = Router()
        self.out = Destinations(resolved)
        self.dead_letters = DeadLetters(dead_letter_error)
        self.metrics = WorkerMetrics()
        self.sleeps: list[float] = []
        self.table: dict[str, Any] = {}
        self.dedup = Deduplicator(self.table, ttl_seconds=3600, clock=lambda: NOW)
        self.pipeline = Pipeline(
            router=self.router,
            sink=self.out.sink,
            send_dead_letter=self.dead_letters,
            metrics=self.metrics,
            secrets=(factories.SECRET,),
            retry=RetryPolicy(max_attempts=3, backoff_seconds=0.2, sleep=self.sleep),
            clock=lambda: NOW,
        )

    async def sleep(self, seconds: float) -> None:
        """Record a backoff instead of waiting."""
        self.sleeps.append(seconds)

    def route(self, pattern: str, handler: ScriptedHandler) -> ScriptedHandler:
        """Register the handler for the topic pattern and return it."""
        self.router.on(pattern)(handler)
        return handler

    async def handle(self, source: Source) -> None:
        """Handle one record with the harness's deduplicator."""
        await self.pipeline.handle(source, self.dedup)

    def metric(self, name: str, **labels: str) -> float | None:
        """Return the value of a sample in the worker's registry."""
        return self.metrics.registry.get_sample_value(name, labels)


def conversation_outputs() -> list[Output]:
    """Return an event and a projection change, as a conversation handler would."""
    event = ConversationEvent(
        event_id="e1",
        kind=TOPIC,
        source_topic=TOPIC,
        notification_id=factories.NOTIFICATION_ID,
        app_id="abc123de",
        occurred_at=factories.UPDATED_AT,
        conversation_id=factories.CONVERSATION_ID,
        state="open",
    )
    state = ConversationState(
        id=factories.CONVERSATION_ID, state="open", version=factories.UPDATED_AT, last_topic=TOPIC
    )
    return [Emit("conversations", factories.CONVERSATION_ID, event), ConversationUpdate(state)]


def good_record(**kwargs: Any) -> Source:
    """Return a signed record of a conversation notification."""
    return factories.record(factories.envelope(TOPIC), **kwargs)


@pytest.fixture
def harness() -> Harness:
    """A pipeline whose sends are acknowledged at once."""
    return Harness()


async def test_a_good_record_is_handled_published_and_marked(harness: Harness) -> None:
    """A signed notification reaches its handler; its outputs are published and its id marked."""
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    source = good_record()
    await harness.handle(source)
    [(n, ctx)] = handler.calls
    assert n.id == factories.NOTIFICATION_ID
    assert ctx == HandlerContext(TOPIC, source.key, source.partition, source.offset)
    assert harness.out.conversation_events.keys() == [factories.CONVERSATION_ID.encode()]
    assert harness.out.conversations[factories.CONVERSATION_ID]["version"] == factories.UPDATED_AT
    assert harness.table == {factories.NOTIFICATION_ID: int(NOW * 1000)}
    assert harness.dead_letters.sent == []
    assert (
        harness.metric("intercom_stream_notifications_handled_total", topic=TOPIC, lane="live") == 1
    )


async def test_the_id_is_marked_only_after_the_outputs_are_acknowledged() -> None:
    """Until the sends are acknowledged the id is pending: seen, but not in the table."""
    harness = Harness(resolved=False)
    harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    await harness.handle(good_record())
    assert harness.dedup.pending == 1
    assert harness.dedup.seen(factories.NOTIFICATION_ID)
    assert harness.table == {}
    for future in harness.out.conversation_events.futures:
        future.set_result(None)
    await harness.handle(factories.record(b"not json"))
    assert harness.table == {factories.NOTIFICATION_ID: int(NOW * 1000)}
    assert harness.dedup.pending == 0


async def test_a_legacy_topic_is_routed_by_its_2x_name(harness: Harness) -> None:
    """Handlers are looked up, and see the context topic, under the canonical 2.x name."""
    handler = harness.route("contact.lead.created", ScriptedHandler())
    body = factories.envelope("contact.created", factories.contact_item(role="lead"))
    await harness.handle(factories.record(body))
    [(n, ctx)] = handler.calls
    assert (n.topic, ctx.topic) == ("contact.created", "contact.lead.created")


async def test_a_duplicate_is_skipped_and_counted(harness: Harness) -> None:
    """A redelivered notification reaches no handler and counts as a duplicate of its topic."""
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    await harness.handle(good_record(offset=7))
    await harness.handle(good_record(offset=8))
    assert len(handler.calls) == 1
    assert len(harness.out.conversation_events.sent) == 1
    assert (
        harness.metric("intercom_stream_notifications_duplicate_total", topic=TOPIC, lane="live")
        == 1
    )
    assert harness.dead_letters.sent == []


async def test_a_duplicate_of_a_pending_notification_is_skipped() -> None:
    """A redelivery arriving while the first delivery's acks are outstanding is a duplicate."""
    harness = Harness(resolved=False)
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    await harness.handle(good_record(offset=7))
    await harness.handle(good_record(offset=8))
    assert len(handler.calls) == 1
    assert (
        harness.metric("intercom_stream_notifications_duplicate_total", topic=TOPIC, lane="live")
        == 1
    )


async def test_a_replay_bypasses_dedup(harness: Harness) -> None:
    """A record with the `replay: true` header is handled even though its id is marked."""
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    await harness.handle(good_record())
    await harness.handle(good_record(extra_headers=(("replay", b"true"),)))
    assert len(handler.calls) == 2
    assert len(harness.out.conversation_events.sent) == 2
    assert (
        harness.metric("intercom_stream_notifications_duplicate_total", topic=TOPIC, lane="live")
        is None
    )


async def test_a_replay_header_other_than_true_does_not_bypass_dedup(harness: Harness) -> None:
    """Only the exact value `true` marks a replay."""
    handler = harness.route("conversation.*", ScriptedHandler())
    await harness.handle(good_record())
    await harness.handle(good_record(extra_headers=(("replay", b"false"),)))
    assert len(handler.calls) == 1


async def test_a_notification_without_an_id_is_never_a_duplicate(harness: Harness) -> None:
    """Pings (`id: null`) cannot be deduplicated, so each is handled and none is tracked."""
    handler = harness.route("ping", ScriptedHandler())
    body = factories.envelope("ping", {"type": "ping", "message": "hi"}, notification_id=None)
    await harness.handle(factories.record(body))
    await harness.handle(factories.record(body))
    assert len(handler.calls) == 2
    assert harness.table == {}
    assert harness.dedup.pending == 0


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "exactly one"), (b"wrong-secret", "does not match")],
    ids=["missing", "wrong"],
)
async def test_a_bad_signature_is_dead_lettered_at_verify(
    harness: Harness, secret: bytes | None, message: str
) -> None:
    """A record without a valid signature is dead-lettered at stage verify and not handled."""
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    await harness.handle(good_record(secret=secret))
    assert handler.calls == []
    [letter] = harness.dead_letters.letters()
    assert letter.stage == "verify"
    assert letter.error_type == "SignatureError"
    assert message in letter.error_message
    assert harness.metric("intercom_stream_dead_letters_total", stage="verify", lane="live") == 1
    assert harness.table == {}


async def test_a_signature_over_other_bytes_does_not_verify(harness: Harness) -> None:
    """The signature covers the exact raw bytes: re-serialised JSON does not verify."""
    source = good_record()
    spaced = Source(
        topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        key=source.key,
        value=source.value + b" ",
        headers=source.headers,
    )
    await harness.handle(spaced)
    assert [letter.stage for letter in harness.dead_letters.letters()] == ["verify"]


async def test_without_secrets_signatures_are_not_checked(harness: Harness) -> None:
    """A pipeline configured without re-verification handles unsigned records."""
    handler = harness.route("conversation.*", ScriptedHandler())
    pipeline = Pipeline(
        router=harness.router,
        sink=harness.out.sink,
        send_dead_letter=harness.dead_letters,
        metrics=harness.metrics,
        secrets=None,
    )
    await pipeline.handle(good_record(secret=None), harness.dedup)
    assert len(handler.calls) == 1
    assert harness.dead_letters.sent == []


@pytest.mark.parametrize(
    "value",
    [b"not json", b"[1, 2]", b'{"type": "notification_event", "topic": "x"}', b""],
    ids=["not-json", "array", "not-an-envelope", "empty"],
)
async def test_a_record_that_is_not_an_envelope_is_dead_lettered_at_parse(
    harness: Harness, value: bytes
) -> None:
    """A verified record that is not a notification envelope is dead-lettered at stage parse."""
    await harness.handle(factories.record(value))
    [letter] = harness.dead_letters.letters()
    assert letter.stage == "parse"
    assert letter.error_type == "ValidationError"
    assert letter.payload == value
    assert harness.metric("intercom_stream_dead_letters_total", stage="parse", lane="live") == 1


async def test_a_handler_failing_twice_then_succeeding_is_retried(harness: Harness) -> None:
    """Transient failures are retried with exponential backoff; outputs are published once."""
    failures = [RuntimeError("first"), RuntimeError("second")]
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs(), failures))
    await harness.handle(good_record())
    assert len(handler.calls) == 3
    assert harness.sleeps == [0.2, 0.4]
    assert len(harness.out.conversation_events.sent) == 1
    assert harness.dead_letters.sent == []
    assert harness.metric("intercom_stream_handler_retries_total", topic=TOPIC, lane="live") == 2
    assert list(harness.table) == [factories.NOTIFICATION_ID]


async def test_a_retry_runs_every_handler_again_but_publishes_one_set(harness: Harness) -> None:
    """When one of two handlers fails, the retry reruns both and only the last outputs count."""
    steady = harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    harness.route("conversation.user.*", ScriptedHandler(errors=[RuntimeError("once")]))
    await harness.handle(good_record())
    assert len(steady.calls) == 2
    assert len(harness.out.conversation_events.sent) == 1


async def test_a_handler_that_always_fails_is_dead_lettered_after_max_attempts(
    harness: Harness,
) -> None:
    """After the last attempt the record is dead-lettered at stage handler, with the attempts."""
    errors = [RuntimeError("still broken")] * 5
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs(), errors))
    source = good_record()
    await harness.handle(source)
    assert len(handler.calls) == 3
    assert harness.sleeps == [0.2, 0.4]
    assert harness.out.conversation_events.sent == []
    assert harness.out.conversations == {}
    [(key, _)] = harness.dead_letters.sent
    [letter] = harness.dead_letters.letters()
    assert key == source.key
    assert letter.stage == "handler"
    assert letter.reason == f"handler failed for {TOPIC}"
    assert letter.attempts == 3
    assert (letter.error_type, letter.error_message) == ("RuntimeError", "still broken")
    assert letter.traceback is not None
    assert "RuntimeError: still broken" in letter.traceback
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        source.topic,
        source.partition,
        source.offset,
    )
    assert letter.source_key == source.key
    assert letter.headers == tuple(RecordHeader(key=k, value=v) for k, v in source.headers)
    assert letter.payload == source.value
    assert letter.received_at_ms == source.timestamp_ms
    assert letter.failed_at_ms == int(NOW * 1000)
    assert harness.metric("intercom_stream_dead_letters_total", stage="handler", lane="live") == 1
    assert harness.table == {}
    assert not harness.dedup.seen(factories.NOTIFICATION_ID)


async def test_a_poison_message_is_dead_lettered_at_once(harness: Harness) -> None:
    """PoisonMessageError is not retried: one attempt, no backoff, straight to the dead letters."""
    errors = [PoisonMessageError("cannot ever work")]
    handler = harness.route("conversation.*", ScriptedHandler(conversation_outputs(), errors))
    await harness.handle(good_record())
    assert len(handler.calls) == 1
    assert harness.sleeps == []
    [letter] = harness.dead_letters.letters()
    assert (letter.stage, letter.attempts, letter.error_type) == (
        "handler",
        1,
        "PoisonMessageError",
    )
    assert harness.metric("intercom_stream_handler_retries_total", topic=TOPIC, lane="live") is None


async def test_an_unknown_topic_is_counted_and_logged_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A topic without handlers is counted each time, logged the first time, never dead-lettered."""
    log = RecordingLog()
    monkeypatch.setattr(pipeline_module, "log", log)
    first = factories.envelope("article.created", {"type": "article", "id": "a1"})
    second = factories.envelope("article.created", {"type": "article", "id": "a1"}, "notif_0002")
    await harness.handle(factories.record(first))
    await harness.handle(factories.record(second))
    assert (
        harness.metric("intercom_stream_notifications_unhandled_total", topic="article.created")
        == 2
    )
    assert log.events("topic.unhandled") == [{"topic": "article.created"}]
    assert harness.dead_letters.sent == []
    assert list(harness.table) == [factories.NOTIFICATION_ID, "notif_0002"]


async def test_a_failing_dead_letter_write_propagates() -> None:
    """When the dead-letter topic refuses a write, handle raises so the worker stops."""
    harness = Harness(dead_letter_error=ConnectionError("broker gone"))
    with pytest.raises(DeadLetterWriteError, match="broker gone"):
        await harness.handle(good_record(secret=None))


async def test_a_failing_dead_letter_write_after_a_handler_failure_propagates() -> None:
    """A handler failure whose dead letter cannot be written also stops the worker."""
    harness = Harness(dead_letter_error=ConnectionError("broker gone"))
    harness.route("conversation.*", ScriptedHandler(errors=[PoisonMessageError("bad")]))
    with pytest.raises(DeadLetterWriteError):
        await harness.handle(good_record())


async def test_an_unexpected_sink_error_is_dead_lettered_not_raised(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error outside the handlers (here in the sink) is dead-lettered and handle returns."""
    harness.out.conversation_events.error = RuntimeError("producer closed")
    log = RecordingLog()
    monkeypatch.setattr(pipeline_module, "log", log)
    harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    source = good_record()
    await harness.handle(source)
    [letter] = harness.dead_letters.letters()
    assert (letter.stage, letter.attempts) == ("handler", 1)
    assert letter.reason == "unexpected error in the pipeline"
    assert (letter.error_type, letter.error_message) == ("RuntimeError", "producer closed")
    assert letter.payload == source.value
    assert harness.table == {}
    assert not harness.dedup.seen(factories.NOTIFICATION_ID)
    assert log.events("pipeline.unexpected_error") == [{"offset": source.offset}]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (
            PartitionsMismatch("the changelog 'x-contacts-changelog' has 0 partitions"),
            TopicsNotReadyError,
        ),
        (KafkaTimeoutError(), KafkaFailureError),
        (ConnectionError("broker gone"), HostFailureError),
        (InfrastructureError("a topic is not there yet"), InfrastructureError),
    ],
    ids=lambda value: type(value).__name__,
)
async def test_a_platform_error_in_the_sink_is_raised_not_dead_lettered(
    harness: Harness, error: Exception, raised: type[Exception]
) -> None:
    """A failure of Kafka or of a table says nothing about the record: it is kept, not lost."""
    harness.out.conversation_events.error = error
    harness.route("conversation.*", ScriptedHandler(conversation_outputs()))
    with pytest.raises(raised):
        await harness.handle(good_record())
    assert harness.dead_letters.sent == []
    assert not harness.dedup.seen(factories.NOTIFICATION_ID)


async def test_a_platform_error_in_a_handler_is_raised_at_once(harness: Harness) -> None:
    """A handler that hits the platform is not retried into a dead letter."""
    handler = ScriptedHandler(errors=[PartitionsMismatch("0 partitions")] * 3)
    harness.route("conversation.*", handler)
    with pytest.raises(TopicsNotReadyError):
        await harness.handle(good_record())
    assert len(handler.calls) == 1
    assert harness.dead_letters.sent == []
