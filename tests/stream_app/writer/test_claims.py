"""Claims on command ids: one holder at a time per id, nothing kept once released."""

from __future__ import annotations

import asyncio

from stream_app.writer.claims import Claims


async def test_a_second_holder_of_an_id_waits_for_the_first() -> None:
    """The same id is held by one block at a time; another id is not held up."""
    claims, order = Claims(), []
    release = asyncio.Event()

    async def hold(command_id: str, name: str, wait: bool) -> None:
        async with claims.hold(command_id):
            order.append(f"{name} in")
            if wait:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold("c-1", "first", True))
    await asyncio.sleep(0)  # the first takes the claim
    second = asyncio.create_task(hold("c-1", "second", False))
    await hold("c-2", "other", False)
    await asyncio.sleep(0)  # let the second try the held claim
    assert order == ["first in", "other in", "other out"]
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["first out", "second in", "second out"]
    assert len(claims) == 0
