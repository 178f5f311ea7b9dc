"""The ingress's own errors, below intercom_stream.errors.

IntercomStreamError
└── ProcessingError
    └── TransientError
        └── SpoolUnavailableError   the local spool could not be written (disk full, I/O error)
"""

from __future__ import annotations

from intercom_stream.errors import TransientError


class SpoolUnavailableError(TransientError):
    """The spool could not make a notification durable; the request must fail with 503."""
