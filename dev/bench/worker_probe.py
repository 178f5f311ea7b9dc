"""Runs `intercom-stream worker` while counting aiokafka's produce requests and their records.

Used by dev/bench/pipeline.py in place of `python -m intercom_stream worker`: it wraps
aiokafka's Sender._send_produce_req (one call per produce request) and prints
`PROBE requests=<n> records=<n>` every second, so the benchmark can report records per request.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiokafka.producer.sender import Sender

COUNTS = {"requests": 0, "records": 0}
original = Sender._send_produce_req


async def counted(self: Any, node_id: int, batches: dict[Any, Any]) -> Any:
    """Count the request and its records, then send it as aiokafka would."""
    COUNTS["requests"] += 1
    COUNTS["records"] += sum(batch.record_count for batch in batches.values())
    return await original(self, node_id, batches)


def report() -> None:
    """Print the counts every second (the benchmark reads the last line)."""
    while True:
        time.sleep(1)
        print(f"PROBE requests={COUNTS['requests']} records={COUNTS['records']}", flush=True)


if __name__ == "__main__":
    Sender._send_produce_req = counted
    threading.Thread(target=report, daemon=True).start()
    from intercom_stream.cli import main

    sys.exit(main(sys.argv[1:]))
