"""Poison messages mixed into live traffic: dead-lettered with reasons, the rest keeps flowing."""

from __future__ import annotations

import time

import pytest

from dev.fakes.intercom import FakeIntercom
from tests.reliability.conftest import steady_load
from tests.reliability.ledger import key_of
from tests.reliability.load import Load, poisoned
from tests.reliability.pipeline import Pipeline, settle
from tests.reliability.summary import record

SCENARIO = "5 poison in live traffic"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]
EVERY = 40  # one bad input in every 40 notifications, on keys live traffic also uses
STAGES = {"bad_json": "ingress", "handler": "handler", "unknown_user": "writer"}


async def test_poison_messages_are_dead_lettered_with_reasons_and_traffic_keeps_flowing(
    pipe: Pipeline, fake: FakeIntercom, unique: str
) -> None:
    """Bad JSON, a failing handler and a 404 contact: each dead-lettered once; the rest flows."""
    started = time.monotonic()
    pipe.settings = pipe.settings.model_copy(
        update={"handler_plugins": "tests.stream_app.plugins:register"}
    )
    await pipe.start_all()
    base = steady_load(pipe, f"px{unique}")
    load = Load(base.url, poisoned(f"px{unique}", base.postings, EVERY), base.rate, base.seconds)
    bad = [p for p in load.postings if p.poison]
    fake.faults.unknown_users.update(p.contact for p in bad if p.contact)
    await load.run()
    result = await settle(pipe, load)
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        "none (bad inputs only)",
        bad_inputs=len(bad),
        notes=f"dead letters: {len(result.dead_notifications)} notifications,"
        f" {len(result.dead_commands)} commands",
    )
    assert load.statuses() == {200: len(load.postings)}, load.statuses()
    assert result.lost == 0, result.brief()
    assert result.sent_twice == {}, result.brief()
    expected = {key_of(p): STAGES[p.poison] for p in bad if p.poison != "unknown_user"}
    stages = {k: reason.split(":")[0] for k, reason in result.dead_notifications.items()}
    assert stages == expected, set(stages.items()) ^ set(expected.items())
    commands = {p.command_id: "writer" for p in bad if p.poison == "unknown_user"}
    assert {k: r.split(":")[0] for k, r in result.dead_commands.items()} == commands
    reasons = [*result.dead_notifications.values(), *result.dead_commands.values()]
    assert all(reason.split(":", 1)[1].strip() for reason in reasons), reasons
    assert not set(commands) & set(fake.accepted()), "a command for an unknown contact accepted"
