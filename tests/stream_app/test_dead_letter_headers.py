"""Dead-letter records carry Spring Kafka's and the project's headers beside the JSON body."""

from __future__ import annotations

from schemas import DeadLetter
from schemas.commands import command_bytes
from schemas.dead_letter import kafka_headers
from stream_app.dead_letters import dead_letter, dead_letter_headers, write_dead_letter
from stream_app.source import Source
from stream_app.writer.errors import NotFoundError
from tests.fakes.clock import FakeClock
from tests.stream_app.writer.conftest import make_command
from tests.stream_app.writer.test_processor import Harness
from tests.stream_app.writer.test_sender import failure

SOURCE = Source("t.commands", 3, 41, b"user_id:u-1", b"{}", (("command-id", b"c1"),), 1_700)


def not_found() -> NotFoundError:
    """Return the 404 Intercom answers for an unknown contact."""
    return NotFoundError(404, {"request_id": "req-9", "errors": [{"code": "not_found"}]}, None)


def test_headers_name_the_source_the_exception_and_intercom_answer() -> None:
    """Spring's original-* and exception-* headers, then x-stage, x-attempts and Intercom's ids."""
    error = not_found()
    letter = dead_letter(SOURCE, "writer", "refused", error, 2, 9_000)
    assert dict(dead_letter_headers(letter, error)) == {
        "kafka_dlt-original-topic": b"t.commands",
        "kafka_dlt-original-partition": b"3",
        "kafka_dlt-original-offset": b"41",
        "kafka_dlt-original-timestamp": b"1700",
        "kafka_dlt-exception-fqcn": b"stream_app.writer.errors.NotFoundError",
        "kafka_dlt-exception-message": str(error).encode(),
        "x-stage": b"writer",
        "x-attempts": b"2",
        "x-intercom-status": b"404",
        "x-intercom-request-id": b"req-9",
    }


def test_unknown_values_are_left_out() -> None:
    """A dead letter without a source position or Intercom answer has no such headers."""
    letter = DeadLetter(
        stage="ingress", reason="r", error_type="ValueError", error_message="m" * 5000,
        payload=b"x", failed_at_ms=1,
    )  # fmt: skip
    headers = dict(kafka_headers(letter))
    assert set(headers) == {
        "kafka_dlt-exception-fqcn", "kafka_dlt-exception-message", "x-stage", "x-attempts",
    }  # fmt: skip
    assert headers["kafka_dlt-exception-fqcn"] == b"ValueError"
    assert len(headers["kafka_dlt-exception-message"]) == 1024


async def test_the_sender_gets_the_json_body_and_the_headers() -> None:
    """write_dead_letter passes the given headers, or those built from the letter, with the body."""
    letter = dead_letter(SOURCE, "handler", "boom", ValueError("boom"), 1, 9_000)
    got: list[tuple[object, ...]] = []

    async def headered(key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        got.append((key, value, headers))

    await write_dead_letter(headered, letter, dead_letter_headers(letter, ValueError("boom")))
    await write_dead_letter(headered, letter)
    assert got[0][:2] == got[1][:2] == (b"user_id:u-1", letter.model_dump_json().encode())
    assert ("kafka_dlt-exception-fqcn", b"builtins.ValueError") in got[0][2]  # type: ignore[operator]
    assert ("x-stage", b"handler") in got[1][2]  # type: ignore[operator]


async def test_the_writer_dead_letters_a_404_with_its_status_and_request_id() -> None:
    """The writer's processor passes the Intercom error, so the 404 and request id are headers."""
    harness = Harness(FakeClock(), [failure(404)])
    sent: list[list[tuple[str, bytes]]] = []

    async def send(key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        sent.append(headers)

    harness.processor._send_dead_letter = send
    await harness.handle(command_bytes(make_command()))
    [headers] = sent
    assert dict(headers)["x-intercom-status"] == b"404"
    assert dict(headers)["kafka_dlt-exception-fqcn"].endswith(b"NotFoundError")
