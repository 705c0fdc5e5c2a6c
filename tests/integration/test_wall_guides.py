"""The Wall Guides' channel on a real Prosody: shadow rooms, the queue, commands, Ask a Wall Guide.

Tests on `any_stack` run on each supported server (Prosody and ejabberd).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import xml.etree.ElementTree as ET

from tests.integration.conftest import Stack
from tests.support.client import body_of, error_from, message_from, tag
from tests.support.muc import groupchat, join, say, self_presence


def member_id(stack: Stack, name: str) -> int:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return int(db.execute("SELECT id FROM members WHERE account = ?", (stack.accounts[name].jid,)).fetchone()[0])


def dm_shadow(stack: Stack, a: str, b: str) -> str:
    low, high = sorted((member_id(stack, a), member_id(stack, b)))
    return f"en-dm-{low}-{high}@watch.localhost"


def message_id(line: str) -> str:
    found = re.search(r"id ([0-9a-f]{8})\]", line)
    assert found, line
    return found.group(1)


async def test_shadow_room_shows_original_while_recipient_gets_redacted(any_stack: Stack, connect_any) -> None:
    wendy, alice, bob = await connect_any("wendy"), await connect_any("alice"), await connect_any("bob")
    room = dm_shadow(any_stack, "alice", "bob")
    assert self_presence(await join(wendy, room, "sturdy-owl"))
    alice.send_chat(any_stack.pseudonym_jid("bob"), "mail me at SECRET-CODE please")
    delivered = await bob.expect(message_from(any_stack.pseudonym_jid("alice"), "mail me at"))
    assert "SECRET-CODE" not in (body_of(delivered) or "")
    mirrored = await wendy.expect(groupchat(room, "mail me at SECRET-CODE please"))
    text = body_of(mirrored) or ""
    assert "redacted" in text and "pii.email" in text and "[email removed]" in text
    assert any_stack.accounts["alice"].jid not in ET.tostring(mirrored, encoding="unicode")


async def test_members_and_other_realms_cannot_join_shadow_rooms(any_stack: Stack, connect_any) -> None:
    alice, wendy, gaston = await connect_any("alice"), await connect_any("wendy"), await connect_any("gaston")
    refused = await join(alice, "en-queue@watch.localhost", "calm-otter")
    assert (
        refused.get("type") == "error"
        and refused.find(f"{tag('error')}/{{urn:ietf:params:xml:ns:xmpp-stanzas}}forbidden") is not None
    )
    refused = await join(wendy, "fr-queue@watch.localhost", "sturdy-owl")
    assert refused.get("type") == "error"
    refused = await join(gaston, dm_shadow(any_stack, "alice", "bob"), "sage-hibou")
    assert refused.get("type") == "error"
    sent = alice.send_chat("en-queue@watch.localhost", "let me see")
    await alice.expect(error_from("en-queue@watch.localhost", "forbidden", stanza_id=sent))


async def test_hold_then_approve_and_edit_and_approve(stack: Stack, connect) -> None:
    wendy, alice, bob = await connect("wendy"), await connect("alice"), await connect("bob")
    room = dm_shadow(stack, "alice", "bob")
    await join(wendy, room, "sturdy-owl")
    alice.send_chat(stack.pseudonym_jid("bob"), "HOLDME first version")
    held = await wendy.expect(groupchat(room, "HOLDME first version"))
    assert "HELD" in (body_of(held) or "")
    say(wendy, room, f"!approve {message_id(body_of(held) or '')}")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "HOLDME first version"))
    await alice.expect(message_from(f"wallguide@{stack.en}", "delivered it"))

    alice.send_chat(stack.pseudonym_jid("bob"), "HOLDME second version with a detail")
    held = await wendy.expect(groupchat(room, "second version"))
    say(wendy, room, f"!approve {message_id(body_of(held) or '')} second version -- removed a detail")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "second version"))
    assert not [e for e in bob.received if "with a detail" in (body_of(e) or "")]
    notice = await alice.expect(message_from(f"wallguide@{stack.en}", "with changes"))
    assert "removed a detail" in (body_of(notice) or "")


async def test_mute_and_its_expiry(stack: Stack, connect) -> None:
    wendy, frank, dan = await connect("wendy"), await connect("frank"), await connect("dan")
    room = dm_shadow(stack, "frank", "dan")
    await join(wendy, room, "sturdy-owl")
    say(wendy, room, "!mute kind-robin 5s cooling off")
    await wendy.expect(groupchat(room, "kind-robin is muted"))
    await frank.expect(message_from(f"wallguide@{stack.en}", "paused your messages"))
    sent = frank.send_chat(stack.pseudonym_jid("dan"), "am I muted?")
    await frank.expect(error_from(stack.pseudonym_jid("dan"), "policy-violation", stanza_id=sent))
    await asyncio.sleep(5.5)
    frank.send_chat(stack.pseudonym_jid("dan"), "the mute is over")
    await dan.expect(message_from(stack.pseudonym_jid("frank"), "the mute is over"))


async def test_ask_a_wall_guide_round_trip(stack: Stack, connect) -> None:
    carol, wendy = await connect("carol"), await connect("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    carol.send_chat(f"wallguide@{stack.en}", "I need to talk to someone tonight")
    await carol.expect(message_from(f"wallguide@{stack.en}", "A Wall Guide will answer you here"))
    entry = await wendy.expect(groupchat(queue, "quiet-lynx"))
    thread = re.search(r"xmpp:(en-guide-\d+@watch\.localhost)", body_of(entry) or "")
    assert thread, body_of(entry)
    entry_id = re.match(r"#(\d+)", body_of(entry) or "")
    assert entry_id
    say(wendy, queue, f"!claim {entry_id.group(1)}")
    await wendy.expect(groupchat(queue, f"#{entry_id.group(1)} is yours"))

    room = thread.group(1)
    await join(wendy, room, "sturdy-owl")
    await wendy.expect(groupchat(room, "I need to talk to someone tonight"))  # history on join
    say(wendy, room, "I am here with you. What is going on?")
    reply = await carol.expect(message_from(f"wallguide@{stack.en}", "I am here with you"))
    assert "sturdy-owl" not in ET.tostring(reply, encoding="unicode")
    carol.send_chat(f"wallguide@{stack.en}", "thank you, it helps")
    await wendy.expect(groupchat(room, "thank you, it helps"))


async def test_guide_actions_are_audited_and_forbidden_elsewhere(stack: Stack, connect) -> None:
    wendy, gaston = await connect("wendy"), await connect("gaston")
    room = dm_shadow(stack, "eve", "frank")
    await join(wendy, room, "sturdy-owl")
    say(wendy, room, "!note swift-hare prefers short check-ins")
    await wendy.expect(groupchat(room, "Note kept for swift-hare"))
    say(wendy, room, "!watch swift-hare")
    await wendy.expect(groupchat(room, "on the watchlist"))
    say(wendy, room, "!activity swift-hare")
    await wendy.expect(groupchat(room, "Recent activity of swift-hare"))
    say(wendy, room, "!dance")
    await wendy.expect(groupchat(room, "unknown command"))
    listing = stack.chatd.cli("audit", "list")
    assert "sturdy-owl\tmember.note\ten\tswift-hare" in listing.stdout
    assert "sturdy-owl\tmember.watch\ten\tswift-hare" in listing.stdout
    assert "sturdy-owl\tmember.activity\ten\tswift-hare" in listing.stdout
    assert stack.chatd.cli("audit", "verify").returncode == 0
    refused = await join(gaston, room, "sage-hibou")  # a French guide cannot act in the English realm
    assert refused.get("type") == "error"


async def test_guide_removes_a_room_message_with_retraction_and_tombstone(stack: Stack, connect) -> None:
    wendy, alice, bob = await connect("wendy"), await connect("alice"), await connect("bob")
    room = "general@rooms.en.localhost"
    for client, nick in ((alice, "calm-otter"), (bob, "brave-heron")):
        assert self_presence(await join(client, room, nick))
    shadow = "en-room-general@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    say(alice, room, "a message that will be removed")
    seen = await bob.expect(groupchat(room, "a message that will be removed"))
    stanza_id = seen.find("{urn:xmpp:sid:0}stanza-id").get("id")
    mirrored = await wendy.expect(groupchat(shadow, "a message that will be removed"))
    say(wendy, shadow, f"!remove {message_id(body_of(mirrored) or '')} off-topic personal detail")
    retraction = await bob.expect(
        lambda e: e.find("{urn:xmpp:message-retract:1}retract") is not None and e.get("type") == "groupchat"
    )
    retract = retraction.find("{urn:xmpp:message-retract:1}retract")
    assert retract.get("id") == stanza_id
    assert retract.find("{urn:xmpp:message-moderate:1}moderated") is not None
    assert retraction.find("{urn:xmpp:fasten:0}apply-to").get("id") == stanza_id  # older clients
    assert retract.findtext("{urn:xmpp:message-retract:1}reason") == "off-topic personal detail"
    assert body_of(retraction) is None  # a body would be shown by Conversations as a new message, the original kept
    await alice.expect(message_from(f"wallguide@{stack.en}", "removed one of your messages"))

    mark = bob.mark()
    bob.send_raw(f"<iq type='set' to='{room}' id='mam-tomb'><query xmlns='urn:xmpp:mam:2' queryid='q-tomb'/></iq>")
    await bob.expect(lambda e: e.get("id") == "mam-tomb" and e.get("type") == "result", start=mark)
    results = [
        e for e in bob.received[mark:]
        if (r := e.find("{urn:xmpp:mam:2}result")) is not None and r.get("id") == stanza_id
    ]  # fmt: skip
    assert len(results) == 1
    archived = ET.tostring(results[0], encoding="unicode")
    assert "a message that will be removed" not in archived
    assert "urn:xmpp:message-retract:1" in archived and "retracted" in archived


async def test_guide_edits_a_direct_message(stack: Stack, connect) -> None:
    wendy, alice, bob = await connect("wendy"), await connect("alice"), await connect("bob")
    shadow = dm_shadow(stack, "alice", "bob")
    await join(wendy, shadow, "sturdy-owl")
    to = stack.pseudonym_jid("bob")
    alice.send_raw(f"<message to='{to}' type='chat' id='to-edit-1'><body>meet me at the bar</body></message>")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "meet me at the bar"))
    mirrored = await wendy.expect(groupchat(shadow, "meet me at the bar"))
    say(wendy, shadow, f"!edit {message_id(body_of(mirrored) or '')} meet me here -- no meeting places")
    corrected = await bob.expect(message_from(stack.pseudonym_jid("alice"), "meet me here"))
    assert corrected.find("{urn:xmpp:message-correct:0}replace").get("id") == "to-edit-1"
    notice = await alice.expect(message_from(f"wallguide@{stack.en}", "changed one of your messages"))
    assert "no meeting places" in (body_of(notice) or "")


async def test_reports_by_reply_in_a_room_and_a_chat_and_by_quote(stack: Stack, connect) -> None:
    wendy, hank, gina = await connect("wendy"), await connect("hank"), await connect("gina")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    room = "general@rooms.en.localhost"
    await join(hank, room, "humble-bison")
    await join(gina, room, "gentle-crane")
    say(gina, room, "something hurtful in the room")
    seen = await hank.expect(groupchat(room, "something hurtful"))
    stanza_id = seen.find("{urn:xmpp:sid:0}stanza-id").get("id")
    mark = gina.mark()
    hank.send_raw(
        f"<message to='{room}' type='groupchat'><body>!report this is harassment</body>"
        f"<reply xmlns='urn:xmpp:reply:0' to='{room}/gentle-crane' id='{stanza_id}'/></message>"
    )
    await hank.expect(groupchat(room, "Your report went to the Wall Guides only"))
    entry = await wendy.expect(groupchat(queue, "humble-bison → gentle-crane"))
    assert "this is harassment" in (body_of(entry) or "") and stanza_id.rpartition("-")[2] in (body_of(entry) or "")
    await gina.expect_nothing(lambda e: "report" in (body_of(e) or "").lower(), wait=0.5, start=mark)

    gina.send_raw(
        f"<message to='{stack.pseudonym_jid('hank')}' type='chat' id='dm-hurt-1'><body>you again</body></message>"
    )
    await hank.expect(message_from(stack.pseudonym_jid("gina"), "you again"))
    hank.send_raw(
        f"<message to='{stack.pseudonym_jid('gina')}' type='chat'><body>!report unwanted contact</body>"
        f"<reply xmlns='urn:xmpp:reply:0' to='{stack.pseudonym_jid('gina')}' id='dm-hurt-1'/></message>"
    )
    await hank.expect(message_from(f"wallguide@{stack.en}", "Your report went to the Wall Guides only"))
    await wendy.expect(groupchat(queue, "unwanted contact"))
    assert not [e for e in gina.received if "unwanted contact" in (body_of(e) or "")]

    hank.send_chat(f"wallguide@{stack.en}", "> you again\n!report keeps writing to me")
    entry = await wendy.expect(groupchat(queue, "keeps writing to me"))
    assert "gentle-crane" in (body_of(entry) or "")


async def test_joins_leaves_and_actions_show_in_the_shadow_room(stack: Stack, connect) -> None:
    wendy, hank = await connect("wendy"), await connect("hank")
    shadow = "en-room-military@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    await join(hank, "military@rooms.en.localhost", "humble-bison")
    await wendy.expect(groupchat(shadow, "humble-bison joined"))
    hank.send_raw("<presence to='military@rooms.en.localhost/humble-bison' type='unavailable'/>")
    await wendy.expect(groupchat(shadow, "humble-bison left"))
    say(wendy, shadow, "!warn humble-bison please keep it kind")
    action = await wendy.expect(groupchat(shadow, "!warn humble-bison please keep it kind"))
    assert "was warned" in (body_of(action) or "")
    await hank.expect(message_from(f"wallguide@{stack.en}", "please keep it kind"))


NS_COMMANDS = "http://jabber.org/protocol/commands"


async def test_guides_act_with_ad_hoc_commands_too(stack: Stack, connect) -> None:
    wendy, eve, alice = await connect("wendy"), await connect("eve"), await connect("alice")
    watch = "watch.localhost"
    mark = wendy.mark()
    wendy.send_raw(
        f"<iq type='get' to='{watch}' id='ah-1'>"
        f"<query xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/></iq>"
    )
    listing = await wendy.expect(lambda e: e.get("id") == "ah-1", start=mark)
    nodes = {i.get("node") for i in listing.iter("{http://jabber.org/protocol/disco#items}item")}
    assert {"mute", "approve", "remove", "claim"} <= nodes

    wendy.send_raw(
        f"<iq type='set' to='{watch}' id='ah-2'><command xmlns='{NS_COMMANDS}' node='warn' action='execute'/></iq>"
    )
    form = await wendy.expect(lambda e: e.get("id") == "ah-2", start=mark)
    command = form.find(f"{{{NS_COMMANDS}}}command")
    assert command.get("status") == "executing"
    fields = {f.get("var") for f in command.iter("{jabber:x:data}field")}
    assert fields == {"member", "text"}
    wendy.send_raw(
        f"<iq type='set' to='{watch}' id='ah-3'>"
        f"<command xmlns='{NS_COMMANDS}' node='warn' sessionid='{command.get('sessionid')}'>"
        "<x xmlns='jabber:x:data' type='submit'><field var='member'><value>swift-hare</value></field>"
        "<field var='text'><value>mind the house rules</value></field></x></command></iq>"
    )
    done = await wendy.expect(lambda e: e.get("id") == "ah-3", start=mark)
    note = done.find(f"{{{NS_COMMANDS}}}command/{{{NS_COMMANDS}}}note")
    assert done.find(f"{{{NS_COMMANDS}}}command").get("status") == "completed" and "was warned" in note.text
    await eve.expect(message_from(f"wallguide@{stack.en}", "mind the house rules"))

    alice.send_raw(
        f"<iq type='set' to='{watch}' id='ah-4'><command xmlns='{NS_COMMANDS}' node='warn' action='execute'/></iq>"
    )
    await alice.expect(error_from(watch, "forbidden", kind="iq", stanza_id="ah-4"))


async def test_members_report_with_an_ad_hoc_command(stack: Stack, connect) -> None:
    dan, carol, wendy = await connect("dan"), await connect("carol"), await connect("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    carol.send_chat(stack.pseudonym_jid("dan"), "an unkind message")
    await dan.expect(message_from(stack.pseudonym_jid("carol"), "an unkind message"))
    guide = f"wallguide@{stack.en}"
    mark = dan.mark()
    dan.send_raw(f"<iq type='set' to='{guide}' id='rp-1'><command xmlns='{NS_COMMANDS}' node='report'/></iq>")
    form = await dan.expect(lambda e: e.get("id") == "rp-1", start=mark)
    command = form.find(f"{{{NS_COMMANDS}}}command")
    assert {f.get("var") for f in command.iter("{jabber:x:data}field")} == {"who", "reason"}
    dan.send_raw(
        f"<iq type='set' to='{guide}' id='rp-2'><command xmlns='{NS_COMMANDS}' node='report'"
        f" sessionid='{command.get('sessionid')}'><x xmlns='jabber:x:data' type='submit'>"
        "<field var='who'><value>quiet-lynx</value></field><field var='reason'><value>rude to me</value></field>"
        "</x></command></iq>"
    )
    done = await dan.expect(lambda e: e.get("id") == "rp-2", start=mark)
    assert done.find(f"{{{NS_COMMANDS}}}command").get("status") == "completed"
    entry = await wendy.expect(groupchat(queue, "steady-moose → quiet-lynx"))
    assert "rude to me" in (body_of(entry) or "")


async def test_an_ongoing_guide_thread_keeps_one_queue_entry_until_resolved(stack: Stack, connect) -> None:
    frank, wendy = await connect("frank"), await connect("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    guide = f"wallguide@{stack.en}"
    frank.send_chat(guide, "first message to the guides")
    entry = await wendy.expect(groupchat(queue, "kind-robin"))
    number = re.match(r"#(\d+)", body_of(entry) or "").group(1)
    mark = wendy.mark()
    frank.send_chat(guide, "second message, same thread")
    await wendy.expect_nothing(groupchat(queue, "kind-robin"), wait=1.0, start=mark)
    say(wendy, queue, f"!resolve {number} talked it through")
    await wendy.expect(groupchat(queue, f"#{number} is resolved"))
    frank.send_chat(guide, "a new worry, days later")
    await wendy.expect(
        lambda e: "kind-robin" in (body_of(e) or "") and f"#{number} " not in (body_of(e) or ""), start=mark
    )
