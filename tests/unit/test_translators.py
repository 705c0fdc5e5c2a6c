"""The XMPP translators without a network: stanzas in (as Prosody would pass them), stanzas and store out."""

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatd import i18n, wiring
from chatd.core.shadow import Reviewed
from chatd.runtime import Runtime
from chatd.xmpp import adhoc
from chatd.xmpp.ns import NS_COMMANDS, NS_DISCO_ITEMS, NS_STANZAS
from chatd.xmpp.people import PeopleDomain
from chatd.xmpp.rooms import RoomsDomain, TopicRoom
from chatd.xmpp.watch import WatchDomain
from policies import Action
from tests.support.harness import EN, Recorder, Stream, make_runtime

ROOM = f"general@{EN.rooms_domain}"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await make_runtime(tmp_path, Recorder())
    yield rt
    await rt.queues.idle()
    await rt.store.close()


def stanza(xml: str) -> ET.Element:
    return ET.fromstring(xml.replace("<message ", "<message xmlns='jabber:component:accept' ", 1)
                         .replace("<presence ", "<presence xmlns='jabber:component:accept' ", 1))  # fmt: skip


def stream_of(rt: Runtime, domain: str) -> Stream:
    stream = rt.streams[domain]
    assert isinstance(stream, Stream)
    return stream


async def joined_room(rt: Runtime) -> RoomsDomain:
    rooms = wiring.rooms(rt, EN, [TopicRoom("general", "General")], wiring.executor(rt))
    await rooms.load()
    stream = stream_of(rt, EN.rooms_domain)
    for full, nick in (("alex@localhost/phone", "calm-otter"), ("sam@localhost/laptop", "brave-heron")):
        x = "<x xmlns='http://jabber.org/protocol/muc'/>"
        rooms.handle(stream, stanza(f"<presence from='{full}' to='{ROOM}/{nick}'>{x}</presence>"))  # type: ignore[arg-type]
    await rt.queues.idle()
    stream.sent.clear()
    return rooms


async def test_a_room_message_is_archived_then_reaches_every_occupant(runtime: Runtime) -> None:
    rooms = await joined_room(runtime)
    stream = stream_of(runtime, EN.rooms_domain)
    message = (
        f"<message from='alex@localhost/phone' to='{ROOM}' type='groupchat' id='m1'><body>hello all</body></message>"
    )
    rooms.handle(stream, stanza(message))  # type: ignore[arg-type]
    await runtime.queues.idle()
    copies = [part for s in stream.sent for part in s.split("<message to=")[1:] if "hello all" in part]
    assert sorted(c.split('"')[1] for c in copies) == ["alex@localhost/phone", "sam@localhost/laptop"]
    assert len([s for s in stream.sent if "hello all" in s]) == 1  # the fan-out writes every copy at once
    assert all("urn:xmpp:sid:0" in c and "calm-otter" in c for c in copies)
    archived = await runtime.store.conversation("room:en:general")
    welcome = i18n.text("en", "welcome.room", room="General", name="calm-otter", guide=EN.guide_jid)
    assert [(m.body, m.verdict, m.client_id) for m in archived] == [
        ("hello all", "deliver", "m1"),
        (welcome, "deliver", None),  # the author's first post in a topic room: the guides' welcome
    ]


async def test_a_held_room_message_reaches_nobody_and_its_author_is_told_in_the_room(runtime: Runtime) -> None:
    rooms = await joined_room(runtime)
    stream = stream_of(runtime, EN.rooms_domain)
    runtime.moderation.policy.action = Action.HOLD  # type: ignore[attr-defined]
    message = (
        f"<message from='alex@localhost/phone' to='{ROOM}' type='groupchat' id='m2'><body>call me</body></message>"
    )
    rooms.handle(stream, stanza(message))  # type: ignore[arg-type]
    await runtime.queues.idle()
    assert not [s for s in stream.sent if "call me" in s]
    told = [s for s in stream.sent if "alex@localhost/phone" in s]
    assert len(told) == 1 and "sam@localhost" not in told[0] and f'from="{ROOM}"' in told[0]
    archived = await runtime.store.conversation("room:en:general")
    assert [(m.body, m.original, m.verdict) for m in archived] == [(None, "call me", "hold")]


