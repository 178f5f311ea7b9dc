"""The exception tree of intercom-stream; the retry decision lives on the class.

Every error says, by its class, what happens to the record that met it: `retriable` (tried
again after a pause) or not (dead-lettered at once), or, under InfrastructureError, neither:
the process stops before the record's offset is committed, and the record is kept.

IntercomStreamError               retriable = False unless a class says otherwise
├── ConfigurationError            settings that cannot work; fail at start-up
├── TopicError                    a topic exists with the wrong shape
├── SignatureError                a notification whose signature does not verify
├── InfrastructureError           the platform failed, not the record: stop before committing
│                                 (stream_app.errors draws the stream core's kinds)
└── ProcessingError               something went wrong handling one message
    ├── PoisonMessageError        the message itself is bad: dead-letter at once
    ├── TransientError            worth retrying with backoff (retriable)
    └── AttemptsExhaustedError    every attempt failed; carries the last error and the count
"""

from __future__ import annotations


class IntercomStreamError(Exception):
    """Base class of every error this project raises on purpose."""

    retriable: bool = False


class ConfigurationError(IntercomStreamError):
    """Settings are missing or contradictory."""


class TopicError(IntercomStreamError):
    """A topic exists with a shape that differs from the configured one."""


class SignatureError(IntercomStreamError):
    """A signature header is missing, malformed, or does not match the body."""


class InfrastructureError(IntercomStreamError):
    """Kafka, a topic or a dependency failed; the record is fine and must be processed later."""

    retriable = True


class ProcessingError(IntercomStreamError):
    """Handling one message failed."""


class PoisonMessageError(ProcessingError):
    """The message can never be processed; retrying cannot help."""


class TransientError(ProcessingError):
    """The failure may go away; retry with backoff."""

    retriable = True


class AttemptsExhaustedError(ProcessingError):
    """Every attempt at one message failed; `error` is the last failure, `attempts` the count."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        """Keep the last error and the number of attempts."""
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error
        self.attempts = attempts


def is_retriable(error: BaseException) -> bool:
    """Whether trying again may help: the class says so; a foreign error is assumed transient."""
    if isinstance(error, IntercomStreamError):
        return error.retriable
    return True
