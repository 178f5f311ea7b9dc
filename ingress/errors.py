"""The ingress's own errors, below intercom_stream.errors.

IntercomStreamError
├── ReadTimeoutError              a request's body did not arrive within the read timeout (also a
│                                 TimeoutError, so aiohttp's lingering read stops on it quietly)
└── ProcessingError
    ├── PoisonMessageError
    │   └── RecordRefusedError    Kafka refuses this record for good (too large, invalid)
    └── TransientError
        ├── SpoolUnavailableError the local spool could not be written (disk full, I/O error)
        ├── KafkaUnavailableError no broker answered the producer's metadata request
        └── DeliveryError         Kafka did not acknowledge a record; spool it and retry
            ├── DeliveryTimeoutError not within the produce timeout; the send goes on
            └── ProducerFailedError the producer can never send again: replace it
"""

from __future__ import annotations

import asyncio

from intercom_stream.errors import IntercomStreamError, PoisonMessageError, TransientError


class SpoolUnavailableError(TransientError):
    """The spool could not make a notification durable; the request must fail with 503."""


class KafkaUnavailableError(TransientError):
    """No broker answered while the producer was starting."""


class DeliveryError(TransientError):
    """Kafka did not acknowledge a record (timed out, purged, broker error)."""


class DeliveryTimeoutError(DeliveryError):
    """Kafka did not acknowledge within the produce timeout; the send itself goes on."""

    def __init__(self, late: asyncio.Future[None]) -> None:
        """Carry `late`, the send's eventual outcome, so the spooled copy is not sent twice."""
        super().__init__("Kafka did not acknowledge within the produce timeout")
        self.late = late


class ProducerFailedError(DeliveryError):
    """The producer hit a fatal error (fenced, out of sequence) and must be replaced."""


class RecordRefusedError(PoisonMessageError):
    """Kafka refuses this record whatever the retry: too large or invalid."""


class ReadTimeoutError(IntercomStreamError, TimeoutError):
    """A request's body did not arrive within the read timeout; the answer is a 408."""
