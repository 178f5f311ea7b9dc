"""Tells a record's own failures (dead-letter it) from the platform's (stop before committing)."""

from __future__ import annotations

from aiokafka.errors import KafkaError
from faust.exceptions import ConsumerNotStarted, PartitionsMismatch, ProducerSendError

from intercom_stream.errors import InfrastructureError
from stream_app.faust_seams import TopicsNotReadyError

# Failures of Kafka, of faust's topics and tables, and of the network. None of them says
# anything about the record being processed: dead-lettering it would lose a valid record.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    InfrastructureError,
    TopicsNotReadyError,
    PartitionsMismatch,
    ProducerSendError,
    ConsumerNotStarted,
    KafkaError,
    OSError,
    TimeoutError,
)


def is_infrastructure_error(exc: BaseException) -> bool:
    """Whether the failure is the platform's, so the record must be kept, not dead-lettered."""
    return isinstance(exc, INFRASTRUCTURE_ERRORS)
