"""The benchmark's notifications: signed closed-conversation records, as the ingress writes them."""

from __future__ import annotations

import time

from intercom_stream import samples
from intercom_stream.signature import sign
from schemas import headers

SECRET = "bench-secret"


def record(n: int, received_at_ms: int = 0) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Return the ingress record of a closed-conversation notification for resource n % 5000."""
    conversation = f"conv-{n % 5000}"
    item = samples.conversation_item(conversation, f"contact-{n % 5000}", 1_700_000_000 + n)
    body = samples.notification_bytes(
        topic="conversation.admin.closed", item=item, notification_id=f"notif-{n}"
    )
    return (
        conversation.encode(),
        body,
        [
            (headers.SIGNATURE, sign(body, SECRET.encode()).encode()),
            (headers.RECEIVED_AT_MS, str(received_at_ms or int(time.time() * 1000)).encode()),
        ],
    )
