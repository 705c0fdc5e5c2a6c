"""The message features of everyday clients, as they send them, through a real Prosody and chatd.

Reactions as Conversations and Dino send them (XEP-0444, no body), replies with a quoted fallback (XEP-0461),
read markers (XEP-0333), retractions as Gajim (retract:1) and older clients (the fastened form) send them
(XEP-0424), and removal by a group's owner as Gajim sends it (XEP-0425).
"""

from __future__ import annotations

import itertools
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator

import pytest

from chatd import i18n
from tests.integration.conftest import Stack, running_stack
from tests.integration.test_wall_guides import message_id
from tests.support.client import Client, Match, body_of, error_from, error_texts, message_from, tag
from tests.support.muc import groupchat, join, say

NS_REACTIONS = "urn:xmpp:reactions:0"
NS_REPLY = "urn:xmpp:reply:0"
NS_FALLBACK = "urn:xmpp:fallback:0"
NS_MARKERS = "urn:xmpp:chat-markers:0"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_SID = "urn:xmpp:sid:0"
NS_MAM = "urn:xmpp:mam:2"
GAJIM_FALLBACK = "/me retracted a previous message, but it's unsupported by your client."

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack: its reports and retractions stay out of other tests' queues and archives."""
    with running_stack(tmp_path_factory, "client-messages") as running:
        yield running


def new_id() -> str:
    return f"cm{next(_ids)}"


def send(client: Client, to: str, inner: str, kind: str = "chat", stanza_id: str | None = None) -> str:
    stanza_id = stanza_id or new_id()
    client.send_raw(f"<message to='{to}' type='{kind}' id='{stanza_id}'>{inner}</message>")
    return stanza_id


def reaction(message_id: str, *emoji: str) -> str:
    chosen = "".join(f"<reaction>{e}</reaction>" for e in emoji)
    return f"<reactions xmlns='{NS_REACTIONS}' id='{message_id}'>{chosen}</reactions><store xmlns='urn:xmpp:hints'/>"


def gajim_retraction(message_id: str) -> str:
    return (
        f"<retract xmlns='{NS_RETRACT}' id='{message_id}'/><fallback xmlns='{NS_FALLBACK}' for='{NS_RETRACT}'/>"
        f"<body>{GAJIM_FALLBACK}</body><store xmlns='urn:xmpp:hints'/>"
    )


def having(sender: str, path: str) -> Match:
    """A message from sender (a bare address, or room/nick) that has the element at path."""
    bare, _, nick = sender.partition("/")
    return lambda e: message_from(bare)(e) and (not nick or e.get("from") == sender) and e.find(path) is not None


def stanza_id_of(element: ET.Element) -> str:
    found = element.find(f"{{{NS_SID}}}stanza-id")
    assert found is not None
    return found.get("id", "")


def archived(stack: Stack, conversation_like: str, original: str) -> tuple[str | None, str | None, str]:
    with sqlite3.connect(stack.chatd.store_path) as db:
        row = db.execute(
            "SELECT body, original, verdict FROM messages WHERE conversation LIKE ? AND"
            " COALESCE(original, body) = ? ORDER BY seq DESC",
            (conversation_like, original),
        ).fetchone()
    assert row is not None
    return row


async def said_in_room(
    connect: Callable[[str], Awaitable[Client]], room: str, speaker: tuple[str, str], listener: tuple[str, str],
    text: str,
) -> tuple[Client, Client, ET.Element]:  # fmt: skip
    """Two members (name, pseudonym) join a room; the first says text; the copy the second got.

    A room not known yet is made a private group of the speaker's, who invites the listener."""
    first, second = await connect(speaker[0]), await connect(listener[0])
    await join(first, room, speaker[1])
    if not room.startswith(("general@", "military@")):
        invite = f"<invite to='{listener[1]}@en.localhost'/>"
        first.send_raw(f"<message to='{room}'><x xmlns='http://jabber.org/protocol/muc#user'>{invite}</x></message>")
        await second.expect(lambda e: (x := e.find("{jabber:x:conference}x")) is not None and x.get("jid") == room)
    await join(second, room, listener[1])
    send(first, room, f"<body>{text}</body>", "groupchat")
    return first, second, await second.expect(groupchat(room, text))


