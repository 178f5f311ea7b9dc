"""Integration tests of the webhook endpoint writing to the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient

from ingress.app import WEBHOOK_PATH, Seams
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from schemas import DeadLetter, headers
from tests.conftest import TEST_SECRET
from tests.ingress.serving import client_of, started
from tests.support.kafka import consume

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(kafka_settings: Settings, tmp_path: Path) -> AsyncIterator[TestClient]:
    """An HTTP client for the ingress, which writes to this test's topics."""
    settings = kafka_settings.model_copy(update={"ingress_instance_id": "ingress-kafka-test"})
    async with started(settings, Seams(spool_dir=tmp_path / "spool")) as ingress:
        test_client = await client_of(ingress)
        yield test_client
        await test_client.close()


async def post(client: TestClient, body: bytes, signature: str | None) -> tuple[int, dict]:
    """POST a body with an optional signature and return status and JSON answer."""
    extra = {"X-Hub-Signature": signature} if signature else {}
    response = await client.post(
        WEBHOOK_PATH, data=body, headers={"Content-Type": "application/json", **extra}
    )
    return response.status, await response.json()


async def test_signed_notification_lands_byte_identical_with_key_and_headers(
    client: TestClient, kafka_settings: Settings
) -> None:
    """The record's value is the exact body, keyed by data.item.id, with the ingress headers."""
    body = samples.notification_bytes(notification_id="notif_kafka_1")
    signature = sign(body, TEST_SECRET.encode())
    assert await post(client, body, signature) == (200, {"status": "accepted"})
    [record] = await consume(
        kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_notifications, 1
    )
    assert record.value == body
    assert record.key == b"215470312"
    got = dict(record.headers)
    assert got[headers.INTERCOM_TOPIC] == b"conversation.user.created"
    assert got[headers.NOTIFICATION_ID] == b"notif_kafka_1"
    assert got[headers.SIGNATURE] == signature.encode()
    assert int(got[headers.RECEIVED_AT_MS]) > 1_700_000_000_000
    assert got[headers.INGRESS_INSTANCE] == b"ingress-kafka-test"


async def test_ping_is_recorded_on_the_topic(client: TestClient, kafka_settings: Settings) -> None:
    """Intercom's ping (id null) answers 200 and is written keyed "ping"."""
    body = orjson.dumps(
        {"type": "notification_event", "id": None, "topic": "ping", "created_at": 1763700000,
         "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "hi"}}}
    )  # fmt: skip
    assert await post(client, body, sign(body, TEST_SECRET.encode())) == (
        200,
        {"status": "accepted"},
    )
    [record] = await consume(
        kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_notifications, 1
    )
    assert (record.key, record.value) == (b"ping", body)


async def test_unsigned_and_forged_requests_get_401(client: TestClient) -> None:
    """No signature, or one made with another secret, is refused with a JSON error."""
    body = samples.notification_bytes()
    status, answer = await post(client, body, None)
    assert status == 401
    assert answer["error"]["code"] == "invalid_signature"
    status, _ = await post(client, body, sign(body, b"attacker"))
    assert status == 401


async def test_signed_non_envelope_is_dead_lettered_and_acknowledged(
    client: TestClient, kafka_settings: Settings
) -> None:
    """A signed body that is not an envelope answers 200 and lands on the dead-letter topic."""
    body = orjson.dumps({"hello": "world"})
    assert await post(client, body, sign(body, TEST_SECRET.encode())) == (
        200,
        {"status": "dead-lettered"},
    )
    [record] = await consume(
        kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_dead_letter, 1
    )
    letter = DeadLetter.model_validate_json(record.value)
    assert letter.stage == "ingress"
    assert letter.payload == body
