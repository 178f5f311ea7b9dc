"""Deletes topics on a real broker: the tests' and the benchmarks' own, when they end."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient


async def delete_topics_containing(bootstrap: str, marker: str) -> None:
    """Delete every topic whose name contains the marker (a test's unique suffix)."""
    await delete_topics(bootstrap, lambda name: marker in name)


async def delete_topics(bootstrap: str | list[str], chosen: Callable[[str], bool]) -> None:
    """Delete every topic whose name the predicate chooses."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if chosen(name)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
