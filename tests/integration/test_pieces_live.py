"""Personal information sent in pieces, across messages, with the real policies through a real Prosody."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from tests.integration.conftest import Stack
from tests.support.client import Client, body_of, message_from
from tests.support.muc import groupchat, join, say

NS_RETRACT = "{urn:xmpp:message-retract:1}retract"


def member_id(stack: Stack, name: str) -> int:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return int(db.execute("SELECT id FROM members WHERE account = ?", (stack.accounts[name].jid,)).fetchone()[0])


def archived(stack: Stack, conversation: str) -> list[tuple[str | None, str | None, str]]:
    """(body shown, original kept for moderators, verdict) of a conversation's messages, oldest first."""
    with sqlite3.connect(stack.chatd.store_path) as db:
        return db.execute(
            "SELECT body, original, verdict FROM messages WHERE conversation = ? ORDER BY seq", (conversation,)
        ).fetchall()


def retracted_ids(client: Client, start: int) -> set[str]:
    return {r.get("id") for e in client.received[start:] if (r := e.find(NS_RETRACT)) is not None}


async def test_a_phone_number_in_three_chat_messages_is_taken_back(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    eve, frank, wendy = await connect_policy("eve"), await connect_policy("frank"), await connect_policy("wendy")
    low, high = sorted((member_id(stack, "eve"), member_id(stack, "frank")))
    shadow = f"en-dm-{low}-{high}@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    mark = frank.mark()
    to, sender = stack.pseudonym_jid("frank"), stack.pseudonym_jid("eve")
    pieces = [("my number is 613", "my number"), ("555", "555"), ("0142 text me", "text me")]
    for index, (text, seen) in enumerate(pieces):
        eve.send_raw(f"<message to='{to}' type='chat' id='piece-{index}'><body>{text}</body></message>")
        await frank.expect(message_from(sender, seen), start=mark)

    notice = await eve.expect(message_from(f"wallguide@{stack.en}", "removed for everyone"))
    assert "2 of them" in (body_of(notice) or "") and "phone" in (body_of(notice) or "")
    await frank.expect(lambda e: retracted_ids(frank, mark) >= {"piece-0", "piece-1"}, start=mark)
    shown = [
        body_of(e) or ""
        for e in frank.received[mark:]
        if e.get("from", "").startswith(sender) and e.get("id") not in retracted_ids(frank, mark)
        and e.find(NS_RETRACT) is None
    ]  # fmt: skip
    assert shown == ["[phone number removed] text me"]

    joined = await wendy.expect(groupchat(shadow, "my number is 613 555 0142 text me"))
    assert "pii.phone" in (body_of(joined) or "")
    rows = archived(stack, f"dm:{low}:{high}")[-3:]
    assert [row[0] for row in rows] == ["", "", "[phone number removed] text me"]  # earlier ones: tombstones
    assert [row[1] for row in rows] == ["my number is 613", "555", "0142 text me"]  # kept for the guides


async def test_a_phone_number_in_three_room_messages_is_taken_back_in_french(
    policy_stack: Stack, connect_policy
) -> None:
    denise, gilles, gaston = (
        await connect_policy("denise"),
        await connect_policy("gilles"),
        await connect_policy("gaston"),
    )
    room = "militaire@rooms.fr.localhost"
    shadow = "fr-room-militaire@watch.localhost"
    await join(gaston, shadow, "sage-hibou")
    await join(denise, room, "doux-castor")
    await join(gilles, room, "calme-loutre")
    mark = gilles.mark()
    stanza_ids = []
    for text, shown in [
        ("mon numéro c'est le 514", "mon numéro"),
        ("cinq cinq cinq", "cinq"),
        ("zéro un neuf neuf", "["),
    ]:
        say(denise, room, text)
        seen = await gilles.expect(groupchat(room, shown), start=mark)
        stanza_ids.append(seen.find("{urn:xmpp:sid:0}stanza-id").get("id"))

    notice = await denise.expect(groupchat(room, "retirés pour tout le monde"))
    assert "2 d’entre eux" in (body_of(notice) or "")
    await gilles.expect(lambda e: retracted_ids(gilles, mark) >= set(stanza_ids[:2]), start=mark)
    retraction = next(e for e in gilles.received[mark:] if e.find(NS_RETRACT) is not None)
    assert retraction.find(NS_RETRACT).find("{urn:xmpp:message-moderate:1}moderated") is not None
    last = [e for e in gilles.received[mark:] if e.find("{urn:xmpp:sid:0}stanza-id") is not None][-1]
    assert last.find("{urn:xmpp:sid:0}stanza-id").get("id") == stanza_ids[2]
    assert "zéro un neuf neuf" not in (body_of(last) or "") and "[numéro" in (body_of(last) or "")
    assert not [e for e in gilles.received[mark:] if "retirés pour tout le monde" in (body_of(e) or "")]

    joined = await gaston.expect(groupchat(shadow, "mon numéro c'est le 514 cinq cinq cinq zéro un neuf neuf"))
    assert "pii.phone" in (body_of(joined) or "")

    mam = gilles.mark()
    gilles.send_raw(f"<iq type='set' to='{room}' id='mam-pieces'><query xmlns='urn:xmpp:mam:2' queryid='qp'/></iq>")
    await gilles.expect(lambda e: e.get("id") == "mam-pieces" and e.get("type") == "result", start=mam)
    history = {
        r.get("id"): ET.tostring(r, encoding="unicode")
        for e in gilles.received[mam:]
        if (r := e.find("{urn:xmpp:mam:2}result")) is not None
    }
    for stanza_id in stanza_ids[:2]:
        assert "retracted" in history[stanza_id] and "514" not in history[stanza_id]
    assert "cinq cinq cinq" not in " ".join(history.values())


async def test_a_clean_sequence_with_numbers_is_delivered_untouched(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    gina, hank = await connect_policy("gina"), await connect_policy("hank")
    marks = {"gina": gina.mark(), "hank": hank.mark()}
    texts = ["day 3", "30 days", "rated it 2", "I have 2 kids, 4 and 7"]  # new members may send 4 at once
    for text in texts:
        gina.send_chat(stack.pseudonym_jid("hank"), text)
        got = await hank.expect(message_from(stack.pseudonym_jid("gina"), text), start=marks["hank"])
        assert body_of(got) == text
    room = "general@rooms.en.localhost"
    await join(gina, room, "gentle-crane")
    await join(hank, room, "humble-bison")
    for text in texts:
        say(hank, room, text)
        got = await gina.expect(groupchat(room, text), start=marks["gina"])
        assert body_of(got) == text
    for client, start in ((gina, marks["gina"]), (hank, marks["hank"])):
        await client.expect_nothing(lambda e: e.find(NS_RETRACT) is not None, wait=0.5, start=start)
        assert not [e for e in client.received[start:] if "removed" in (body_of(e) or "")]


async def test_an_email_in_private_room_messages_is_taken_back(policy_stack: Stack, connect_policy) -> None:
    carol, dan, wendy = await connect_policy("carol"), await connect_policy("dan"), await connect_policy("wendy")
    room, shadow = "military@rooms.en.localhost", "en-room-military@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    await join(carol, room, "quiet-lynx")
    await join(dan, room, "steady-moose")
    mark = dan.mark()
    sender = f"{room}/quiet-lynx"
    for index, (text, shown) in enumerate([("write me: john dot smith", "write me"), ("at gmail", "at gmail"),
                                           ("dot com", "[")]):  # fmt: skip
        carol.send_raw(
            f"<message to='{room}/steady-moose' type='chat' id='pm-piece-{index}'><body>{text}</body>"
            "<x xmlns='http://jabber.org/protocol/muc#user'/></message>"
        )
        await dan.expect(message_from(room, shown), start=mark)

    await dan.expect(lambda e: retracted_ids(dan, mark) >= {"pm-piece-0", "pm-piece-1"}, start=mark)
    retraction = next(e for e in dan.received[mark:] if e.find(NS_RETRACT) is not None)
    assert retraction.get("from") == sender and retraction.get("type") == "chat"
    last = [body_of(e) for e in dan.received[mark:] if e.get("id") == "pm-piece-2"]
    assert last == ["[email removed]"]
    notice = await carol.expect(groupchat(room, "removed for everyone"))
    assert "steady-moose" in (body_of(notice) or "") and "email" in (body_of(notice) or "")
    joined = await wendy.expect(groupchat(shadow, "write me: john dot smith at gmail dot com"))
    assert "pii.email" in (body_of(joined) or "") and "steady-moose" in (body_of(joined) or "")


@dataclass
class DirectChat:
    """One member writing to another's pseudonym, with a Wall Guide in the conversation's shadow room."""

    stack: Stack
    author: Client
    reader: Client
    guide: Client
    names: tuple[str, str]  # author, reader

    @property
    def key(self) -> str:
        low, high = sorted(member_id(self.stack, name) for name in self.names)
        return f"dm:{low}:{high}"

    @classmethod
    async def open(cls, stack: Stack, connect, author: str, reader: str, guide: str, nick: str) -> DirectChat:
        """The author's and the reader's clients, and the guide (nick) in the conversation's shadow room."""
        chat = cls(stack, await connect(author), await connect(reader), await connect(guide), (author, reader))
        realm, low, high = stack.accounts[author].realm, *chat.key.split(":")[1:]
        await join(chat.guide, f"{realm}-dm-{low}-{high}@watch.localhost", nick)
        return chat

    async def taken_back(self, pieces: list[tuple[str, str]], prefix: str, told: str, kind: str, kept: str) -> None:
        """Sends the pieces (text, part the reader is expected to get) one after the other; then the earlier
        ones are retracted, the reader keeps only `kept`, the author is told (`told`), the guide sees the
        texts joined with the kind found, and the archive keeps the originals."""
        stack, (author, reader) = self.stack, self.names
        to, sender = stack.pseudonym_jid(reader), stack.pseudonym_jid(author)
        notices, mark = self.author.mark(), self.reader.mark()
        for index, (text, seen) in enumerate(pieces):
            body = f"<body>{text}</body>"
            self.author.send_raw(f"<message to='{to}' type='chat' id='{prefix}-{index}'>{body}</message>")
            await self.reader.expect(message_from(sender, seen), start=mark)
        realm = stack.accounts[author].realm
        notice = await self.author.expect(message_from(f"wallguide@{realm}.localhost", told), start=notices)
        assert stack.accounts[reader].pseudonym in (body_of(notice) or "")
        earlier = {f"{prefix}-{index}" for index in range(len(pieces) - 1)}
        await self.reader.expect(lambda e: retracted_ids(self.reader, mark) >= earlier, start=mark)
        gone = retracted_ids(self.reader, mark)
        shown = [
            body_of(e) or ""
            for e in self.reader.received[mark:]
            if e.get("from", "").startswith(sender) and e.get("id") not in gone and e.find(NS_RETRACT) is None
        ]
        assert shown == [kept]
        joined = await self.guide.expect(lambda e: " ".join(t for t, _ in pieces) in (body_of(e) or ""))
        assert kind in (body_of(joined) or "")
        rows = archived(stack, self.key)[-len(pieces) :]
        assert rows == [*(("", text, "removed") for text, _ in pieces[:-1]), (kept, pieces[-1][0], "redact")]


async def test_an_address_in_two_chat_messages_is_taken_back(policy_stack: Stack, connect_policy) -> None:
    chat = await DirectChat.open(policy_stack, connect_policy, "dan", "carol", "wendy", "sturdy-owl")
    pieces = [("come by 118 birchwood", "come by 118 birchwood"), ("apt 2 after supper", "after supper")]
    await chat.taken_back(pieces, "address", "1 of them were removed", "pii.address", "[address removed] after supper")


async def test_an_address_then_an_email_in_pieces_are_taken_back_in_french(policy_stack: Stack, connect_policy) -> None:
    chat = await DirectChat.open(policy_stack, connect_policy, "gilles", "denise", "gaston", "sage-hibou")
    told = "1 d’entre eux ont été retirés"
    await chat.taken_back([("au 42 des érables", "érables"), ("app. 3", "[")], "adresse", told, "pii.address",
                          "[adresse retirée]")  # fmt: skip
    pieces = [("écris à marie point tremblay", "marie point tremblay"), ("arobase hotmail point com", "[")]
    await chat.taken_back(pieces, "courriel", told, "pii.email", "[courriel retiré]")
