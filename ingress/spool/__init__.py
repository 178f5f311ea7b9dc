"""The local spool: where a notification goes when Kafka does not acknowledge it in time.

- `frames`: the on-disk unit, a length-prefixed, CRC-checked frame.
- `segments`: the files (append-only segments, the drained marker, the lock) and recovery.
- `store`: `Spool`, the fsync'd FIFO with group commit that requests append to.
- `drain`: `Drainer`, which sends spooled records to Kafka in arrival order.
"""

from ingress.spool.drain import Drainer
from ingress.spool.segments import Fsync
from ingress.spool.store import Spool, SpoolEntry

__all__ = ["Drainer", "Fsync", "Spool", "SpoolEntry"]