async def test_a_refused_chat_message_gets_one_error_and_nothing_is_archived(runtime: Runtime) -> None:
    people = wiring.people(runtime, EN, wiring.executor(runtime))
    stream = stream_of(runtime, EN.people_domain)
    runtime.moderation.policy.action = Action.REJECT  # type: ignore[attr-defined]
    to = f"brave-heron@{EN.people_domain}"
    message = f"<message from='alex@localhost/phone' to='{to}' type='chat' id='c1'><body>x</body></message>"
    people.handle(stream, stanza(message))  # type: ignore[arg-type]
    await runtime.queues.idle()
    errors = [s for s in stream.sent if "type='error'" in s or 'type="error"' in s]
    assert len(errors) == 1 and "not-acceptable" in errors[0] and "c1" in errors[0]
    assert not [s for s in stream.sent if "sam@localhost" in s]
    rows = await runtime.store.conversation("dm:1:2")
    assert [(r.body, r.verdict) for r in rows] == [(None, "reject")]  # kept for the guides, delivered to nobody


async def chat(rt: Runtime, people: PeopleDomain, message_id: str, text: str) -> None:
    """calm-otter writes to brave-heron, as Prosody would pass it on; returns when the work is done."""
    to = f"brave-heron@{EN.people_domain}"
    message = (
        f"<message from='alex@localhost/phone' to='{to}' type='chat' id='{message_id}'><body>{text}</body></message>"
    )
    people.handle(stream_of(rt, EN.people_domain), stanza(message))  # type: ignore[arg-type]
    await rt.queues.idle()


async def test_a_chat_message_is_archived_reviewed_then_delivered_from_the_senders_pseudonym(runtime: Runtime) -> None:
    stream = stream_of(runtime, EN.people_domain)
    reviewed: list[Reviewed] = []
    runtime.signals.review_listeners.append(reviewed.append)
    await chat(runtime, wiring.people(runtime, EN, wiring.executor(runtime)), "c2", "how are you")
    delivered = [s for s in stream.sent if "how are you" in s]
    assert len(delivered) == 1
    assert "sam@localhost" in delivered[0] and f"calm-otter@{EN.people_domain}" in delivered[0]
    rows = await runtime.store.conversation("dm:1:2")
    assert [(r.body, r.verdict, r.client_id) for r in rows] == [("how are you", "deliver", "c2")]
    assert [(r.conversation, r.original, r.verdict.action) for r in reviewed] == [
        ("dm:1:2", "how are you", Action.DELIVER)
    ]


async def test_a_held_chat_message_reaches_nobody_and_its_author_is_told_by_wallguide(runtime: Runtime) -> None:
    stream = stream_of(runtime, EN.people_domain)
    runtime.moderation.policy.action = Action.HOLD  # type: ignore[attr-defined]
    reviewed: list[Reviewed] = []
    runtime.signals.review_listeners.append(reviewed.append)
    await chat(runtime, wiring.people(runtime, EN, wiring.executor(runtime)), "c3", "call me")
    assert not [s for s in stream.sent if "sam@localhost" in s or "call me" in s]
    told = [s for s in stream.sent if "alex@localhost" in s]
    assert len(told) == 1 and EN.guide_jid in told[0]
    assert i18n.text("en", "notice.held", target="brave-heron") in told[0]
    rows = await runtime.store.conversation("dm:1:2")
    assert [(r.body, r.original, r.verdict) for r in rows] == [(None, "call me", "hold")]
    assert [(r.original, r.verdict.action) for r in reviewed] == [("call me", Action.HOLD)]  # the guides see it


