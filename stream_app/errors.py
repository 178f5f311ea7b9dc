"""The stream core's errors, below intercom_stream.errors, and the foreign ones they translate.

IntercomStreamError
└── InfrastructureError           stop the process before the record's offset is committed
    ├── DeadLetterWriteError      the dead-letter topic did not acknowledge a write
    ├── RecordsMissingError       records faust skipped could not be read again
    ├── TopicsNotReadyError       a topic is missing from the metadata, or has another count
    ├── KafkaFailureError         the Kafka client failed (a send, a fetch, the connection)
    └── HostFailureError          the network or the disk failed (an OSError, a timeout)

`platform_error` translates the foreign errors the worker and the writer meet (faust's,
aiokafka's, the OS's) into these; anything else raised while handling a record is the
record's own failure and ends in the dead-letter topic.
"""

from __future__ import annotations

from aiokafka.errors import KafkaError
from faust.exceptions import ConsumerNotStarted, PartitionsMismatch, ProducerSendError

from intercom_stream.errors import InfrastructureError


class DeadLetterWriteError(InfrastructureError):
    """The dead-letter topic did not acknowledge a write; the worker must stop consuming."""


class RecordsMissingError(InfrastructureError):
    """Skipped records could not be read again; the worker must stop before committing."""


class TopicsNotReadyError(InfrastructureError):
    """A topic the process writes is not in its metadata with the configured partition count."""


class KafkaFailureError(InfrastructureError):
    """The Kafka client failed: a send not acknowledged, a fetch or a connection lost."""


class HostFailureError(InfrastructureError):
    """The network or the local disk failed."""


# Foreign error -> ours, most specific first.
TRANSLATIONS: tuple[tuple[type[BaseException], type[InfrastructureError]], ...] = (
    (PartitionsMismatch, TopicsNotReadyError),
    (ProducerSendError, KafkaFailureError),
    (ConsumerNotStarted, KafkaFailureError),
    (KafkaError, KafkaFailureError),
    (OSError, HostFailureError),
    (TimeoutError, HostFailureError),
)


def platform_error(error: BaseException) -> InfrastructureError | None:
    """Return the error as one of ours when the platform failed, else None (the record failed)."""
    if isinstance(error, InfrastructureError):
        return error
    for foreign, ours in TRANSLATIONS:
        if isinstance(error, foreign):
            return ours(f"{type(error).__name__}: {error}")
    return None


def raise_if_platform(error: Exception) -> None:
    """Raise the error, as one of ours, when the platform failed; return if the record did."""
    platform = platform_error(error)
    if platform is error:
        raise error
    if platform is not None:
        raise platform from error
