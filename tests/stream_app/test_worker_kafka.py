"""Integration tests of the worker process against the real broker: nothing lost, nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercom_stream import samples
from intercom_stream.settings import Settings
from schemas import DeadLetter
from tests.stream_app.worker_harness import (
    Record,
    commands_until,
    effect_body,
    get_json,
    publish,
    running_worker,
    signed,
)
from tests.support.kafka import collect_until, consume_all

pytestmark = pytest.mark.integration


async def dead_letters(settings: Settings, count: int) -> list[DeadLetter]:
    """Wait for `count` dead letters and return them parsed."""
    records = await collect_until(
        settings.kafka_bootstrap_servers,
        settings.topic_dead_letter,
        lambda recs: len(recs) >= count,
        what=f"{count} dead letters",
    )
    return [DeadLetter.model_validate_json(record.value) for record in records]


async def test_same_notification_three_times_has_one_effect(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """Three deliveries of one notification id produce one command; a later one proves progress."""
    duplicate = signed(effect_body("notif_dup", "conv-1"))
    sentinel = signed(effect_body("notif_after", "conv-1"))
    await publish(kafka_settings, [duplicate, duplicate, duplicate, sentinel])
    async with running_worker(kafka_settings, tmp_path, "w"):
        ids = await commands_until(kafka_settings, lambda ids: "effect-notif_after" in ids)
    assert ids == ["effect-notif_dup", "effect-notif_after"]


async def test_out_of_order_updates_leave_the_newest_state(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """Updates arriving newest-first do not overwrite the projection with older state."""

    def update(notification_id: str, state: str, updated_at: int) -> Record:
        item = samples.conversation_item("conv-ooo", "contact-1", updated_at) | {"state": state}
        topic = "conversation.admin.closed" if state == "closed" else "conversation.admin.opened"
        return signed(
            samples.notification_bytes(topic=topic, item=item, notification_id=notification_id)
        )

    await publish(
        kafka_settings,
        [update("n3", "closed", 300), update("n1", "open", 100), update("n2", "snoozed", 200)],
    )
    await publish(kafka_settings, [signed(effect_body("notif_sentinel", "conv-ooo"))])
    async with running_worker(kafka_settings, tmp_path, "w") as worker:
        await commands_until(kafka_settings, lambda ids: "effect-notif_sentinel" in ids)
        status, state = await get_json(worker.settings.worker_web_port, "/conversations/conv-ooo")
    assert status == 200
    assert (state["state"], state["version"], state["last_notification_id"]) == (
        "closed",
        300,
        "n3",
    )


async def test_handler_failing_twice_then_succeeding_has_one_effect_and_no_dead_letter(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """A transient handler failure is retried in place: one command, nothing dead-lettered."""
    await publish(
        kafka_settings,
        [
            signed(effect_body("notif_flaky", "c-9", "test.flaky")),
            signed(effect_body("n_end", "c-9")),
        ],
    )
    async with running_worker(kafka_settings, tmp_path, "w"):
        ids = await commands_until(kafka_settings, lambda ids: "effect-n_end" in ids)
    assert ids == ["flaky-notif_flaky", "effect-n_end"]
    assert (
        await consume_all(kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_dead_letter)
        == []
    )


async def test_poison_messages_are_dead_lettered_and_the_partition_moves_on(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """Garbage, a forged record and an always-failing handler go to dead letters; the next runs."""
    garbage = b"{not json"
    forged_body = effect_body("notif_forged", "c-7")
    await publish(
        kafka_settings,
        [
            signed(garbage, key=b"c-7"),
            (b"c-7", forged_body, []),
            signed(effect_body("notif_poison", "c-7", "test.poison")),
            signed(effect_body("notif_next", "c-7")),
        ],
    )
    async with running_worker(kafka_settings, tmp_path, "w"):
        ids = await commands_until(kafka_settings, lambda ids: "effect-notif_next" in ids)
        letters = await dead_letters(kafka_settings, 3)
    assert ids == ["effect-notif_next"]
    assert [(d.stage, d.attempts) for d in letters] == [("parse", 1), ("verify", 1), ("handler", 3)]
    assert [d.payload for d in letters[:2]] == [garbage, forged_body]
    assert letters[2].error_type == "ValueError"
    assert {d.source_partition for d in letters} == {letters[0].source_partition}
    assert [d.source_offset for d in letters] == [0, 1, 2]


async def test_replay_header_bypasses_dedup(kafka_settings: Settings, tmp_path: Path) -> None:
    """A record marked `replay: true` is processed again on purpose."""
    body = effect_body("notif_replayed", "c-5")
    await publish(kafka_settings, [signed(body), signed(body, replay=True)])
    async with running_worker(kafka_settings, tmp_path, "w"):
        ids = await commands_until(kafka_settings, lambda ids: len(ids) >= 2)
    assert ids == ["effect-notif_replayed", "effect-notif_replayed"]
