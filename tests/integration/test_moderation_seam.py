"""The moderation seam really stops or changes delivery (keyword policy from tests/support)."""

from __future__ import annotations

import sqlite3

from tests.integration.conftest import Stack
from tests.support.client import body_of, error_from, error_texts, message_from


def archived(stack: Stack, text: str) -> list[tuple[str | None, str | None, str]]:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return db.execute(
            "SELECT body, original, verdict FROM messages WHERE (body LIKE ? OR original LIKE ?)"
            " AND conversation NOT LIKE 'watch:%'",  # shadow rooms keep their own copy for the guides
            (f"%{text}%", f"%{text}%"),
        ).fetchall()


async def test_redacting_policy_changes_delivery_and_tells_author(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    alice.send_chat(stack.pseudonym_jid("bob"), "write me at SECRET-CODE soon")
    got = await bob.expect(message_from(stack.pseudonym_jid("alice"), "write me at"))
    assert "SECRET-CODE" not in (body_of(got) or "")
    notice = await alice.expect(message_from(f"wallguide@{stack.en}", "brave-heron"))
    assert "removed" in (body_of(notice) or "")
    assert archived(stack, "write me at") == [(body_of(got), "write me at SECRET-CODE soon", "redact")]


async def test_rejecting_policy_stops_delivery_with_localized_error(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    mark = bob.mark()
    sent = alice.send_chat(stack.pseudonym_jid("bob"), "REJECTME please")
    error = await alice.expect(error_from(stack.pseudonym_jid("bob"), "not-acceptable", stanza_id=sent))
    assert "house rule" in error_texts(error)["en"]
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice"), "REJECTME"), wait=0.5, start=mark)
    assert archived(stack, "REJECTME please") == [(None, "REJECTME please", "reject")]


async def test_held_message_reaches_nobody_and_author_is_told(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    mark = bob.mark()
    text = "HOLDME for review in the seam test"  # other tests hold HOLDME texts on the same stack
    alice.send_chat(stack.pseudonym_jid("bob"), text)
    await alice.expect(message_from(f"wallguide@{stack.en}", "waiting for a Wall Guide"))
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice"), "HOLDME"), wait=0.5, start=mark)
    assert archived(stack, text) == [(None, text, "hold")]


async def test_failing_policy_holds_instead_of_delivering(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    mark = bob.mark()
    alice.send_chat(stack.pseudonym_jid("bob"), "CRASHME now")
    await alice.expect(message_from(f"wallguide@{stack.en}", "waiting for a Wall Guide"))
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice"), "CRASHME"), wait=0.5, start=mark)


async def test_corrections_pass_the_hook_too(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    to = stack.pseudonym_jid("bob")
    alice.send_raw(f"<message to='{to}' type='chat' id='orig-7'><body>first version</body></message>")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "first version"))
    alice.send_raw(
        f"<message to='{to}' type='chat' id='fix-7'><body>fixed SECRET-CODE</body>"
        "<replace xmlns='urn:xmpp:message-correct:0' id='orig-7'/></message>"
    )
    got = await bob.expect(message_from(stack.pseudonym_jid("alice"), "fixed"))
    assert "SECRET-CODE" not in (body_of(got) or "")
    replace = got.find("{urn:xmpp:message-correct:0}replace")
    assert replace is not None and replace.get("id") == "orig-7"
