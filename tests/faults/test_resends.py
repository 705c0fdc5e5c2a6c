"""A client's resend (same id, same text) is acknowledged, never archived or delivered twice."""

from __future__ import annotations

import sqlite3

from tests.faults.load import connect_as
from tests.integration.conftest import Stack
from tests.support.client import message_from
from tests.support.muc import groupchat, join


def archived(stack: Stack, body: str) -> int:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return int(db.execute("SELECT COUNT(*) FROM messages WHERE body = ?", (body,)).fetchone()[0])


async def test_a_resent_chat_message_is_delivered_once(fault_stack: Stack) -> None:
    stack = fault_stack
    alice, bob = await connect_as(stack, "alice"), await connect_as(stack, "bob")
    try:
        to = stack.pseudonym_jid("bob")
        resent = f"<message to='{to}' type='chat' id='r-1'><body>sent twice by the client</body></message>"
        alice.send_raw(resent)
        await bob.expect(message_from(stack.pseudonym_jid("alice"), "sent twice by the client"))
        alice.send_raw(resent)
        alice.send_raw(f"<message to='{to}' type='chat' id='r-1'><body>same id, new text</body></message>")
        await bob.expect(message_from(stack.pseudonym_jid("alice"), "same id, new text"))  # a new message
        copies = [m for m in bob.received if message_from(stack.pseudonym_jid("alice"), "sent twice")(m)]
        assert len(copies) == 1
        assert archived(stack, "sent twice by the client") == 1
    finally:
        await alice.close()
        await bob.close()


async def test_a_resent_room_message_is_reflected_to_its_sender_only(fault_stack: Stack) -> None:
    stack = fault_stack
    carol, dan = await connect_as(stack, "carol"), await connect_as(stack, "dan")
    room = "general@rooms.en.localhost"
    try:
        await join(carol, room, "quiet-lynx")
        await join(dan, room, "steady-moose")
        resent = (
            f"<message to='{room}' type='groupchat' id='r-2'><body>room resend</body>"
            "<origin-id xmlns='urn:xmpp:sid:0' id='origin-r-2'/></message>"
        )
        carol.send_raw(resent)
        first = await carol.expect(groupchat(room, "room resend"))
        await dan.expect(groupchat(room, "room resend"))
        mark = carol.mark()
        carol.send_raw(resent)
        again = await carol.expect(groupchat(room, "room resend"), start=mark)  # acknowledged as sent
        sid = "{urn:xmpp:sid:0}stanza-id"
        assert again.find(sid) is not None and again.find(sid).get("id") == first.find(sid).get("id")
        carol.send_raw(f"<message to='{room}' type='groupchat'><body>after the resend</body></message>")
        await dan.expect(groupchat(room, "after the resend"))
        assert len([m for m in dan.received if groupchat(room, "room resend")(m)]) == 1
        assert archived(stack, "room resend") == 1
    finally:
        await carol.close()
        await dan.close()
