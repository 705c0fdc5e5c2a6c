"""A crisis reply reaches a person: crisis resources come from wallguide@ and name it; the member's
reply there, and whatever they write to resources@ afterwards, lands in their Ask-a-Wall-Guide
thread and the queue with the crisis alert's severity. Real policies, on a stack of their own
(other tests' risk windows must not see these members' alerts)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from chatd.stack import REPO
from tests.integration.conftest import Stack, connector, running_stack
from tests.support.client import Client, body_of, message_from
from tests.support.muc import groupchat, join


@pytest.fixture(scope="module")
def crisis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory,
        "crisis-stack",
        policy="policies.engine:PolicyEngine.from_settings",
        policies_file=str(REPO / "conf" / "policies.toml"),
    ) as running:
        yield running


@pytest.fixture
async def connect_policy(crisis_stack: Stack) -> AsyncIterator[Callable[[str], Awaitable[Client]]]:
    opened: list[Client] = []
    yield connector(crisis_stack, opened)
    for client in opened:
        await client.close()


QUEUE = "en-queue@watch.localhost"


async def high_risk_then_crisis_resources(stack: Stack, author: Client, name: str, reader: Client) -> str:
    """A high-risk message in a one-on-one chat; the crisis resources the author gets."""
    author.send_chat(stack.pseudonym_jid("eve"), "I have pills saved up and I am going to take them all tonight")
    await reader.expect(message_from(stack.pseudonym_jid(name), "pills saved up"))
    return body_of(await author.expect(message_from(f"wallguide@{stack.en}", "988"))) or ""


def queue_entries(stack: Stack, realm: str, conversation: str) -> list[tuple[str, int]]:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return db.execute(
            "SELECT kind, severity FROM queue WHERE realm = ? AND conversation = ? ORDER BY id", (realm, conversation)
        ).fetchall()


async def test_a_reply_to_crisis_resources_reaches_the_guides(crisis_stack: Stack, connect_policy) -> None:
    stack = crisis_stack
    gina, wendy = await connect_policy("gina"), await connect_policy("wendy")
    await join(wendy, QUEUE, "sturdy-owl")
    crisis = await high_risk_then_crisis_resources(stack, gina, "gina", await connect_policy("eve"))
    address = re.search(r"write to (\S+@\S+?)\.?$", crisis)
    assert address and address.group(1) == f"wallguide@{stack.en}", crisis

    gina.send_chat(address.group(1), "i need to talk to someone please")
    entry = await wendy.expect(groupchat(QUEUE, "[severity 3] asks for a Wall Guide: gentle-crane"), timeout=10)
    thread = re.search(r"xmpp:(en-guide-\d+@watch\.localhost)", body_of(entry) or "")
    assert thread, body_of(entry)
    await join(wendy, thread.group(1), "sturdy-owl")
    await wendy.expect(groupchat(thread.group(1), "i need to talk to someone please"))
    member_id = thread.group(1).split("@")[0].rsplit("-", 1)[1]
    assert ("guide", 3) in queue_entries(stack, "en", f"guide:{member_id}")  # with the crisis alert's severity


async def test_words_to_the_resources_bot_after_crisis_resources_reach_the_guides(
    crisis_stack: Stack, connect_policy
) -> None:
    stack = crisis_stack
    frank, wendy = await connect_policy("frank"), await connect_policy("wendy")
    await join(wendy, QUEUE, "sturdy-owl")
    await high_risk_then_crisis_resources(stack, frank, "frank", await connect_policy("eve"))
    mark = frank.mark()
    frank.send_chat(f"resources@{stack.en}", "veterans")  # a topic word: answered, and a guide reads it too
    await frank.expect(message_from(f"resources@{stack.en}", "1-800-268-7708"), start=mark)
    told = await frank.expect(message_from(f"resources@{stack.en}", "passed your message to a Wall Guide"), start=mark)
    assert f"wallguide@{stack.en}" in (body_of(told) or "")
    await wendy.expect(groupchat(QUEUE, "[severity 3] asks for a Wall Guide: kind-robin"), timeout=10)
    with sqlite3.connect(stack.chatd.store_path) as db:
        (member_id,) = db.execute("SELECT id FROM members WHERE pseudonym = 'kind-robin'").fetchone()
        bodies = [r[0] for r in db.execute("SELECT body FROM messages WHERE conversation = ?", (f"guide:{member_id}",))]
    assert "veterans" in bodies
    assert ("guide", 3) in queue_entries(stack, "en", f"guide:{member_id}")


async def test_the_follow_up_outlives_a_restart(crisis_stack: Stack, connect_policy) -> None:
    """Kept in the store: after a restart (or on an instance started later) the member's words still reach a person."""
    stack = crisis_stack
    hank = await connect_policy("hank")
    await high_risk_then_crisis_resources(stack, hank, "hank", await connect_policy("eve"))
    await hank.close()
    await asyncio.to_thread(stack.chatd.stop)
    await asyncio.to_thread(stack.chatd.start)
    again, wendy = await connect_policy("hank"), await connect_policy("wendy")
    await join(wendy, QUEUE, "sturdy-owl")
    mark = again.mark()
    again.send_chat(f"resources@{stack.en}", "veterans")  # a topic word: to a guide only within the follow-up
    await again.expect(message_from(f"resources@{stack.en}", "passed your message to a Wall Guide"), start=mark)
    await wendy.expect(groupchat(QUEUE, "[severity 3] asks for a Wall Guide: humble-bison"), timeout=10)
    with sqlite3.connect(stack.chatd.store_path) as db:
        (member_id,) = db.execute("SELECT id FROM members WHERE pseudonym = 'humble-bison'").fetchone()
    assert ("guide", 3) in queue_entries(stack, "en", f"guide:{member_id}")