def watch_domain(rt: Runtime) -> WatchDomain:
    """The watch domain with the en realm's shadow rooms (no audit: no guide action is run)."""
    rooms = wiring.rooms(rt, EN, [TopicRoom("general", "General")], wiring.executor(rt))
    domain = rt.config.watch.domain
    rt.streams[domain] = Stream()  # type: ignore[assignment]
    shadows = {"en": wiring.shadow_rooms(rt, EN, domain, wiring.desk(rt), rooms, None)}  # type: ignore[arg-type]
    return wiring.watch(rt, domain, shadows)


async def test_every_reviewed_text_is_mirrored_into_its_conversations_shadow_room(runtime: Runtime) -> None:
    watch_domain(runtime)
    await chat(runtime, wiring.people(runtime, EN, wiring.executor(runtime)), "c4", "good morning")
    lines = await runtime.store.conversation("watch:en-dm-1-2")
    assert len(lines) == 1 and lines[0].body is not None and "good morning" in lines[0].body


async def test_the_watch_domain_refuses_a_shadow_of_no_conversation_and_lists_guides_ad_hoc_commands(
    runtime: Runtime,
) -> None:
    watch = watch_domain(runtime)
    domain = watch.domain
    stream = stream_of(runtime, domain)
    guide = "guide@localhost/desk"
    to_missing = f"<message from='{guide}' to='en-dm-1-9@{domain}' type='groupchat' id='m1'><body>hi</body></message>"
    watch.handle(stream, stanza(to_missing))  # type: ignore[arg-type]
    listing = f"<query xmlns='{NS_DISCO_ITEMS}' node='{NS_COMMANDS}'/>"
    iq = f"<iq xmlns='jabber:component:accept' type='get' id='q1' from='{guide}' to='{domain}'>{listing}</iq>"
    watch.handle(stream, ET.fromstring(iq))  # type: ignore[arg-type]
    await runtime.queues.idle()
    refused, answered = (ET.fromstring(s) for s in stream.sent)
    assert (refused.get("type"), refused.get("id"), refused.get("from")) == ("error", "m1", f"en-dm-1-9@{domain}")
    error = refused.find("error")
    assert error is not None and error.find(f"{{{NS_STANZAS}}}item-not-found") is not None
    texts = [t.text for t in error.findall(f"{{{NS_STANZAS}}}text")]
    assert texts == [i18n.text("en", "error.room_not_found", name="en-dm-1-9")]
    assert "en-dm-1-9" not in watch.realms["en"].rooms  # no shadow is made for it
    assert (answered.get("type"), answered.get("id"), answered.get("to")) == ("result", "q1", guide)
    items = answered.findall(f"{{{NS_DISCO_ITEMS}}}query/{{{NS_DISCO_ITEMS}}}item")
    assert [i.get("node") for i in items] == [v.value for v in adhoc.OFFERED]
    assert {i.get("jid") for i in items} == {domain}


async def test_an_oversized_ad_hoc_command_is_refused_like_any_oversized_stanza(runtime: Runtime) -> None:
    watch = watch_domain(runtime)
    stream = stream_of(runtime, watch.domain)
    padding = "x" * (runtime.config.limits.max_stanza_bytes + 1)
    command = f"<command xmlns='{NS_COMMANDS}' node='mute' action='execute'><note>{padding}</note></command>"
    head = f"<iq xmlns='jabber:component:accept' type='set' id='big' from='guide@localhost/desk' to='{watch.domain}'>"
    iq = f"{head}{command}</iq>"
    watch.handle(stream, ET.fromstring(iq))  # type: ignore[arg-type]
    await runtime.queues.idle()
    (refused,) = (ET.fromstring(s) for s in stream.sent)
    assert (refused.get("type"), refused.get("id")) == ("error", "big")
    error = refused.find("error")
    assert error is not None and error.find(f"{{{NS_STANZAS}}}policy-violation") is not None
