"""The real moderation policies (conf/policies.toml) on one-on-one chats through a real Prosody."""

from __future__ import annotations

import asyncio
import re
import sqlite3

from tests.integration.conftest import Stack
from tests.support.client import body_of, message_from
from tests.support.muc import groupchat, join, say


def alerts(stack: Stack, realm: str) -> list[tuple[str, int]]:
    """The triage queue's alert entries: (finding kind, severity)."""
    with sqlite3.connect(stack.chatd.store_path) as db:
        rows = db.execute(
            "SELECT summary, severity FROM queue WHERE realm = ? AND kind = 'alert' ORDER BY id", (realm,)
        ).fetchall()
    return [(summary.split(" · ")[0], severity) for summary, severity in rows]


async def test_email_and_phone_are_redacted_and_author_told_in_english(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    alice, bob = await connect_policy("alice"), await connect_policy("bob")
    alice.send_chat(stack.pseudonym_jid("bob"), "reach me at john.doe@gmail.com or 514-555-0199 tonight")
    got = await bob.expect(message_from(stack.pseudonym_jid("alice"), "reach me at"))
    body = body_of(got) or ""
    assert "john.doe" not in body and "555" not in body
    assert "[email removed]" in body
    notice = await alice.expect(message_from(f"wallguide@{stack.en}", "personal information removed"))
    assert "brave-heron" in (body_of(notice) or "")


async def test_redaction_notice_is_in_french_for_the_french_realm(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    denise, gilles = await connect_policy("denise"), await connect_policy("gilles")
    denise.send_chat(stack.pseudonym_jid("gilles"), "mon courriel est jean.tremblay@videotron.ca, merci")
    got = await gilles.expect(message_from(stack.pseudonym_jid("denise"), "mon courriel est"))
    assert "videotron" not in (body_of(got) or "") and "[courriel retiré]" in (body_of(got) or "")
    notice = await denise.expect(message_from(f"wallguide@{stack.fr}", "informations personnelles"))
    assert "calme-loutre" in (body_of(notice) or "")


async def test_held_link_reaches_nobody(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    alice, bob = await connect_policy("alice"), await connect_policy("bob")
    mark = bob.mark()
    alice.send_chat(stack.pseudonym_jid("bob"), "look at https://example.com/my-photo")
    await alice.expect(message_from(f"wallguide@{stack.en}", "waiting for a Wall Guide"))
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice"), "example.com"), wait=0.5, start=mark)


async def test_risk_phrase_raises_an_alert_and_sends_crisis_resources(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    carol, dan = await connect_policy("carol"), await connect_policy("dan")
    before = len(alerts(stack, "en"))
    carol.send_chat(stack.pseudonym_jid("dan"), "I have pills saved up and I am going to take them all tonight")
    await dan.expect(message_from(stack.pseudonym_jid("carol"), "pills saved up"))
    crisis = await carol.expect(message_from(f"wallguide@{stack.en}", "988"))
    assert "911" in (body_of(crisis) or "") and "1-844-750-1648" in (body_of(crisis) or "")
    await asyncio.sleep(0.2)
    new = alerts(stack, "en")[before:]
    assert ("risk.plan", 3) in new


async def test_a_severe_text_the_wording_reads_as_past_sends_no_crisis_resources(
    policy_stack: Stack, connect_policy
) -> None:
    """The lexicon calls it severe inline; the model's doubt, read after delivery, drops the severe alert."""
    stack = policy_stack
    ivy, dan = await connect_policy("ivy"), await connect_policy("dan")
    recovered = "Last spring I tried to hang myself in the garage. Today I got my one-year chip and my wife cried"
    before = len(alerts(stack, "en"))
    mark = ivy.mark()
    ivy.send_chat(stack.pseudonym_jid("dan"), recovered)
    await dan.expect(message_from(stack.pseudonym_jid("ivy"), "one-year chip"))
    await ivy.expect_nothing(message_from(f"wallguide@{stack.en}", "988"), wait=1.5, start=mark)
    assert not [severity for _, severity in alerts(stack, "en")[before:] if severity >= 3]
    ivy.send_chat(
        stack.pseudonym_jid("dan"), "I swallowed a whole bottle of pills twenty minutes ago and it's starting to hit"
    )
    crisis = await ivy.expect(message_from(f"wallguide@{stack.en}", "988"), start=mark)  # the same path, confirmed
    assert "911" in (body_of(crisis) or "")
    await asyncio.sleep(0.2)
    assert ("risk.attempt", 3) in alerts(stack, "en")[before:]


async def test_safe_idiom_raises_nothing(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    carol, dan = await connect_policy("carol"), await connect_policy("dan")
    before = len(alerts(stack, "en"))
    mark = carol.mark()
    carol.send_chat(stack.pseudonym_jid("dan"), "just killing time before the appointment, this traffic is killing me")
    await dan.expect(message_from(stack.pseudonym_jid("carol"), "killing time"))
    await carol.expect_nothing(message_from(f"wallguide@{stack.en}"), wait=0.5, start=mark)
    assert len(alerts(stack, "en")) == before


async def test_french_risk_phrase_gets_french_crisis_resources(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    denise, gilles = await connect_policy("denise"), await connect_policy("gilles")
    denise.send_chat(stack.pseudonym_jid("gilles"), "je veux mourir, je vais me tuer ce soir")
    await gilles.expect(message_from(stack.pseudonym_jid("denise"), "je veux mourir"))
    crisis = await denise.expect(message_from(f"wallguide@{stack.fr}", "988"))
    assert "composez le 911" in (body_of(crisis) or "") and f"wallguide@{stack.fr}" in (body_of(crisis) or "")
    assert ("risk.active_ideation", 3) in alerts(stack, "fr")


async def test_unclaimed_high_severity_entries_are_announced_again(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    hank, wendy = await connect_policy("hank"), await connect_policy("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    hank.send_chat(f"wallguide@{stack.en}", "I have pills saved up and I am going to take them all tonight")
    first = await wendy.expect(groupchat(queue, "risk.plan · humble-bison"))
    entry = re.match(r"#(\d+)", body_of(first) or "")
    assert entry
    again = await wendy.expect(groupchat(queue, f"Still unclaimed: #{entry.group(1)}"), timeout=20)
    assert "xmpp:en-guide-" in (body_of(again) or "")
    say(wendy, queue, f"!claim {entry.group(1)}")
    await wendy.expect(groupchat(queue, f"#{entry.group(1)} is yours"))
    mark = wendy.mark()
    await asyncio.sleep(8)
    assert not [e for e in wendy.received[mark:] if f"Still unclaimed: #{entry.group(1)}" in (body_of(e) or "")]


async def test_email_and_phone_are_redacted_in_a_room_with_a_french_notice(policy_stack: Stack, connect_policy) -> None:
    denise, gilles = await connect_policy("denise"), await connect_policy("gilles")
    room = "general@rooms.fr.localhost"
    await join(denise, room, "doux-castor")
    await join(gilles, room, "calme-loutre")
    say(denise, room, "écrivez-moi à marie.roy@videotron.ca ou au 514 555 0147")
    got = await gilles.expect(groupchat(room, "écrivez-moi"))
    body = body_of(got) or ""
    assert "videotron" not in body and "555" not in body and "[courriel retiré]" in body
    notice = await denise.expect(groupchat(room, "informations personnelles"))
    assert notice.get("from") == room  # from the room itself, to the author's clients only
    assert not [e for e in gilles.received if "informations personnelles" in (body_of(e) or "")]
