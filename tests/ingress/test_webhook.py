"""The webhook endpoint through the real aiohttp app, with a fake producer."""

from __future__ import annotations

import errno

import orjson
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ingress.app import WEBHOOK_PATH, Seams
from intercom_stream import samples
from intercom_stream.signature import sign
from schemas import DeadLetter, headers
from tests.conftest import TEST_SECRET
from tests.fakes.producer import FakeProducers
from tests.ingress.conftest import JSON, MakeClient, post, signed

PING = orjson.dumps(
    {
        "type": "notification_event", "id": None, "topic": "ping", "app_id": "abc123de",
        "created_at": 1763700000, "data": {"type": "notification_event_data", "item": {
            "type": "ping", "message": "This is a ping notification test message."}},
    }
)  # fmt: skip


async def test_notification_is_acknowledged_after_the_producer_acknowledged(
    client: TestClient, producers: FakeProducers
) -> None:
    """A signed notification answers 200 once its record, byte-identical, was acknowledged."""
    body = samples.notification_bytes(notification_id="notif_1")
    assert await post(client, body, signed(body)) == (200, {"status": "accepted"})
    [sent] = producers.broker.acknowledged
    assert (sent.value, sent.key) == (body, b"215470312")
    got = dict(sent.headers)
    assert got[headers.NOTIFICATION_ID] == b"notif_1"
    assert got[headers.INGRESS_INSTANCE] == b"ingress-test"
    assert got[headers.SIGNATURE] == signed(body)["X-Hub-Signature"].encode()


async def test_head_answers_200(client: TestClient) -> None:
    """Intercom's URL validation (HEAD) answers 200."""
    async with client.head(WEBHOOK_PATH) as response:
        assert response.status == 200


async def test_ping_is_recorded_under_the_ping_key(
    client: TestClient, producers: FakeProducers
) -> None:
    """A ping (id null) answers 200 and is written keyed "ping" with an empty notification id."""
    assert await post(client, PING, signed(PING)) == (200, {"status": "accepted"})
    [sent] = producers.broker.acknowledged
    assert sent.key == b"ping"
    assert dict(sent.headers)[headers.NOTIFICATION_ID] == b""


@pytest.mark.parametrize(
    "body", [b"not json", b"[1,2]", b'{"hello":"world"}', b'{"type":"notification_event"}']
)
async def test_signed_non_envelope_is_dead_lettered(
    client: TestClient, producers: FakeProducers, body: bytes
) -> None:
    """A signed body that is not an envelope answers 200 and is dead-lettered, stage ingress."""
    assert await post(client, body, signed(body)) == (200, {"status": "dead-lettered"})
    [sent] = producers.broker.acknowledged
    letter = DeadLetter.model_validate_json(sent.value)
    assert sent.topic.endswith("dead-letter")
    assert (letter.stage, letter.payload) == ("ingress", body)
    assert letter.reason
    async with client.get("/metrics") as response:
        assert 'ingress_notifications_total{outcome="dead_lettered"} 1.0' in await response.text()


async def test_unsigned_request_gets_a_json_401(client: TestClient) -> None:
    """No signature is a 401 with a JSON error and a request id."""
    body = samples.notification_bytes()
    async with client.post(WEBHOOK_PATH, data=body, headers=JSON) as response:
        assert response.status == 401
        answer = await response.json()
        assert answer["error"]["code"] == "invalid_signature"
        assert answer["request_id"] == response.headers["X-Request-Id"]


async def test_wrong_content_type_gets_415(client: TestClient) -> None:
    """A body not declared as JSON is refused with 415 and a JSON error."""
    body = samples.notification_bytes()
    status, answer = await post(client, body, {**signed(body), "Content-Type": "text/plain"})
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")


async def test_body_over_the_limit_gets_413(make_client: MakeClient) -> None:
    """A declared length over the limit is refused with 413 before the body is read."""
    client = await make_client(ingress_max_body_bytes=2048)
    body = b"x" * 2049
    status, answer = await post(client, body, signed(body))
    assert (status, answer["error"]["code"]) == (413, "request_entity_too_large")


