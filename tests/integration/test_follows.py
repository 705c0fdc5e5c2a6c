"""Following topic rooms without joining them, on a real Prosody with real clients: "!follow" to wallguide@,
a content-free digest of new-message counts with join links, in the member's language.

The stack is the test module's own, checking for due digests every 0.3 s. "An hour passes" for one follower by
making their digest due in the store (what the clock would do); the rest is chatd's own work.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.integration.test_wall_guides import message_id
from tests.support.client import Client, body_of, message_from
from tests.support.muc import groupchat, join, say, self_presence

NS_RECEIPTS = "urn:xmpp:receipts"


@pytest.fixture(scope="module")
def follow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: what counts as new depends on every message in its rooms."""
    with running_stack(tmp_path_factory, "follow-stack", follows_check_seconds=0.3) as running:
        yield running


def guide_of(stack: Stack, name: str) -> str:
    return f"wallguide@{stack.en if stack.accounts[name].realm == 'en' else stack.fr}"


async def command(stack: Stack, client: Client, name: str, text: str) -> str:
    """A command to wallguide@ and its answer."""
    start = client.mark()
    client.send_chat(guide_of(stack, name), text)
    answer = await client.expect(message_from(guide_of(stack, name)), start=start)
    return body_of(answer) or ""


async def follower(stack: Stack, name: str) -> tuple[float, float | None, str | None] | None:
    """(since, due_at, waiting_id) of a follower, as chatd keeps them."""
    store = await stack.store()
    try:
        async with store.db.execute(
            "SELECT since, due_at, waiting_id FROM followers JOIN members ON members.id = member_id WHERE account = ?",
            (stack.accounts[name].jid,),
        ) as cursor:
            row = await cursor.fetchone()
        return (row[0], row[1], row[2]) if row else None
    finally:
        await store.close()


async def an_hour_passes(stack: Stack, name: str) -> float:
    """The follower's digest is due now (as an hour later); returns where its count window began."""
    row = await follower(stack, name)
    assert row is not None
    store = await stack.store()
    try:
        await store.db.execute(
            "UPDATE followers SET due_at = 0 WHERE member_id = (SELECT id FROM members WHERE account = ?)",
            (stack.accounts[name].jid,),
        )
        await store.db.commit()
    finally:
        await store.close()
    return row[0]


async def window_moved(stack: Stack, name: str, since: float) -> tuple[float, float | None, str | None]:
    """Waits until chatd has reported the follower's window that began at `since`."""
    while True:
        row = await follower(stack, name)
        assert row is not None
        if row[0] > since:
            return row
        await asyncio.sleep(0.1)


async def post(client: Client, room: str, nick: str, texts: list[str]) -> None:
    """Texts said in a topic room, each back from the room (archived, then delivered) before the next."""
    assert self_presence(await join(client, room, nick))
    for text in texts:
        start = client.mark()
        say(client, room, text)
        await client.expect(groupchat(room, text), start=start)


def is_digest(guide: str):
    def match(element: ET.Element) -> bool:
        return message_from(guide)(element) and element.find(f"{{{NS_RECEIPTS}}}request") is not None

    return match


async def test_a_follower_who_never_joined_gets_one_digest_with_the_count_and_no_text(
    follow_stack: Stack, connect_to
) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.en}"
    alice = await connect_to(stack, "alice")
    answer = await command(stack, alice, "alice", "!follow military hourly")
    assert "You now follow Military life without joining it" in answer and "every hour" in answer
    await alice.close()  # offline: the digest waits for her
    bob = await connect_to(stack, "bob")
    await post(bob, "military@rooms.en.localhost", "brave-heron", [f"walk by the river {n}" for n in range(3)])
    since = await an_hour_passes(stack, "alice")
    waiting = await window_moved(stack, "alice", since)
    assert waiting[2] is not None  # sent, and waiting to be seen
    await an_hour_passes(stack, "alice")  # another hour while she is away: no second digest piles up
    await asyncio.sleep(1.0)
    assert (await follower(stack, "alice"))[2] == waiting[2]  # type: ignore[index]

    back = await connect_to(stack, "alice")
    digest = await back.expect(is_digest(guide))
    text = body_of(digest) or ""
    assert text.startswith("3 new messages in Military life in the last hour: xmpp:military@rooms.en.localhost?join")
    assert "river" not in text and "brave-heron" not in text
    await back.expect_nothing(is_digest(guide), wait=2.0, start=back.received.index(digest) + 1)
    logged = stack.chatd.log_file.read_text(encoding="utf-8", errors="replace")
    assert "digest sent: 1 rooms, 3 messages" in logged
    assert "river" not in logged and "alice@localhost" not in logged  # no text, no account


