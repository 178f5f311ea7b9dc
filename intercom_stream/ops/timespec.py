"""Reads operators' time arguments: ISO 8601 instants (explicit UTC) or ages like 30m, 2h, 7d."""

from __future__ import annotations

import re
from datetime import UTC, datetime

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RELATIVE = re.compile(r"^(?P<amount>\d+)(?P<unit>[smhd])$")


def parse_instant(text: str, now: float) -> int:
    """Return the instant in unix milliseconds; a zone-less ISO time is read as UTC, not local."""
    match = RELATIVE.match(text.strip())
    if match:
        seconds = int(match["amount"]) * UNITS[match["unit"]]
        return int((now - seconds) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither ISO 8601 nor an age like 30m, 2h, 7d") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ms: int | None) -> str | None:
    """Return the unix-millisecond instant as ISO 8601 UTC with a Z, or None."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
