"""The exception tree: every error drawn, named and documented; every foreign failure mapped."""

from __future__ import annotations

import importlib
from types import ModuleType

import aiohttp
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)
from faust.exceptions import ConsumerNotStarted, PartitionsMismatch, ProducerSendError
from pydantic import BaseModel, ValidationError

from intercom_stream.errors import (
    AttemptsExhaustedError,
    InfrastructureError,
    IntercomStreamError,
    PoisonMessageError,
    TransientError,
    is_retriable,
)
from stream_app.errors import (
    HostFailureError,
    KafkaFailureError,
    TopicsNotReadyError,
    platform_error,
)
from stream_app.writer import errors as writer_errors
from stream_app.writer.client import transport_error

ERROR_MODULES = (
    "intercom_stream.errors",
    "stream_app.errors",
    "stream_app.writer.errors",
    "ingress.errors",
)


def errors_of(module: ModuleType) -> list[type[BaseException]]:
    """Return the exception classes a module defines."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize("name", ERROR_MODULES)
def test_every_error_is_named_documented_and_drawn(name: str) -> None:
    """Each class ends in Error, has a one-line docstring and stands in its module's drawing."""
    module = importlib.import_module(name)
    classes = errors_of(module)
    assert classes, f"{name} defines no errors"
    for cls in classes:
        assert cls.__name__.endswith("Error"), cls
        doc = (cls.__doc__ or "").strip()
        assert doc, f"{cls.__name__} has no docstring"
        assert "\n" not in doc, f"{cls.__name__} needs a one-line docstring"
        assert cls.__name__ in (module.__doc__ or ""), f"{cls.__name__} is not drawn in {name}"
        assert issubclass(cls, IntercomStreamError), f"{cls.__name__} is outside the tree"


def test_the_retry_decision_is_read_from_the_class() -> None:
    """Poison and exhausted are final; transient and platform failures retriable; foreign too."""
    assert not is_retriable(PoisonMessageError("bad"))
    assert not is_retriable(AttemptsExhaustedError(ValueError("x"), 3))
    assert is_retriable(TransientError("later"))
    assert is_retriable(InfrastructureError("broker"))
    assert is_retriable(KeyError("a handler bug may be a race"))


@pytest.mark.parametrize(
    ("foreign", "ours"),
    [
        (PartitionsMismatch("changelog has 0 partitions"), TopicsNotReadyError),
        (ProducerSendError("send failed"), KafkaFailureError),
        (ConsumerNotStarted("not yet"), KafkaFailureError),
        (KafkaTimeoutError(), KafkaFailureError),
        (KafkaConnectionError("refused"), KafkaFailureError),
        (NodeNotReadyError(), KafkaFailureError),
        (RequestTimedOutError(), KafkaFailureError),
        (ConnectionResetError("reset"), HostFailureError),
        (OSError(28, "No space left on device"), HostFailureError),
        (TimeoutError(), HostFailureError),
    ],
    ids=lambda value: getattr(value, "__name__", type(value).__name__),
)
def test_every_kafka_and_host_failure_maps_to_an_infrastructure_error(
    foreign: BaseException, ours: type[InfrastructureError]
) -> None:
    """The platform's failures stop the process instead of dead-lettering the record."""
    assert type(platform_error(foreign)) is ours


class Shape(BaseModel):
    """A model whose validation can fail."""

    n: int


def validation_error() -> ValidationError:
    """Return a real pydantic ValidationError."""
    try:
        Shape.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "record_failure",
    [ValueError("bad value"), KeyError("missing"), validation_error(), PoisonMessageError("no")],
    ids=lambda value: type(value).__name__,
)
def test_a_record_failure_is_not_the_platforms(record_failure: Exception) -> None:
    """What a handler or a parser raises about the record itself is dead-lettered."""
    assert platform_error(record_failure) is None


@pytest.mark.parametrize(
    ("foreign", "ours"),
    [
        (aiohttp.ServerTimeoutError("read"), writer_errors.RequestTimeoutError),
        (TimeoutError(), writer_errors.RequestTimeoutError),
        (aiohttp.ServerDisconnectedError(), writer_errors.ConnectionFailedError),
        (aiohttp.ClientPayloadError("broken"), writer_errors.ConnectionFailedError),
        (aiohttp.ClientOSError(111, "refused"), writer_errors.ConnectionFailedError),
    ],
    ids=lambda value: getattr(value, "__name__", type(value).__name__),
)
def test_every_http_transport_failure_maps_to_a_retriable_outage_error(
    foreign: Exception, ours: type[writer_errors.TransportError]
) -> None:
    """aiohttp failures without an answer count towards the circuit and are retried."""
    made = transport_error("POST /events", foreign)  # type: ignore[arg-type]
    assert type(made) is ours
    assert made.retriable


def test_an_intercom_error_carries_status_code_retriable_and_request_id() -> None:
    """The seed's IntercomServiceError idea: what Intercom said, and what to do about it."""
    body = {"request_id": "req-9", "errors": [{"code": "not_found", "message": "no user"}]}
    made = writer_errors.error_for_status(404, body, None)
    assert (made.status, made.code, made.retriable, made.request_id) == (
        404,
        "not_found",
        False,
        "req-9",
    )