async def said_in_chat(
    stack: Stack, connect: Callable[[str], Awaitable[Client]], writer: str, reader: str, text: str
) -> tuple[Client, Client, str, str, str]:
    """Two members (account names) connect and the first writes text to the second: both clients, both
    pseudonym addresses and the message's id, once the second got it."""
    first, second = await connect(writer), await connect(reader)
    first_at, second_at = stack.pseudonym_jid(writer), stack.pseudonym_jid(reader)
    sent = send(first, second_at, f"<body>{text}</body>")
    await second.expect(message_from(first_at, text))
    return first, second, first_at, second_at, sent


async def gajim_retracts(
    stack: Stack, author: tuple[Client, str, str], reader: tuple[Client, str], sent: str, conversation_like: str,
    text: str,
) -> None:  # fmt: skip
    """The author (client, address written to, pseudonym) takes back sent as Gajim does; the reader (client, the
    author's address as seen) gets chatd's fallback, never Gajim's; the archive keeps the original for the guides."""
    (writer, to, name), (client, seen_from) = author, reader
    mark = client.mark()
    send(writer, to, gajim_retraction(sent))
    got = await client.expect(having(seen_from, f"{{{NS_RETRACT}}}retract"), start=mark)
    assert got.find(f"{{{NS_RETRACT}}}retract").get("id") == sent
    assert body_of(got) == i18n.text("en", "room.retracted_fallback", name=name)
    await client.expect_nothing(lambda e: GAJIM_FALLBACK in (body_of(e) or ""), wait=0.3, start=mark)
    assert archived(stack, conversation_like, text) == ("", text, "retracted")


def member_id(stack: Stack, name: str) -> int:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return int(db.execute("SELECT id FROM members WHERE account = ?", (stack.accounts[name].jid,)).fetchone()[0])


def dm_shadow(stack: Stack, one: str, other: str) -> str:
    low, high = sorted((member_id(stack, one), member_id(stack, other)))
    return f"en-dm-{low}-{high}@watch.localhost"


async def iq(client: Client, to: str, payload: str, kind: str = "set") -> ET.Element:
    stanza_id = new_id()
    client.send_raw(f"<iq type='{kind}' to='{to}' id='{stanza_id}'>{payload}</iq>")
    return await client.expect(lambda e: e.tag == tag("iq") and e.get("id") == stanza_id)


def condition_of(element: ET.Element) -> str:
    error = element.find(tag("error"))
    assert error is not None, ET.tostring(element, encoding="unicode")
    return next(iter(error)).tag.rpartition("}")[2]


# reactions (XEP-0444)


async def test_reactions_in_a_chat_carry_only_emoji(stack: Stack, connect) -> None:
    carol, dan, carol_at, dan_at, message = await said_in_chat(stack, connect, "carol", "dan", "first day back at work")

    mark = carol.mark()
    send(dan, carol_at, reaction(message, "👍", "❤️"))  # Conversations: no body, the reacted message's id
    got = await carol.expect(having(dan_at, f"{{{NS_REACTIONS}}}reactions"), start=mark)
    reactions = got.find(f"{{{NS_REACTIONS}}}reactions")
    assert reactions is not None and reactions.get("id") == message
    assert [r.text for r in reactions] == ["👍", "❤️"] and body_of(got) is None
    assert stack.accounts["dan"].jid not in ET.tostring(got, encoding="unicode")

    refused = send(dan, carol_at, reaction(message, "call me"))  # not an emoji: refused with a reason
    error = await dan.expect(error_from(carol_at, "not-acceptable", stanza_id=refused))
    assert error_texts(error)["en"] == i18n.text("en", "error.reaction_not_emoji")
    refused = send(dan, carol_at, f"<reactions xmlns='{NS_REACTIONS}'><reaction>👍</reaction></reactions>")
    await dan.expect(error_from(carol_at, "bad-request", stanza_id=refused))
    refused = send(dan, carol_at, reaction("no-such-message", "👍"))
    await dan.expect(error_from(carol_at, "item-not-found", stanza_id=refused))
    send(dan, carol_at, reaction(message))  # all reactions taken back: an empty set is carried
    await carol.expect(lambda e: (r := e.find(f"{{{NS_REACTIONS}}}reactions")) is not None and len(r) == 0)
    await carol.expect_nothing(lambda e: "call me" in ET.tostring(e, encoding="unicode"), wait=0.3, start=mark)


