"""A bounded load generator posting signed, mixed Intercom notifications at a steady rate."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from intercom_stream import samples
from intercom_stream.signature import sign
from stream_app.rules import command_id
from tests.conftest import TEST_SECRET
from tests.stream_app.factories import contact_item, contact_tag_item

CONTACTS = 400
CREATED_BASE = 1_763_700_000
REDELIVER_EVERY = 50  # Intercom redelivers: every 50th post repeats an earlier notification
# Topics whose shipped rule makes a command, and the rule; the others only update projections.
RULES = {
    "conversation.user.created": "conversation-started",
    "conversation.admin.closed": "conversation-closed",
    "contact.user.tag.created": "contact-tagged",
}
# Bad inputs: signed bad JSON (ingress dead letter), a valid envelope whose handler always fails
# (the test plugin's test.poison), and a command for a contact Intercom answers 404 for.
POISONS = ("bad_json", "handler", "unknown_user")
MIX = (
    "conversation.user.created",
    "contact.user.updated",
    "conversation.admin.closed",
    "contact.user.tag.created",
    "conversation.user.replied",
    "contact.user.created",
)


@dataclass(frozen=True)
class Posting:
    """One webhook body to post; `poison` names how it is meant to fail, if it is."""

    notification_id: str | None
    topic: str
    body: bytes
    poison: str = ""
    contact: str = ""

    @property
    def command_id(self) -> str | None:
        """Return the command id the shipped rules derive from it, if its topic has a rule."""
        rule = RULES.get(self.topic)
        if rule is None or self.notification_id is None:
            return None
        return command_id(self.notification_id, rule)


def notification(prefix: str, index: int) -> Posting:
    """Return the index-th notification of a run: topics cycle through MIX over many contacts."""
    topic = MIX[index % len(MIX)]
    contact = f"{prefix}-c{index % CONTACTS}"
    created = CREATED_BASE + index
    if topic.startswith("conversation."):
        item = samples.conversation_item(f"{prefix}-v{index % (2 * CONTACTS)}", contact, created)
    elif topic == "contact.user.tag.created":
        item = contact_tag_item(contact, tag=f"t{index % 7}", created_at=created)
    else:
        item = contact_item(contact, updated_at=created)
    nid = f"{prefix}-n{index:06d}"
    body = orjson.dumps(samples.notification(topic, item, nid, created))
    return Posting(nid, topic, body)


def plan(prefix: str, count: int) -> list[Posting]:
    """Return `count` postings: the mix, with every REDELIVER_EVERY-th repeating an earlier one."""
    postings: list[Posting] = []
    for index in range(count):
        if index % REDELIVER_EVERY == REDELIVER_EVERY - 1:
            postings.append(postings[index - REDELIVER_EVERY // 2])
        else:
            postings.append(notification(prefix, index))
    return postings


def poison(prefix: str, index: int) -> Posting:
    """Return a bad input: signed bad JSON, a handler that always fails, or an unknown contact."""
    kind = POISONS[index % len(POISONS)]
    created = CREATED_BASE + index
    nid = f"{prefix}-p{index:06d}"
    if kind == "bad_json":
        return Posting(None, "", f'{{"type": "notification_event", "id": "{nid}", '.encode(), kind)
    conversation = f"{prefix}-v{index % (2 * CONTACTS)}"  # a key live traffic also uses
    if kind == "handler":
        item = samples.conversation_item(conversation, f"{prefix}-c{index % CONTACTS}", created)
        body = orjson.dumps(samples.notification("test.poison", item, nid, created))
        return Posting(nid, "test.poison", body, kind)
    ghost = f"{prefix}-ghost{index}"
    item = samples.conversation_item(conversation, ghost, created)
    body = orjson.dumps(samples.notification("conversation.user.created", item, nid, created))
    return Posting(nid, "conversation.user.created", body, kind, ghost)


def poisoned(prefix: str, postings: list[Posting], every: int) -> list[Posting]:
    """Return the postings with every `every`-th replaced by a bad input."""
    return [
        poison(prefix, index) if index % every == every // 2 else posting
        for index, posting in enumerate(postings)
    ]


@dataclass
class Load:
    """Posts the plan to the ingress at `rate` a second, at most `seconds` long; records answers."""

    url: str
    postings: list[Posting]
    rate: float
    seconds: float
    concurrency: int = 128
    answers: list[tuple[Posting, int]] = field(default_factory=list)
    failures: list[tuple[Posting, str]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    @property
    def done(self) -> int:
        """Return how many posts have had an answer or failed."""
        return len(self.answers) + len(self.failures)

    def held(self) -> float:
        """Return the notifications answered per second over the run."""
        elapsed = (self.ended or time.monotonic()) - self.started
        return len(self.answers) / elapsed if elapsed > 0 else 0.0

    def statuses(self) -> Counter[Any]:
        """Return how often each status (or failure) was seen."""
        found: Counter[Any] = Counter(status for _, status in self.answers)
        found.update(reason for _, reason in self.failures)
        return found

    def ok(self) -> list[Posting]:
        """Return the postings answered 2xx."""
        return [posting for posting, status in self.answers if 200 <= status < 300]

    async def run(self) -> None:
        """Post at the steady rate until the plan or the time is used up, then await the answers."""
        slots = asyncio.Semaphore(self.concurrency)
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        self.started = time.monotonic()
        async with aiohttp.ClientSession(connector=connector) as session:
            for index, posting in enumerate(self.postings):
                due = self.started + index / self.rate
                if due - self.started >= self.seconds:
                    break
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)  # pacing of the load, not synchronisation
                await slots.acquire()
                task = asyncio.create_task(self._post(session, posting, slots))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks)
        self.ended = time.monotonic()

    async def _post(
        self, session: aiohttp.ClientSession, posting: Posting, slots: asyncio.Semaphore
    ) -> None:
        """Post one signed body and record its answer."""
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": sign(posting.body, TEST_SECRET.encode()),
        }
        try:
            async with session.post(self.url, data=posting.body, headers=headers) as response:
                await response.read()
                self.answers.append((posting, response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append((posting, type(exc).__name__))
        finally:
            slots.release()