async def test_chunked_body_over_the_limit_gets_413(make_client: MakeClient) -> None:
    """A chunked body (no declared length) is cut off with 413 once it passes the limit."""
    client = await make_client(ingress_max_body_bytes=2048)

    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    async with client.post(WEBHOOK_PATH, data=chunks(), headers=JSON) as response:
        assert response.status == 413


async def test_notification_is_spooled_and_answered_while_kafka_is_down(
    make_client: MakeClient, producers: FakeProducers
) -> None:
    """With no broker the notification is spooled, answered 200, and readiness is degraded."""
    producers.broker.up = False
    client = await make_client()
    body = samples.notification_bytes()
    assert await post(client, body, signed(body)) == (200, {"status": "accepted"})
    async with client.get("/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "degraded"
    async with client.get("/metrics") as response:
        assert "ingress_spool_depth 1.0" in await response.text()


async def test_unwritable_spool_with_kafka_down_answers_503(
    make_client: MakeClient, producers: FakeProducers, spool_dir
) -> None:
    """Only when neither Kafka nor the spool can take a notification is the answer 503."""

    def disk_full(_: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    producers.broker.up = False
    client = await make_client(Seams(producers, fsync=disk_full, spool_dir=spool_dir))
    body = samples.notification_bytes()
    status, answer = await post(client, body, signed(body))
    assert (status, answer["error"]["code"]) == (503, "spool_unavailable")
    async with client.get("/readyz") as response:
        assert response.status == 503


async def test_health_and_metrics_endpoints(client: TestClient) -> None:
    """healthz and readyz answer ok; metrics count answers by status and signature failures."""
    body = samples.notification_bytes()
    await post(client, body, JSON)
    await post(client, body, signed(body))
    async with client.get("/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    async with client.get("/readyz") as response:
        assert (await response.json())["status"] == "ok"
    async with client.get("/metrics") as response:
        text = await response.text()
    assert 'ingress_requests_total{status="200"} 1.0' in text
    assert 'ingress_requests_total{status="401"} 1.0' in text
    assert "ingress_signature_failures_total 1.0" in text
    assert "ingress_produce_latency_seconds_count 1.0" in text
    assert 'ingress_notifications_total{outcome="produced"} 1.0' in text


visible = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
header_values = st.one_of(
    st.text(visible, max_size=60),
    st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=42).map("sha1=".__add__),
    st.sampled_from(["sha1=", "sha256=" + "0" * 64, "SHA1=" + "0" * 40, " sha1=" + "0" * 40]),
)


@given(
    body=st.one_of(st.binary(max_size=300), st.just(samples.notification_bytes())),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x+json"]),
    data=st.data(),
)
async def test_property_random_requests_never_5xx_nor_accept_a_wrong_signature(
    client: TestClient,
    producers: FakeProducers,
    body: bytes,
    content_type: str,
    data: st.DataObject,
) -> None:
    """Random headers and bodies never cause a 5xx, and only the right signature is accepted."""
    right_value = st.just(sign(body, TEST_SECRET.encode()))
    values = data.draw(st.lists(st.one_of(header_values, right_value), max_size=3))
    before = len(producers.broker.acknowledged)
    request_headers = [("Content-Type", content_type)] + [("X-Hub-Signature", v) for v in values]
    async with client.post(WEBHOOK_PATH, data=body, headers=request_headers) as response:
        status = response.status
        assert response.content_type == "application/json"
    expected = sign(body, TEST_SECRET.encode())
    right = len(values) == 1 and values[0].lower() == expected
    assert status < 500
    assert status not in (410, 429)
    assert (status == 200) == (right and content_type != "text/plain")
    assert len(producers.broker.acknowledged) == before + (status == 200)


@given(body=st.binary(max_size=500), flip=st.integers(min_value=0, max_value=39))
async def test_property_a_tampered_signature_is_refused_with_401(
    client: TestClient, body: bytes, flip: int
) -> None:
    """Changing any hex digit of a correct signature gets a 401, whatever the body."""
    good = sign(body, TEST_SECRET.encode())
    digit = good[5 + flip]
    bad = good[: 5 + flip] + ("0" if digit != "0" else "1") + good[6 + flip :]
    async with client.post(
        WEBHOOK_PATH, data=body, headers={**JSON, "X-Hub-Signature": bad}
    ) as response:
        assert response.status == 401