async def test_reactions_in_a_room_name_the_stanza_id_and_refuse_words_in_french(stack: Stack, connect) -> None:
    room = "general@rooms.en.localhost"
    eve, frank, said = await said_in_room(connect, room, ("eve", "swift-hare"), ("frank", "kind-robin"),
                                          "made it through the week")  # fmt: skip
    marks = {eve: eve.mark(), frank: frank.mark()}
    send(frank, room, reaction(stanza_id_of(said), "💪"), "groupchat")  # Dino: the room's stanza-id
    for client, mark in marks.items():  # reflected to the reactor too
        got = await client.expect(having(f"{room}/kind-robin", f"{{{NS_REACTIONS}}}reactions"), start=mark)
        assert got.find(f"{{{NS_REACTIONS}}}reactions").get("id") == stanza_id_of(said)

    denise = await connect("denise")
    salon = "general@rooms.fr.localhost"
    await join(denise, salon, "doux-castor")
    send(denise, salon, "<body>bonjour</body>", "groupchat")
    own = await denise.expect(groupchat(salon, "bonjour"))
    refused = send(denise, salon, reaction(stanza_id_of(own), "merci"), "groupchat")
    error = await denise.expect(error_from(salon, "not-acceptable", stanza_id=refused))
    assert error_texts(error)["fr"] == i18n.text("fr", "error.reaction_not_emoji")


async def test_reactions_and_retractions_in_a_rooms_private_messages(stack: Stack, connect) -> None:
    """A member messaging another occupant privately (MUC PM): carried as in a chat, by the author's own id."""
    room = "general@rooms.en.localhost"
    gina, hank, wendy = await connect("gina"), await connect("hank"), await connect("wendy")
    await join(gina, room, "gentle-crane")
    await join(hank, room, "humble-bison")
    gina_in, hank_in = f"{room}/gentle-crane", f"{room}/humble-bison"
    shadow = "en-room-general@watch.localhost"  # a room's private messages: in its shadow room
    await join(wendy, shadow, "sturdy-owl")
    asked = send(gina, hank_in, "<body>can I ask you something off the room?</body>")
    got = await hank.expect(lambda e: e.get("from") == gina_in and "off the room" in (body_of(e) or ""))
    assert got.get("id") == asked

    mark = gina.mark()
    send(hank, gina_in, reaction(asked, "👍"))  # the id both sides know it by: the author's own
    got = await gina.expect(having(hank_in, f"{{{NS_REACTIONS}}}reactions"), start=mark)
    assert got.get("type") == "chat" and got.find("{http://jabber.org/protocol/muc#user}x") is not None
    reactions = got.find(f"{{{NS_REACTIONS}}}reactions")
    assert reactions.get("id") == asked and [r.text for r in reactions] == ["👍"] and body_of(got) is None
    line = await wendy.expect(groupchat(shadow, "👍"))  # reviewed: the guides see it
    assert (line.get("from") or "").endswith("/humble-bison")
    refused = send(hank, gina_in, reaction(asked, "sure, ask"))
    error = await hank.expect(error_from(room, "not-acceptable", stanza_id=refused))
    assert error_texts(error)["en"] == i18n.text("en", "error.reaction_not_emoji")
    refused = send(hank, gina_in, reaction("never-sent", "👍"))
    await hank.expect(error_from(room, "item-not-found", stanza_id=refused))

    refused = send(hank, gina_in, f"<retract xmlns='{NS_RETRACT}' id='{asked}'/>")  # not hank's message
    await hank.expect(error_from(room, "forbidden", stanza_id=refused))
    await gajim_retracts(stack, (gina, hank_in, "gentle-crane"), (hank, gina_in), asked, "roompm:en:general:%",
                         "can I ask you something off the room?")  # fmt: skip
    await wendy.expect(groupchat(shadow, i18n.text("en", "watch.kind.retracted")))


# replies (XEP-0461)


