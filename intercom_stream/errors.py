"""The exception tree of intercom-stream; the retry decision lives on the class.

IntercomStreamError
├── ConfigurationError            settings that cannot work; fail at start-up
├── TopicError                    a topic exists with the wrong shape
├── SignatureError                a notification whose signature does not verify
├── InfrastructureError           the platform failed, not the record: stop or pause, never
│                                 dead-letter, never commit past the record
└── ProcessingError               something went wrong handling one message
    ├── PoisonMessageError        the message itself is bad: dead-letter at once
    └── TransientError            worth retrying with backoff
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
