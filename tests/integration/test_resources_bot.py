"""resources@<realm>: the resource library by topic, in the member's language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, connector, running_stack
from tests.support.client import body_of, message_from
from tests.support.muc import groupchat, join


async def test_resource_bot_answers_in_english(stack: Stack, connect) -> None:
    alice = await connect("alice")
    bot = f"resources@{stack.en}"
    alice.send_chat(bot, "crisis")
    got = body_of(await alice.expect(message_from(bot, "Support services")))
    assert got and "988" in got and "911" in got and "1-844-750-1648" in got
    alice.send_chat(bot, "Veterans")
    got = body_of(await alice.expect(message_from(bot, "veterans")))
    assert got and "1-800-268-7708" in got


async def test_resource_bot_answers_in_french(stack: Stack, connect) -> None:
    denise = await connect("denise")
    bot = f"resources@{stack.fr}"
    denise.send_chat(bot, "familles")
    got = body_of(await denise.expect(message_from(bot, "Services de soutien")))
    assert got and "1-800-866-4546" in got and "Ligne d’information pour les familles" in got
    denise.send_chat(bot, "jeunes")
    got = body_of(await denise.expect(message_from(bot, "Jeunesse")))
    assert got and "1-800-668-6868" in got


async def test_words_that_are_not_a_topic_reach_a_wall_guide(stack: Stack, connect) -> None:
    alice, wendy = await connect("alice"), await connect("wendy")
    bot = f"resources@{stack.en}"
    await join(wendy, "en-queue@watch.localhost", "sturdy-owl")
    alice.send_chat(bot, "i need to talk to someone please")
    got = body_of(await alice.expect(message_from(bot, "passed your message to a Wall Guide")))
    assert got and f"wallguide@{stack.en}" in got and "sexual misconduct" in got and "families" in got
    entry = await wendy.expect(groupchat("en-queue@watch.localhost", "asks for a Wall Guide: calm-otter"))
    thread = re.search(r"xmpp:(en-guide-\d+@watch\.localhost)", body_of(entry) or "")
    assert thread, body_of(entry)
    await join(wendy, thread.group(1), "sturdy-owl")
    await wendy.expect(groupchat(thread.group(1), "i need to talk to someone please"))


async def test_french_words_to_the_bot_are_answered_in_french(stack: Stack, connect) -> None:
    denise = await connect("denise")
    bot = f"resources@{stack.fr}"
    denise.send_chat(bot, "j'ai besoin de parler à quelqu'un")
    got = body_of(await denise.expect(message_from(bot, "transmis votre message à un Guide")))
    assert got and f"wallguide@{stack.fr}" in got


async def test_pinned_resources_greet_whoever_joins_a_room(stack: Stack, connect) -> None:
    hank = await connect("hank")
    room = "mst@rooms.en.localhost"
    await join(hank, room, "humble-bison")
    pinned = await hank.expect(groupchat(room, "Support services"))
    assert "1-844-750-1648" in (body_of(pinned) or "") and pinned.get("from") == room


@pytest.fixture(scope="module")
def scheduled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = {"general": {"resources": "crisis", "resource_post_hours": 0.0005}}  # every 1.8 seconds
    with running_stack(tmp_path_factory, "scheduled", room_settings=settings) as running:
        yield running


async def test_scheduled_resource_posts_reach_the_room_and_its_archive(scheduled_stack: Stack) -> None:
    opened: list = []
    hank = await connector(scheduled_stack, opened)("hank")
    try:
        room = "general@rooms.en.localhost"
        await join(hank, room, "humble-bison")
        scheduled = groupchat(f"{room}/Wall Guide", "9-8-8 Suicide Crisis Helpline")
        post = await hank.expect(scheduled, timeout=10)
        assert post.find("{urn:xmpp:sid:0}stanza-id") is not None  # archived, so MAM has it
    finally:
        for client in opened:
            await client.close()