async def test_replies_keep_their_reference_and_redact_the_quote(stack: Stack, connect) -> None:
    gina, hank, gina_at, hank_at, asked = await said_in_chat(stack, connect, "gina", "hank", "what helps you sleep?")

    quote = "> gentle-crane wrote:\n> what helps SECRET-CODE sleep?\n"
    body = f"{quote}a walk after dinner"  # Conversations: the quote, then the answer; the range marks the quote
    send(
        hank, gina_at,
        f"<body>{body}</body><reply xmlns='{NS_REPLY}' to='{gina_at}/phone' id='{asked}'/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' end='{len(quote)}'/></fallback>"
        f"<markable xmlns='{NS_MARKERS}'/>",
    )  # fmt: skip
    got = await gina.expect(message_from(hank_at, "a walk after dinner"))
    delivered = body_of(got) or ""
    assert "SECRET-CODE" not in delivered and "[email removed]" in delivered
    reply = got.find(f"{{{NS_REPLY}}}reply")
    assert reply is not None and reply.get("id") == asked
    assert reply.get("to") == stack.accounts["gina"].jid  # her own message: her own address
    span = got.find(f"{{{NS_FALLBACK}}}fallback/{{{NS_FALLBACK}}}body")
    assert span is not None and delivered[int(span.get("end", "0")) :] == "a walk after dinner"
    assert got.find(f"{{{NS_MARKERS}}}markable") is not None  # XEP-0333: read markers asked for

    mark = hank.mark()
    send(gina, hank_at, f"<displayed xmlns='{NS_MARKERS}' id='{asked}'/>")
    shown = await hank.expect(having(gina_at, f"{{{NS_MARKERS}}}displayed"), start=mark)
    assert shown.find(f"{{{NS_MARKERS}}}displayed").get("id") == asked

    own = send(hank, gina_at, f"<body>and tea</body><reply xmlns='{NS_REPLY}' to='{stack.accounts['hank'].jid}' "
                              f"id='{asked}x'/>")  # fmt: skip
    got = await gina.expect(message_from(hank_at, "and tea"))
    assert got.get("id") == own and got.find(f"{{{NS_REPLY}}}reply").get("to") == hank_at  # never the account

    refused = send(hank, gina_at, f"<body>hm</body><reply xmlns='{NS_REPLY}' to='{gina_at}'/>")
    await hank.expect(error_from(gina_at, "bad-request", stanza_id=refused))
    refused = send(
        hank, gina_at,
        f"<body>hm</body><reply xmlns='{NS_REPLY}' id='{asked}'/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' end='99'/></fallback>",
    )  # fmt: skip
    error = await hank.expect(error_from(gina_at, "bad-request", stanza_id=refused))
    assert error_texts(error)["en"] == i18n.text("en", "error.reply_malformed")


async def test_a_reply_in_a_room_names_the_stanza_id_and_a_quoted_report_is_filed(stack: Stack, connect) -> None:
    carol, dan = await connect("carol"), await connect("dan")
    room = "military@rooms.en.localhost"
    await join(carol, room, "quiet-lynx")
    await join(dan, room, "steady-moose")
    origin = send(carol, room, "<body>anyone else on nights?</body>", "groupchat")
    said = await dan.expect(groupchat(room, "anyone else on nights"))
    quote = "> anyone else on nights?\n"
    send(
        dan,
        room,
        f"<body>{quote}me, since May</body><reply xmlns='{NS_REPLY}' to='{room}/quiet-lynx' id='{origin}'/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' end='{len(quote)}'/></fallback>",
        "groupchat",
    )  # fmt: skip  -- a client that answers by the author's own id: mapped to the room's stanza-id
    got = await carol.expect(groupchat(room, "me, since May"))
    reply = got.find(f"{{{NS_REPLY}}}reply")
    assert reply is not None and reply.get("id") == stanza_id_of(said) and reply.get("to") == f"{room}/quiet-lynx"
    assert got.find(f"{{{NS_FALLBACK}}}fallback/{{{NS_FALLBACK}}}body").get("end") == str(len(quote))

    mark = carol.mark()
    send(
        dan, room,
        f"<body>{quote}!report mocking people</body><reply xmlns='{NS_REPLY}' id='{stanza_id_of(said)}'/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' end='{len(quote)}'/></fallback>",
        "groupchat",
    )  # fmt: skip
    await dan.expect(groupchat(room, i18n.text("en", "notice.report_received")[:30]))
    await carol.expect_nothing(lambda e: "mocking" in (body_of(e) or ""), wait=0.5, start=mark)


