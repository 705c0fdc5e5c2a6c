"""Topic rooms and private groups through a real Prosody and a real chatd process."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from tests.integration.conftest import Stack
from tests.support.client import Client, Match, body_of, error_from, error_texts, message_from, tag

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = f"{NS_MUC}#user"
NS_MUC_ADMIN = f"{NS_MUC}#admin"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DELAY = "urn:xmpp:delay"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
_ids = itertools.count(1)


def rooms(stack: Stack) -> str:
    return stack.chatd.realms[0].rooms_domain


def room_jid(stack: Stack, local: str) -> str:
    return f"{local}@{rooms(stack)}"


def presence_from(sender: str, *codes: str, kind: str | None = None) -> Match:
    """A presence from room/nick carrying every status code given."""

    def match(element: ET.Element) -> bool:
        if element.tag != tag("presence") or element.get("from") != sender or element.get("type") != kind:
            return False
        return set(codes) <= set(status_codes(element))

    return match


def status_codes(element: ET.Element) -> list[str]:
    x = element.find(f"{{{NS_MUC_USER}}}x")
    return [s.get("code", "") for s in x.findall(f"{{{NS_MUC_USER}}}status")] if x is not None else []


def iq_result(stanza_id: str) -> Match:
    return lambda e: e.tag == tag("iq") and e.get("id") == stanza_id and e.get("type") in ("result", "error")


async def join(client: Client, stack: Stack, local: str, nick: str, history: str = "") -> ET.Element:
    """Joins and waits for the subject, the last stanza of a join; returns it."""
    mark = client.mark()
    client.send_raw(f"<presence to='{room_jid(stack, local)}/{nick}'><x xmlns='{NS_MUC}'>{history}</x></presence>")
    return await client.expect(
        lambda e: (
            e.tag == tag("message")
            and e.find(tag("subject")) is not None
            and (e.get("from") or "").startswith(room_jid(stack, local))
        ),
        start=mark,
    )


async def iq(client: Client, to: str, payload: str, kind: str = "get") -> ET.Element:
    stanza_id = f"q{next(_ids)}"
    client.send_raw(f"<iq type='{kind}' to='{to}' id='{stanza_id}'>{payload}</iq>")
    return await client.expect(iq_result(stanza_id))


def say(client: Client, to: str, body: str, kind: str = "groupchat") -> str:
    stanza_id = f"m{next(_ids)}"
    client.send_raw(f"<message to='{to}' type='{kind}' id='{stanza_id}'><body>{body}</body></message>")
    return stanza_id


def account_jids(stack: Stack) -> list[str]:
    return [a.jid for a in stack.accounts.values()]


def reveals_account(stack: Stack, client: Client, start: int = 0) -> list[str]:
    """Stanzas from the rooms domain that name any account other than in their `to`."""
    found = []
    for element in client.received[start:]:
        if not (element.get("from") or "").endswith(rooms(stack)) and rooms(stack) not in (element.get("from") or ""):
            continue
        copy = ET.fromstring(ET.tostring(element))
        copy.attrib.pop("to", None)
        text = ET.tostring(copy, encoding="unicode")
        found += [jid for jid in account_jids(stack) if jid in text]
    return found


# joining


async def test_join_order_status_codes_and_rewritten_nick(stack: Stack, connect) -> None:
    carol, alice = await connect("carol"), await connect("alice")
    await join(carol, stack, "general", "quiet-lynx")
    mark = alice.mark()
    general = room_jid(stack, "general")
    await join(alice, stack, "general", "Alice S.")
    got = alice.received[mark:]
    presences = [e for e in got if e.tag == tag("presence")]
    own = next(i for i, e in enumerate(got) if "110" in status_codes(e))
    carol_at = next(i for i, e in enumerate(got) if e.get("from") == f"{general}/quiet-lynx")
    subject_at = next(i for i, e in enumerate(got) if e.find(tag("subject")) is not None)
    assert carol_at < own < subject_at
    assert got[own].get("from") == f"{general}/calm-otter"
    assert {"110", "210"} <= set(status_codes(got[own]))
    assert "201" not in status_codes(got[own])
    assert "100" not in status_codes(got[own])  # semi-anonymous
    for presence in presences:
        item = presence.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
        assert item is not None and item.get("jid") is None
        assert presence.find(f"{{{NS_OCCUPANT_ID}}}occupant-id") is not None
    seen = await carol.expect(presence_from(f"{general}/calm-otter"))
    assert "110" not in status_codes(seen)
    assert reveals_account(stack, alice) == [] and reveals_account(stack, carol) == []


async def test_other_realm_and_non_members_are_refused(stack: Stack, connect) -> None:
    denise, mallory = await connect("denise"), await connect("mallory")
    general = room_jid(stack, "general")
    denise.send_raw(f"<presence to='{general}/doux-castor'><x xmlns='{NS_MUC}'/></presence>")
    error = await denise.expect(error_from(general, "forbidden", kind="presence"))
    assert set(error_texts(error)) == {"en", "fr"}
    mallory.send_raw(f"<presence to='{general}/mal'><x xmlns='{NS_MUC}'/></presence>")
    await mallory.expect(lambda e: e.tag == tag("presence") and e.get("type") == "error")


async def test_nick_change_refused_and_leave_and_disconnect_broadcast(stack: Stack, connect) -> None:
    alice, bob, carol = await connect("alice"), await connect("bob"), await connect("carol")
    military = room_jid(stack, "military")
    for client, nick in ((alice, "calm-otter"), (bob, "brave-heron"), (carol, "quiet-lynx")):
        await join(client, stack, "military", nick)
    bob.send_raw(f"<presence to='{military}/someone-else'/>")
    await bob.expect(error_from(military, "not-acceptable", kind="presence"))
    bob.send_raw(f"<presence to='{military}/brave-heron' type='unavailable'/>")
    await bob.expect(presence_from(f"{military}/brave-heron", "110", kind="unavailable"))
    await alice.expect(presence_from(f"{military}/brave-heron", kind="unavailable"))
    await carol.close()  # Prosody tells the room that carol went away
    await alice.expect(presence_from(f"{military}/quiet-lynx", kind="unavailable"), timeout=10)


async def test_self_ping(stack: Stack, connect) -> None:
    alice, dan = await connect("alice"), await connect("dan")
    await join(alice, stack, "general", "calm-otter")
    ping = "<ping xmlns='urn:xmpp:ping'/>"
    assert (await iq(alice, f"{room_jid(stack, 'general')}/calm-otter", ping)).get("type") == "result"
    answer = await iq(dan, f"{room_jid(stack, 'general')}/steady-moose", ping)
    assert answer.get("type") == "error"
    assert answer.find(f"{tag('error')}/{{urn:ietf:params:xml:ns:xmpp-stanzas}}not-acceptable") is not None


# messages, history, archive


async def test_groupchat_fanout_with_ids_history_and_mam_paging(any_stack: Stack, connect_any) -> None:
    gina, hank = await connect_any("gina"), await connect_any("hank")
    mst = room_jid(any_stack, "mst")
    await join(gina, any_stack, "mst", "gentle-crane")
    bodies = [f"history line {i}" for i in range(5)]
    for body in bodies:
        say(gina, mst, body)
        echo = await gina.expect(message_from(mst, body))
    stanza_id = echo.find(f"{{{NS_SID}}}stanza-id")
    assert stanza_id is not None and stanza_id.get("by") == mst
    occupant_id = echo.find(f"{{{NS_OCCUPANT_ID}}}occupant-id")
    assert occupant_id is not None and occupant_id.get("id")

    mark = hank.mark()
    await join(hank, any_stack, "mst", "humble-bison", "<history maxstanzas='2'/>")
    history = [
        e for e in hank.received[mark:] if e.tag == tag("message") and e.find(f"{{{NS_DELAY}}}delay") is not None
    ]
    assert [body_of(e) for e in history] == bodies[-2:]
    assert all(e.find(f"{{{NS_DELAY}}}delay") is not None for e in history)
    same_author = history[-1].find(f"{{{NS_OCCUPANT_ID}}}occupant-id")
    assert same_author is not None and same_author.get("id") == occupant_id.get("id")
    say(gina, mst, "live line")
    live = await hank.expect(message_from(mst, "live line"))
    assert live.get("from") == f"{mst}/gentle-crane"
    await gina.close()

    second = await connect_any("hank")  # a second client of the same member, asking for no history
    await join(second, any_stack, "mst", "humble-bison", "<history maxchars='0'/>")
    await second.expect_nothing(message_from(mst, "history line"), wait=0.3)

    pages = []
    rsm = f"<set xmlns='{NS_RSM}'><max>2</max></set>"
    while True:
        mark = hank.mark()
        answer = await iq(hank, mst, f"<query xmlns='{NS_MAM}' queryid='p'>{rsm}</query>", "set")
        fin = answer.find(f"{{{NS_MAM}}}fin")
        assert answer.get("type") == "result" and fin is not None
        results = [e.find(f"{{{NS_MAM}}}result") for e in hank.received[mark:] if e.tag == tag("message")]
        pages.append([r.find(".//" + tag("body")).text for r in results if r is not None])
        if fin.get("complete") == "true":
            break
        last = fin.findtext(f"{{{NS_RSM}}}set/{{{NS_RSM}}}last")
        rsm = f"<set xmlns='{NS_RSM}'><max>2</max><after>{last}</after></set>"
    texts = [t for page in pages for t in page if "line" in t]
    assert texts[-6:] == [*bodies, "live line"]
    assert all(len(page) <= 2 for page in pages)

    mark = hank.mark()
    last_page = f"<set xmlns='{NS_RSM}'><max>2</max><before/></set>"
    await iq(hank, mst, f"<query xmlns='{NS_MAM}'>{last_page}</query>", "set")
    tail = [e.find(".//" + tag("body")) for e in hank.received[mark:] if e.tag == tag("message")]
    assert [b.text for b in tail if b is not None] == ["history line 4", "live line"]


async def test_moderation_in_rooms(stack: Stack, connect) -> None:
    eve, frank = await connect("eve"), await connect("frank")
    general = room_jid(stack, "general")
    await join(eve, stack, "general", "swift-hare")
    await join(frank, stack, "general", "kind-robin")
    mark = frank.mark()
    sent = say(eve, general, "REJECTME now")
    error = await eve.expect(error_from(general, "not-acceptable", stanza_id=sent))
    assert "house rule" in error_texts(error)["en"]
    say(eve, general, "HOLDME for review")
    await eve.expect(message_from(general, "waiting for a Wall Guide"))
    say(eve, general, "mail me at SECRET-CODE")
    redacted = await frank.expect(message_from(general, "mail me at"))
    assert "SECRET-CODE" not in (body_of(redacted) or "")
    await eve.expect(message_from(general, "removed"))
    await frank.expect_nothing(lambda e: "REJECTME" in ET.tostring(e, encoding="unicode"), wait=0.3, start=mark)
    await frank.expect_nothing(lambda e: "HOLDME" in ET.tostring(e, encoding="unicode"), wait=0.1, start=mark)

    # a private message inside the room goes through the hook too, and is archived
    say(eve, f"{general}/kind-robin", "psst SECRET-CODE", kind="chat")
    private = await frank.expect(message_from(general, "psst"))
    assert private.get("from") == f"{general}/swift-hare" and private.get("type") == "chat"
    assert "SECRET-CODE" not in (body_of(private) or "")
    assert private.find(f"{{{NS_MUC_USER}}}x") is not None
    with sqlite3.connect(stack.chatd.store_path) as db:
        rows = db.execute("SELECT conversation, verdict FROM messages WHERE original LIKE 'psst%'").fetchall()
    assert len(rows) == 1 and rows[0][0].startswith("roompm:en:general:") and rows[0][1] == "redact"

    # only Wall Guides set a topic room's subject
    sent = f"s{next(_ids)}"
    eve.send_raw(f"<message to='{general}' type='groupchat' id='{sent}'><subject>mine now</subject></message>")
    await eve.expect(error_from(general, "forbidden", stanza_id=sent))


# private groups


async def test_private_group_create_invite_remove(stack: Stack, connect) -> None:
    alice, bob, dan = await connect("alice"), await connect("bob"), await connect("dan")
    group = room_jid(stack, "walk-and-talk")
    mark = alice.mark()
    await join(alice, stack, "walk-and-talk", "calm-otter")
    own = await alice.expect(presence_from(f"{group}/calm-otter", "110", "201"), start=mark)
    item = own.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
    assert item is not None and item.get("affiliation") == "owner"

    info = await iq(alice, group, f"<query xmlns='{NS_DISCO_INFO}'/>")
    features = {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert {"muc_membersonly", "muc_hidden", "muc_nonanonymous", NS_MAM} <= features  # a private group to clients
    assert "muc_semianonymous" not in features and "muc_public" not in features

    bob.send_raw(f"<presence to='{group}/brave-heron'><x xmlns='{NS_MUC}'/></presence>")
    await bob.expect(error_from(group, "registration-required", kind="presence"))
    items = await iq(dan, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert group not in {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    items = await iq(alice, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert group in {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}

    # the mediated invite (XEP-0045) reaches bob with both elements; the reason passed review
    invite = f"<invite to='{stack.pseudonym_jid('bob')}'><reason>join us, code SECRET-CODE</reason></invite>"
    alice.send_raw(f"<message to='{group}'><x xmlns='{NS_MUC_USER}'>{invite}</x></message>")
    got = await bob.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None)
    assert got.get("from") == group
    relayed = got.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite")
    assert relayed is not None and relayed.get("from") == stack.pseudonym_jid("alice")
    direct = got.find("{jabber:x:conference}x")
    assert direct is not None and direct.get("jid") == group
    assert "SECRET-CODE" not in ET.tostring(got, encoding="unicode")
    assert stack.accounts["alice"].jid not in ET.tostring(got, encoding="unicode")

    await join(bob, stack, "walk-and-talk", "brave-heron")
    members = await iq(alice, group, f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='member'/></query>")
    assert [i.get("jid") for i in members.iter(f"{{{NS_MUC_ADMIN}}}item")] == [stack.pseudonym_jid("bob")]

    # only the owner manages members; removing one kicks them (321) and keeps them out
    answer = await iq(bob, group, f"<query xmlns='{NS_MUC_ADMIN}'><item nick='calm-otter' role='none'/></query>", "set")
    assert answer.get("type") == "error"
    remove = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='none' jid='{stack.pseudonym_jid('bob')}'/></query>"
    assert (await iq(alice, group, remove, "set")).get("type") == "result"
    await bob.expect(presence_from(f"{group}/brave-heron", "110", "321", kind="unavailable"))
    await alice.expect(presence_from(f"{group}/brave-heron", "321", kind="unavailable"))
    mark = bob.mark()
    bob.send_raw(f"<presence to='{group}/brave-heron'><x xmlns='{NS_MUC}'/></presence>")
    await bob.expect(error_from(group, "registration-required", kind="presence"), start=mark)

    # the owner sets the subject; a new name passes review
    alice.send_raw(f"<message to='{group}' type='groupchat'><subject>Sunday walk</subject></message>")
    await alice.expect(lambda e: e.findtext(tag("subject")) == "Sunday walk")


async def test_uninvited_invite_by_non_owner_and_bad_names(stack: Stack, connect) -> None:
    carol, dan = await connect("carol"), await connect("dan")
    mark = carol.mark()
    await join(carol, stack, "quiet-corner", "quiet-lynx")
    await carol.expect(presence_from(f"{room_jid(stack, 'quiet-corner')}/quiet-lynx", "201"), start=mark)
    dan.send_raw(f"<presence to='{room_jid(stack, 'x')}/steady-moose'><x xmlns='{NS_MUC}'/></presence>")
    await dan.expect(error_from(room_jid(stack, "x"), "not-acceptable", kind="presence"))
    dan.send_raw(f"<presence to='{room_jid(stack, 'REJECTME-club')}/steady-moose'><x xmlns='{NS_MUC}'/></presence>")
    await dan.expect(lambda e: e.tag == tag("presence") and e.get("type") == "error")


# discovery


async def test_disco_on_rooms_and_service(stack: Stack, connect) -> None:
    alice = await connect("alice")
    info = await iq(alice, rooms(stack), f"<query xmlns='{NS_DISCO_INFO}'/>")
    identity = info.find(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}identity")
    assert identity is not None and (identity.get("category"), identity.get("type")) == ("conference", "text")
    assert NS_MUC in {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    items = await iq(alice, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    listed = {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert {room_jid(stack, r) for r in ("general", "military", "mst")} <= listed

    info = await iq(alice, room_jid(stack, "mst"), f"<query xmlns='{NS_DISCO_INFO}'/>")
    features = {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert {
        NS_MUC,
        "muc_persistent",
        "muc_public",
        "muc_open",
        "muc_semianonymous",
        NS_MAM,
        NS_SID,
        NS_OCCUPANT_ID,
        f"{NS_MUC}#self-ping-optimization",
    } <= features
    assert "muc_nonanonymous" not in features
    form = {
        f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")] for f in info.iter("{jabber:x:data}field")
    }
    assert form["FORM_TYPE"] == [f"{NS_MUC}#roominfo"]
    assert form["muc#roominfo_description"] == ["For members affected by military sexual trauma."]
    assert form["x-chatd#tags"] == ["military", "abuse", "ptsd-trauma"]
    assert form["muc#roominfo_occupants"][0].isdigit()


# an independent client: go-sendxmpp joins a room, speaks and leaves


@pytest.mark.skipif(shutil.which("go-sendxmpp") is None, reason="go-sendxmpp is not installed")
async def test_go_sendxmpp_joins_speaks_and_leaves(stack: Stack, connect) -> None:
    from tests.integration.test_independent_client import go_sendxmpp

    alice = await connect("alice")
    military = room_jid(stack, "military")
    await join(alice, stack, "military", "calm-otter")
    code, output = await go_sendxmpp(stack, "dan", "-c", "-a", "Dan Real Name", military, stdin="hello from go\n")
    assert code == 0, output
    await alice.expect(presence_from(f"{military}/steady-moose"), timeout=10)
    said = await alice.expect(message_from(military, "hello from go"), timeout=10)
    assert said.get("from") == f"{military}/steady-moose"
    await alice.expect(presence_from(f"{military}/steady-moose", kind="unavailable"), timeout=10)
    assert reveals_account(stack, alice) == []


async def test_a_member_who_blocked_someone_does_not_get_their_room_messages(any_stack: Stack, connect_any) -> None:
    eve, frank, alice = await connect_any("eve"), await connect_any("frank"), await connect_any("alice")
    guide = f"wallguide@{any_stack.en}"
    eve.send_chat(guide, "!block kind-robin")
    await eve.expect(message_from(guide, "is blocked"))
    military = room_jid(any_stack, "military")
    for client, nick in ((eve, "swift-hare"), (frank, "kind-robin"), (alice, "calm-otter")):
        await join(client, any_stack, "military", nick)
    mark = eve.mark()
    say(frank, military, "from someone eve blocked")
    await alice.expect(message_from(military, "from someone eve blocked"))
    await eve.expect_nothing(lambda e: "from someone eve blocked" in (body_of(e) or ""), wait=0.5, start=mark)
    say(alice, military, "from someone eve did not block")
    await eve.expect(message_from(military, "from someone eve did not block"))
    mark = eve.mark()
    last_page = f"<query xmlns='{NS_MAM}' queryid='b'><set xmlns='{NS_RSM}'><before/></set></query>"
    assert (await iq(eve, military, last_page, "set")).get("type") == "result"
    results = [e.find(f"{{{NS_MAM}}}result") for e in eve.received[mark:]]
    archived = [body_of(r.find(".//" + tag("message"))) for r in results if r is not None]
    assert "from someone eve did not block" in archived and "from someone eve blocked" not in archived  # nor in MAM
    eve.send_chat(guide, "!unblock kind-robin")
    await eve.expect(message_from(guide, "no longer blocked"))