async def test_unfollow_stops_the_digest_of_that_room(follow_stack: Stack, connect_to) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.en}"
    carol = await connect_to(stack, "carol")
    assert "You now follow General" in await command(stack, carol, "carol", "!follow general hourly")
    assert "You now follow MST community" in await command(stack, carol, "carol", "!follow mst")
    assert "You follow: General, MST community. Digests: every hour" in await command(
        stack, carol, "carol", "!following"
    )
    assert "You no longer follow General" in await command(stack, carol, "carol", "!unfollow general")
    dan = await connect_to(stack, "dan")
    await post(dan, "general@rooms.en.localhost", "steady-moose", ["general news"])
    await post(dan, "mst@rooms.en.localhost", "steady-moose", ["mst news"])
    start = carol.mark()
    await an_hour_passes(stack, "carol")
    text = body_of(await carol.expect(is_digest(guide), start=start)) or ""
    assert "1 new message in MST community" in text and "General" not in text
    assert "You no longer follow MST community" in await command(stack, carol, "carol", "!unfollow mst")
    assert await follower(stack, "carol") is None
    await post(dan, "mst@rooms.en.localhost", "steady-moose", ["more mst news"])
    await carol.expect_nothing(is_digest(guide), wait=2.0, start=carol.mark())


async def test_a_french_member_gets_the_french_digest(follow_stack: Stack, connect_to) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.fr}"
    denise = await connect_to(stack, "denise")
    answer = await command(stack, denise, "denise", "!follow tsm")
    assert "Vous suivez maintenant Communauté TSM sans y entrer" in answer and "une fois par jour" in answer
    assert "Vous suivez maintenant Général" in await command(stack, denise, "denise", "!follow général quotidien")
    assert "Aucun salon thématique ni aucune étiquette" in await command(stack, denise, "denise", "!follow sommeil")
    gilles = await connect_to(stack, "gilles")
    await post(gilles, "tsm@rooms.fr.localhost", "calme-loutre", ["bonjour"])
    await post(gilles, "general@rooms.fr.localhost", "calme-loutre", ["salut", "ça va"])
    start = denise.mark()
    await an_hour_passes(stack, "denise")
    text = body_of(await denise.expect(is_digest(guide), start=start)) or ""
    assert "2 nouveaux messages dans Général depuis une heure : xmpp:general@rooms.fr.localhost?join" in text
    assert "1 nouveau message dans Communauté TSM depuis une heure : xmpp:tsm@rooms.fr.localhost?join" in text
    assert "bonjour" not in text and "calme-loutre" not in text


async def test_a_tag_follow_covers_the_rooms_with_that_tag(follow_stack: Stack, connect_to) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.en}"
    eve = await connect_to(stack, "eve")
    answer = await command(stack, eve, "eve", "!follow #military hourly")
    assert "the rooms tagged military (Military life, MST community)" in answer
    frank = await connect_to(stack, "frank")
    await post(frank, "military@rooms.en.localhost", "kind-robin", ["one"])
    await post(frank, "mst@rooms.en.localhost", "kind-robin", ["two", "three"])
    await post(frank, "general@rooms.en.localhost", "kind-robin", ["elsewhere"])
    start = eve.mark()
    await an_hour_passes(stack, "eve")
    text = body_of(await eve.expect(is_digest(guide), start=start)) or ""
    assert "1 new message in Military life" in text and "2 new messages in MST community" in text
    assert "General" not in text


async def test_no_digest_when_nothing_is_new_and_follows_outlive_a_restart(follow_stack: Stack, connect_to) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.en}"
    hank = await connect_to(stack, "hank")
    await command(stack, hank, "hank", "!follow abuse hourly")  # the tag of MST community only
    start = hank.mark()
    since = await an_hour_passes(stack, "hank")
    row = await window_moved(stack, "hank", since)  # chatd looked: the window moved on, nothing was sent
    assert row[2] is None
    await hank.expect_nothing(is_digest(guide), wait=1.0, start=start)
    await hank.close()
    await asyncio.to_thread(stack.chatd.stop)
    await asyncio.to_thread(stack.chatd.start)
    again = await connect_to(stack, "hank")
    start = again.mark()
    again.send_chat(guide, "!following")
    listed = "You follow: the rooms tagged abuse (MST community). Digests: every hour"
    await again.expect(message_from(guide, listed), start=start)


async def test_held_rejected_and_removed_messages_are_not_counted(follow_stack: Stack, connect_to) -> None:
    stack, guide = follow_stack, f"wallguide@{follow_stack.en}"
    gina = await connect_to(stack, "gina")
    await command(stack, gina, "gina", "!follow military hourly")
    wendy, shadow = await connect_to(stack, "wendy"), "en-room-military@watch.localhost"
    assert self_presence(await join(wendy, shadow, "sturdy-owl"))
    bob, room = await connect_to(stack, "bob"), "military@rooms.en.localhost"
    await post(bob, room, "brave-heron", ["kept one", "kept two", "to be removed"])
    start = bob.mark()
    say(bob, room, "HOLDME please")
    say(bob, room, "REJECTME now")
    await bob.expect(lambda e: e.get("type") == "error", start=start)
    await wendy.expect(groupchat(shadow, "HOLDME please"))
    line = await wendy.expect(groupchat(shadow, "to be removed"))
    say(wendy, shadow, f"!remove {message_id(body_of(line) or '')} off topic")
    await bob.expect(lambda e: e.find("{urn:xmpp:message-retract:1}retract") is not None, start=start)
    start = gina.mark()
    await an_hour_passes(stack, "gina")
    text = body_of(await gina.expect(is_digest(guide), start=start)) or ""
    assert text.startswith("2 new messages in Military life")