async def test_a_client_catching_up_from_the_room_archive_sees_reactions_and_reply_links(stack: Stack, connect) -> None:
    """Conversations joins with no history, then pages the room's archive (MAM) back from its end (Monal's forward
    catch-up from its last stanza-id: test_client_sources.py)."""
    room = "caught-up@rooms.en.localhost"
    carol, dan, said = await said_in_room(connect, room, ("carol", "quiet-lynx"), ("dan", "steady-moose"),
                                          "slept six hours straight")  # fmt: skip
    origin = stanza_id_of(said)
    quote = "> slept six hours straight\n"
    send(
        dan, room,
        f"<body>{quote}that is huge SECRET-CODE</body><reply xmlns='{NS_REPLY}' to='{room}/quiet-lynx' id='{origin}'/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' end='{len(quote)}'/></fallback>",
        "groupchat",
    )  # fmt: skip
    replied = await carol.expect(groupchat(room, "that is huge"))
    mark = carol.mark()
    send(dan, room, reaction(origin, "🎉", "💪"), "groupchat")
    live = await carol.expect(having(f"{room}/steady-moose", f"{{{NS_REACTIONS}}}reactions"), start=mark)
    refused = send(dan, room, reaction(origin, "great job"), "groupchat")  # words: refused, not archived
    await dan.expect(error_from(room, "not-acceptable", stanza_id=refused))
    mark = dan.mark()
    send(carol, room, reaction(origin, "🙏"), "groupchat")
    send(carol, room, reaction(origin), "groupchat")  # and taken back: an empty set
    await dan.expect(lambda e: (r := e.find(f"{{{NS_REACTIONS}}}reactions")) is not None and len(r) == 0, start=mark)

    phone = await connect("dan")  # another device, first time in the room
    start = phone.mark()
    phone.send_raw(f"<presence to='{room}/steady-moose'><x xmlns='http://jabber.org/protocol/muc'>"
                   "<history maxstanzas='0'/></x></presence>")  # fmt: skip
    await phone.expect(lambda e: e.find(tag("subject")) is not None, start=start)
    assert not [e for e in phone.received[start:] if e.tag == tag("message") and body_of(e)]  # no history
    rsm = "<set xmlns='http://jabber.org/protocol/rsm'><max>20</max><before/></set>"
    fin = await iq(phone, room, f"<query xmlns='{NS_MAM}' queryid='catch-up'>{rsm}</query>")
    assert fin.get("type") == "result"
    results = [r for e in phone.received[start:] if (r := e.find(f"{{{NS_MAM}}}result")) is not None]
    kept = {r.get("id"): r.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message") for r in results}
    assert next(iter(kept)) == origin and body_of(kept[origin]) == "slept six hours straight"

    reply = kept[stanza_id_of(replied)]  # the reply keeps its link and its quote's range; the text as delivered
    assert reply.find(f"{{{NS_REPLY}}}reply").attrib == {"id": origin, "to": f"{room}/quiet-lynx"}
    assert body_of(reply) == body_of(replied) and "SECRET-CODE" not in (body_of(reply) or "")
    assert reply.find(f"{{{NS_FALLBACK}}}fallback/{{{NS_FALLBACK}}}body").get("end") == str(len(quote))

    reactions = [(m.get("from"), m.find(f"{{{NS_REACTIONS}}}reactions")) for m in kept.values()]
    reactions = [(sender, [r.text for r in found], found.get("id")) for sender, found in reactions if found is not None]
    assert reactions == [
        (f"{room}/steady-moose", ["🎉", "💪"], origin),
        (f"{room}/quiet-lynx", ["🙏"], origin),
        (f"{room}/quiet-lynx", [], origin),
    ]
    assert stanza_id_of(live) in kept and body_of(kept[stanza_id_of(live)]) is None  # the id occupants saw live
    assert "great job" not in "".join(ET.tostring(r, encoding="unicode") for r in results)

    laptop = await connect("carol")  # a join that asks for history (Gajim, Dino) gets the same
    start = laptop.mark()
    await join(laptop, room, "quiet-lynx")
    await laptop.expect(lambda e: e.find(tag("subject")) is not None, start=start)
    delayed = [
        e for e in laptop.received[start:] if e.tag == tag("message") and e.find("{urn:xmpp:delay}delay") is not None
    ]
    history = {stanza_id_of(e): e for e in delayed}
    assert history[stanza_id_of(replied)].find(f"{{{NS_REPLY}}}reply").get("id") == origin
    shown = [(m.get("from"), [r.text for r in found]) for m in history.values()
             if (found := m.find(f"{{{NS_REACTIONS}}}reactions")) is not None]  # fmt: skip
    assert shown == [(sender, emoji) for sender, emoji, _ in reactions]


async def test_a_reaction_the_wall_guides_removed_is_gone_from_the_archive(stack: Stack, connect) -> None:
    room = "new-job@rooms.en.localhost"
    eve, frank, said = await said_in_room(connect, room, ("eve", "swift-hare"), ("frank", "kind-robin"),
                                          "my new job starts on monday")  # fmt: skip
    wendy, shadow = await connect("wendy"), "en-room-new-job@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    mark = eve.mark()
    send(frank, room, reaction(stanza_id_of(said), "🤡"), "groupchat")
    live = await eve.expect(having(f"{room}/kind-robin", f"{{{NS_REACTIONS}}}reactions"), start=mark)
    line = await wendy.expect(groupchat(shadow, "🤡"))  # archived now: the guides can act on it by its id
    short = message_id(body_of(line) or "")
    say(wendy, shadow, f"!edit {short} 👍 -- kinder")  # a reaction is not rewritten
    await wendy.expect(groupchat(shadow, i18n.text("en", "watch.reaction_not_edited", id=short)))
    say(wendy, shadow, f"!remove {short} mocking")
    await eve.expect(having(room, f"{{{NS_RETRACT}}}retract[@id='{stanza_id_of(live)}']"), start=mark)
    none_left = f"{{{NS_REACTIONS}}}reactions[@id='{stanza_id_of(said)}']"  # and the reactor's reactions: none
    await eve.expect(lambda e: having(f"{room}/kind-robin", none_left)(e) and len(e.find(none_left)) == 0, start=mark)

    start = eve.mark()
    await iq(eve, room, f"<query xmlns='{NS_MAM}' queryid='removed'/>")
    results = {r.get("id"): r for e in eve.received[start:] if (r := e.find(f"{{{NS_MAM}}}result")) is not None}
    removed = results[stanza_id_of(live)].find(f".//{{{NS_REACTIONS}}}reactions")
    assert removed is not None and removed.get("id") == stanza_id_of(said) and len(removed) == 0  # none left
    assert "🤡" not in "".join(ET.tostring(r, encoding="unicode") for r in results.values())


# retraction by the author (XEP-0424)


async def test_gajim_and_monal_retractions_in_a_chat(stack: Stack, connect) -> None:
    eve, frank, wendy = await connect("eve"), await connect("frank"), await connect("wendy")
    eve_at, frank_at = stack.pseudonym_jid("eve"), stack.pseudonym_jid("frank")
    shadow = dm_shadow(stack, "eve", "frank")
    await join(wendy, shadow, "sturdy-owl")
    sent = send(eve, frank_at, "<body>I said too much yesterday</body>")
    await frank.expect(message_from(eve_at, "too much yesterday"))

    await gajim_retracts(stack, (eve, frank_at, "swift-hare"), (frank, eve_at), sent, "dm:%",
                         "I said too much yesterday")  # fmt: skip
    line = await wendy.expect(groupchat(shadow, i18n.text("en", "watch.kind.retracted")))
    assert "I said too much yesterday" in (body_of(line) or "")

    refused = send(frank, eve_at, f"<retract xmlns='{NS_RETRACT}' id='{sent}'/>")  # not frank's message
    await frank.expect(error_from(eve_at, "forbidden", stanza_id=refused))
    refused = send(eve, frank_at, f"<retract xmlns='{NS_RETRACT}'/><body>{GAJIM_FALLBACK}</body>")
    await eve.expect(error_from(frank_at, "bad-request", stanza_id=refused))
    refused = send(eve, frank_at, f"<retract xmlns='{NS_RETRACT}' id='never-sent'/>")
    await eve.expect(error_from(frank_at, "item-not-found", stanza_id=refused))

    older = send(eve, frank_at, "<body>wrong chat, sorry</body>")
    await frank.expect(message_from(eve_at, "wrong chat"))
    send(
        eve,
        frank_at,
        f"<apply-to xmlns='urn:xmpp:fasten:0' id='{older}'><retract xmlns='urn:xmpp:message-retract:0'"
        "/></apply-to><fallback xmlns='urn:xmpp:fallback:0'/><body>This person attempted to retract "
        "a previous message, but it's unsupported by your client.</body>",
    )  # fmt: skip  -- the older form (Monal now sends retract:1: test_client_sources.py)
    got = await frank.expect(lambda e: (r := e.find(f"{{{NS_RETRACT}}}retract")) is not None and r.get("id") == older)
    assert "attempted" not in (body_of(got) or "")


async def test_retraction_in_a_room_leaves_a_tombstone_in_the_archive(stack: Stack, connect) -> None:
    room = "said-and-unsaid@rooms.en.localhost"  # its own group: other tests read topic rooms' archives
    gina, hank, said = await said_in_room(connect, room, ("gina", "gentle-crane"), ("hank", "humble-bison"),
                                          "posted in the wrong room")  # fmt: skip
    mark = hank.mark()
    send(gina, room, gajim_retraction(stanza_id_of(said)), "groupchat")
    got = await hank.expect(having(f"{room}/gentle-crane", f"{{{NS_RETRACT}}}retract"), start=mark)
    assert got.find(f"{{{NS_RETRACT}}}retract").get("id") == stanza_id_of(said)
    refused = send(hank, room, f"<retract xmlns='{NS_RETRACT}' id='{stanza_id_of(said)}'/>", "groupchat")
    await hank.expect(error_from(room, "forbidden", stanza_id=refused))

    await iq(hank, room, f"<query xmlns='{NS_MAM}' queryid='tomb'/>")
    results = {r.get("id"): r for e in hank.received if (r := e.find(f"{{{NS_MAM}}}result")) is not None}
    kept = ET.tostring(results[stanza_id_of(said)], encoding="unicode")
    assert f"{{{NS_RETRACT}}}retracted" in {x.tag for x in results[stanza_id_of(said)].iter()}
    assert "wrong room" not in kept


# removal by a group's owner (XEP-0425), and what rooms advertise


async def test_a_group_owner_removes_a_message_and_the_guides_see_what_and_by_whom(stack: Stack, connect) -> None:
    group = "owners-tools@rooms.en.localhost"
    gina, hank, _ = await said_in_room(
        connect, group, ("gina", "gentle-crane"), ("hank", "humble-bison"), "welcome, hank"
    )  # fmt: skip  -- gina made the group: she owns it
    wendy = await connect("wendy")
    await join(wendy, "en-room-owners-tools@watch.localhost", "sturdy-owl")
    send(hank, group, "<body>that was a stupid idea</body>", "groupchat")
    said = await gina.expect(groupchat(group, "stupid idea"))
    info = await iq(hank, group, "<query xmlns='http://jabber.org/protocol/disco#info'/>", "get")
    features = {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}
    assert {"http://jabber.org/protocol/muc#stable_id", f"{NS_RETRACT}#tombstone", NS_RETRACT, NS_MODERATE} <= features

    target = stanza_id_of(said)

    def moderate(reason: str, stanza_id: str = target) -> str:  # as Gajim sends it
        return (f"<moderate xmlns='{NS_MODERATE}' id='{stanza_id}'><retract xmlns='{NS_RETRACT}'/>"
                f"<reason>{reason}</reason></moderate>")  # fmt: skip

    assert condition_of(await iq(hank, group, moderate("mine"))) == "forbidden"  # not the owner
    assert condition_of(await iq(gina, group, moderate("REJECTME"))) == "not-acceptable"  # the reason is a text
    assert condition_of(await iq(gina, group, moderate("x", "nothing-here"))) == "item-not-found"
    malformed = await iq(gina, group, f"<moderate xmlns='{NS_MODERATE}' id='{target}'/>")
    assert condition_of(malformed) == "bad-request"
    assert error_texts(malformed)["en"] == i18n.text("en", "error.moderate_malformed")

    mark = hank.mark()
    assert (await iq(gina, group, moderate("please keep it kind"))).get("type") == "result"
    got = await hank.expect(lambda e: e.find(f"{{{NS_RETRACT}}}retract") is not None, start=mark)
    retract = got.find(f"{{{NS_RETRACT}}}retract")
    assert retract.get("id") == target and retract.findtext(f"{{{NS_RETRACT}}}reason") == "please keep it kind"
    assert retract.find(f"{{{NS_MODERATE}}}moderated").get("by") == f"{group}/gentle-crane"

    line = await wendy.expect(
        groupchat("en-room-owners-tools@watch.localhost", i18n.text("en", "watch.kind.moderated"))
    )
    assert (line.get("from") or "").endswith("/gentle-crane")  # by whom
    assert "that was a stupid idea" in (body_of(line) or "") and "humble-bison" in (body_of(line) or "")
    body, original, verdict = archived(stack, "room:en:owners-tools", "that was a stupid idea")
    assert (body, original, verdict) == ("", "that was a stupid idea", "removed")
