"""HMAC-SHA1 signatures of Intercom webhooks (`X-Hub-Signature: sha1=<hex>`), for every process."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from intercom_stream.errors import SignatureError

HEADER = "X-Hub-Signature"
PREFIX = "sha1="
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{40}")


def sign(body: bytes, secret: bytes) -> str:
    """Return the header value Intercom would send for this body and secret."""
    return PREFIX + hmac.new(secret, body, hashlib.sha1).hexdigest()


def parse_header(values: Sequence[str]) -> bytes:
    """Return the 20-byte digest carried by exactly one well-formed header value."""
    if len(values) != 1:
        raise SignatureError(f"expected exactly one {HEADER} header, got {len(values)}")
    value = values[0]
    if not value.startswith(PREFIX):
        raise SignatureError(f"{HEADER} must start with {PREFIX!r}")
    digest = value[len(PREFIX) :]
    if not _HEX_DIGEST.fullmatch(digest):
        raise SignatureError(f"{HEADER} must carry 40 hexadecimal digits")
    return bytes.fromhex(digest)


def verify(values: Sequence[str], body: bytes, secrets: Sequence[bytes]) -> None:
    """Raise SignatureError unless the header matches the raw body under one of the secrets."""
    if not secrets or not all(secrets):
        raise SignatureError("no client secret configured: refusing every signature")
    received = parse_header(values)
    matches = [
        hmac.compare_digest(received, hmac.digest(secret, body, hashlib.sha1)) for secret in secrets
    ]
    if not any(matches):
        raise SignatureError("signature does not match the body")
