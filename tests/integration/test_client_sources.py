"""Monal's and Dino's own stanza sequences, as read in their sources, through a real Prosody and chatd.

Each test names the source file and function its sequence comes from (repository, path, function), so that a
reader can check them again when those clients change: Monal (monal-im/Monal, Monal/Classes/...) and Dino
(dino/dino, libdino/... and xmpp-vala/...). Their code is not copied; the stanzas are written here from what
those functions build.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.integration.test_client_messages import (
    NS_FALLBACK,
    NS_MAM,
    NS_MARKERS,
    NS_MODERATE,
    NS_REACTIONS,
    NS_REPLY,
    NS_RETRACT,
    archived,
    condition_of,
    having,
    iq,
    reaction,
    said_in_chat,
    said_in_room,
    send,
    stanza_id_of,
)
from tests.integration.test_client_rooms import features, form_fields, item_jids
from tests.integration.test_rooms import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_ADMIN, NS_MUC_USER, presence_from
from tests.support.client import Client, body_of, error_from, tag
from tests.support.muc import groupchat

NS_MUC_OWNER = f"{NS_MUC}#owner"
NS_DATA = "jabber:x:data"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_CONFERENCE = "jabber:x:conference"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
MONAL_RETRACT_FALLBACK = "This person attempted to retract a previous message, but it's unsupported by your client."


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack: its groups and archives stay out of other tests'."""
    with running_stack(tmp_path_factory, "client-sources") as running:
        yield running


def mam_results(client: Client, start: int) -> list[tuple[str, ET.Element]]:
    """(archive id, archived message) of the MAM results a client got since start, in order."""
    found = []
    for element in client.received[start:]:
        result = element.find(f"{{{NS_MAM}}}result")
        if result is not None:
            kept = result.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
            assert kept is not None
            found.append((result.get("id", ""), kept))
    return found


def fin_of(answer: ET.Element) -> tuple[bool, str | None, str | None]:
    """(complete, first, last) of a MAM query's answer."""
    fin = answer.find(f"{{{NS_MAM}}}fin")
    assert answer.get("type") == "result" and fin is not None, ET.tostring(answer, encoding="unicode")
    page = fin.find(f"{{{NS_RSM}}}set")
    first = page.findtext(f"{{{NS_RSM}}}first") if page is not None else None
    last = page.findtext(f"{{{NS_RSM}}}last") if page is not None else None
    return fin.get("complete") in ("true", "1"), first, last


def mam_query(fields: dict[str, str], rsm: str, queryid: str) -> str:
    values = "".join(f"<field var='{var}'><value>{value}</value></field>" for var, value in fields.items())
    form = f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>{NS_MAM}</value></field>"
    return f"<query xmlns='{NS_MAM}' queryid='{queryid}'>{form}{values}</x><set xmlns='{NS_RSM}'>{rsm}</set></query>"


def codes(element: ET.Element) -> list[str]:
    x = element.find(f"{{{NS_MUC_USER}}}x")
    return [s.get("code", "") for s in x.findall(f"{{{NS_MUC_USER}}}status")] if x is not None else []


def role_of(presence: ET.Element) -> str | None:
    item = presence.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
    return item.get("role") if item is not None else None


async def monal_joins(client: Client, room: str, nick: str) -> tuple[set[str], ET.Element]:
    """MLMucProcessor.m sendDiscoQueryFor/handleDiscoResponse then sendJoinPresenceFor (XMPPPresence.m joinRoom):
    the room's disco#info first, then a join asking for no history; the room's features and the self-presence."""
    info = await iq(client, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    start = client.mark()
    client.send_raw(
        f"<presence to='{room}/{nick}'><x xmlns='{NS_MUC}'><history maxstanzas='0'/></x></presence>"
    )  # fmt: skip
    own = await client.expect(
        lambda e: e.tag == tag("presence") and (e.get("from") or "").startswith(f"{room}/") and "110" in codes(e),
        start=start,
    )
    await client.expect(lambda e: e.find(tag("subject")) is not None, start=start)
    assert not [e for e in client.received[start:] if e.tag == tag("message") and body_of(e)]  # no history
    return features(info), own


async def monal_configures(
    client: Client, room: str, mandatory: dict[str, str], optional: dict[str, str]
) -> ET.Element:
    """MLMucProcessor.m configureMuc / handleRoomConfigForm: the room's form, which must have every mandatory field
    (else "not a group"); Monal sends that form back as submitted, those values and the optional ones it has set."""
    config = await iq(client, room, f"<query xmlns='{NS_MUC_OWNER}'/>", "get")
    form = config.find(f"{{{NS_MUC_OWNER}}}query/{{{NS_DATA}}}x")
    assert form is not None and mandatory.keys() <= form_fields(config).keys()
    form.set("type", "submit")
    for field in form.findall(f"{{{NS_DATA}}}field"):
        chosen = mandatory.get(field.get("var", ""), optional.get(field.get("var", "")))
        if chosen is not None:
            for value in field.findall(f"{{{NS_DATA}}}value"):
                field.remove(value)
            ET.SubElement(field, f"{{{NS_DATA}}}value").text = chosen
    submitted = ET.tostring(form, encoding="unicode")
    return await iq(client, room, f"<query xmlns='{NS_MUC_OWNER}'>{submitted}</query>", "set")


# Monal


async def test_monal_finds_the_service_creates_a_group_and_invites_directly(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    host, rooms = stack.prosody.members_host, stack.chatd.realms[0].rooms_domain
    # MLIQProcessor.m handleServerDiscoItems / handleServiceDiscoInfo: the server's items, then each one's info;
    # a service with the MUC feature is a conference server; MLMucProcessor.m generateMucJid takes one whose
    # identity is of type "text"
    servers = {}
    for jid in item_jids(await iq(alice, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>", "get")):
        info = await iq(alice, jid, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
        if NS_MUC in features(info):
            servers[jid] = [i.get("type") for i in info.iter(f"{{{NS_DISCO_INFO}}}identity")]
    assert servers == {rooms: ["text"]}

    # createGroup (XMPPPresence.m createRoom): a presence with a bare <x/>; status 201 starts configureMuc
    group = f"lively-tulip-42@{rooms}"
    start = alice.mark()
    alice.send_raw(f"<presence to='{group}/calm-otter'><x xmlns='{NS_MUC}'/></presence>")
    await alice.expect(presence_from(f"{group}/calm-otter", "110", "201"), start=start)
    mandatory = {
        "muc#roomconfig_persistentroom": "1", "muc#roomconfig_membersonly": "1", "muc#roomconfig_whois": "anyone",
    }  # fmt: skip
    optional = {
        "muc#roomconfig_enablelogging": "0", "muc#roomconfig_changesubject": "0", "muc#roomconfig_allowinvites": "0",
        "muc#roomconfig_getmemberlist": "participant", "muc#roomconfig_publicroom": "0",
        "muc#roomconfig_moderatedroom": "0", "muc#maxhistoryfetch": "0",
    }  # fmt: skip
    assert (await monal_configures(alice, group, mandatory, optional)).get("type") == "result"

    # handleRoomConfigResult joins again: disco#info, then the join; a group is muc_nonanonymous + muc_membersonly

    room_features, own = await monal_joins(alice, group, "calm-otter")
    assert {"muc_nonanonymous", "muc_membersonly", NS_MAM} <= room_features
    assert role_of(own) == "moderator"
    # the first join primes the last stanza id: the archive's end, one result at most, before now
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    prime = mam_query({"end": now}, "<max>1</max><before/>", "MLignore:1")
    assert fin_of(await iq(alice, group, prime))[0] is not None
    # after the join: the outcast, member, admin and owner lists (setMucListQueryFor)
    listed = {}
    for affiliation in ("outcast", "member", "admin", "owner"):
        query = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='{affiliation}'/></query>"
        answer = await iq(alice, group, query, "get")
        assert answer.get("type") == "result"
        listed[affiliation] = [i.get("jid") for i in answer.iter(f"{{{NS_MUC_ADMIN}}}item")]
    assert listed == {"outcast": [], "member": [], "admin": [], "owner": [stack.pseudonym_jid("alice")]}

    # CreateGroupMenu.swift, once joined: changeNameOfMuc (configureMuc, the name its one mandatory field), then
    # for each contact chosen, setAffiliation member, then inviteUser (XEP-0249, to the
    # contact's address, type normal, a store hint, no body)
    assert (await monal_configures(alice, group, {"muc#roomconfig_roomname": "Sunday walkers"}, {})).get(
        "type"
    ) == "result"
    named = await iq(alice, group, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    assert [i.get("name") for i in named.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Sunday walkers"]
    start = bob.mark()
    member = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='member' jid='{stack.pseudonym_jid('bob')}'/></query>"
    assert (await iq(alice, group, member)).get("type") == "result"
    alice.send_raw(
        f"<message to='{stack.pseudonym_jid('bob')}' type='normal' id='monal-invite'>"
        f"<x xmlns='{NS_CONFERENCE}' jid='{group}'/><store xmlns='urn:xmpp:hints'/></message>"
    )
    invite = await bob.expect(lambda e: e.find(f"{{{NS_CONFERENCE}}}x") is not None, start=start)
    assert invite.find(f"{{{NS_CONFERENCE}}}x").get("jid") == group
    assert invite.get("from") in (stack.pseudonym_jid("alice"), group)
    assert stack.accounts["alice"].jid not in ET.tostring(invite, encoding="unicode")
    other_server = f"<x xmlns='{NS_CONFERENCE}' jid='lobby@conference.example.org'/>"
    elsewhere = send(alice, stack.pseudonym_jid("bob"), other_server, "normal")  # only rooms of the own realm
    await alice.expect(error_from(stack.pseudonym_jid("bob"), "item-not-found", stanza_id=elsewhere))
    # Monal on bob's side joins what it was invited to (MLMucProcessor.m processMessage: direct invites)
    _, bob_own = await monal_joins(bob, group, "brave-heron")
    assert role_of(bob_own) == "participant"


async def test_monal_catches_up_after_its_last_stanza_id_and_sees_corrections(stack: Stack, connect) -> None:
    room = "monal-catch-up@rooms.en.localhost"
    carol, dan, said = await said_in_room(connect, room, ("carol", "quiet-lynx"), ("dan", "steady-moose"),
                                          "first night shift done")  # fmt: skip
    last_seen = stanza_id_of(said)
    await dan.close()

    # xmpp.m sendMessage: a group gets a receipt request and markable, and a store hint
    asks = f"<request xmlns='urn:xmpp:receipts'/><markable xmlns='{NS_MARKERS}'/><store xmlns='urn:xmpp:hints'/>"
    original = send(carol, room, f"<body>see you all tomorow</body>{asks}", "groupchat")
    await carol.expect(groupchat(room, "tomorow"))
    # chatViewController / XMPPMessage.m setLMCFor: the correction names the original's own id
    correction = f"<replace xmlns='{NS_CORRECT}' id='{original}'/>{asks}"
    corrected = send(carol, room, f"<body>see you all tomorrow</body>{correction}", "groupchat")
    live = await carol.expect(groupchat(room, "tomorrow"))
    assert live.find(f"{{{NS_CORRECT}}}replace").get("id") == original

    phone = await connect("dan")
    _, own = await monal_joins(phone, room, "steady-moose")
    start = phone.mark()
    # handleCatchup: after the last stanza id it knows, 50 at a time, forward until the archive says complete
    catch_up = mam_query({}, f"<max>50</max><after>{last_seen}</after>", "MLcatchup:1")
    complete, _, last = fin_of(await iq(phone, room, catch_up))
    got = mam_results(phone, start)
    assert complete and last == got[-1][0]
    texts = [(kept.get("id"), body_of(kept)) for _, kept in got]
    assert texts == [(original, "see you all tomorow"), (corrected, "see you all tomorrow")]
    replaced = got[-1][1].find(f"{{{NS_CORRECT}}}replace")
    assert replaced is not None and replaced.get("id") == original  # the correction, as XEP-0308 clients apply it
    ids = {k.find(f"{{{NS_OCCUPANT_ID}}}occupant-id").get("id") for _, k in got}
    assert len(ids) == 1  # the same author: clients accept a correction only from the original's author

    # an unknown anchor: item-not-found, and Monal asks again from a time
    unknown = mam_query({}, "<max>50</max><after>not-in-this-archive</after>", "MLcatchup:2")
    answer = await iq(phone, room, unknown)
    assert answer.get("type") == "error" and condition_of(answer) == "item-not-found"
    again = mam_query({"start": "2000-01-01T00:00:00+0000"}, "<max>50</max>", "MLcatchup:3")
    assert fin_of(await iq(phone, room, again))[0]

    # sendDisplayMarkerForMessages: in a group (not a channel), the last markable message by its stanza-id
    start = carol.mark()
    marker = f"<displayed xmlns='{NS_MARKERS}' id='{got[-1][0]}'/><store xmlns='urn:xmpp:hints'/>"
    send(phone, room, marker, "groupchat")
    shown = await carol.expect(having(f"{room}/steady-moose", f"{{{NS_MARKERS}}}displayed"), start=start)
    assert shown.find(f"{{{NS_MARKERS}}}displayed").get("id") == got[-1][0]
    assert role_of(own) == "participant"


async def test_monal_retracts_in_a_group_and_its_owner_moderates(stack: Stack, connect) -> None:
    room = "monal-tools@rooms.en.localhost"
    eve, frank, said = await said_in_room(connect, room, ("eve", "swift-hare"), ("frank", "kind-robin"),
                                          "my sister visits on sunday")  # fmt: skip
    info = await iq(frank, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    # MLMessageProcessor.m: retractions and tombstones are honoured only if the room advertises them
    assert {NS_RETRACT, f"{NS_RETRACT}#tombstone", NS_MODERATE} <= features(info)
    start = frank.mark()
    # xmpp.m retractMessage: in a group, the stanza-id; a fallback body, the fallback marker and a store hint
    send(eve, room, f"<retract xmlns='{NS_RETRACT}' id='{stanza_id_of(said)}'/>"
                    f"<fallback xmlns='{NS_FALLBACK}' for='{NS_RETRACT}'/><body>{MONAL_RETRACT_FALLBACK}</body>"
                    "<store xmlns='urn:xmpp:hints'/>", "groupchat")  # fmt: skip
    got = await frank.expect(having(f"{room}/swift-hare", f"{{{NS_RETRACT}}}retract"), start=start)
    assert got.find(f"{{{NS_RETRACT}}}retract").get("id") == stanza_id_of(said)
    await frank.expect_nothing(lambda e: MONAL_RETRACT_FALLBACK in (body_of(e) or ""), wait=0.3, start=start)

    # xmpp.m moderateMessage, offered when the own role is moderator and the room has moderate:1 (the owner)
    send(frank, room, "<body>pick me up at eight</body>", "groupchat")
    spoken = await eve.expect(groupchat(room, "pick me up"))
    start = frank.mark()
    moderate = (f"<moderate xmlns='{NS_MODERATE}' id='{stanza_id_of(spoken)}'><retract xmlns='{NS_RETRACT}'/>"
                "<reason>names a place</reason></moderate>")  # fmt: skip
    assert (await iq(eve, room, moderate)).get("type") == "result"
    removed = await frank.expect(lambda e: e.find(f"{{{NS_RETRACT}}}retract") is not None, start=start)
    retract = removed.find(f"{{{NS_RETRACT}}}retract")
    assert removed.get("from") == room and retract.get("id") == stanza_id_of(spoken)
    assert retract.find(f"{{{NS_MODERATE}}}moderated") is not None  # what Monal checks before it removes it
    assert archived(stack, "room:en:monal-tools", "pick me up at eight")[2] == "removed"


# Dino


async def test_dino_finds_the_service_joins_without_history_and_pages_the_archive(stack: Stack, connect) -> None:
    room = "dino-joins@rooms.en.localhost"
    _, _, said = await said_in_room(connect, room, ("gina", "gentle-crane"), ("hank", "humble-bison"),
                                    "the garden is blooming")  # fmt: skip
    host, rooms = stack.prosody.members_host, stack.chatd.realms[0].rooms_domain
    laptop = await connect("hank")
    # libdino/src/service/muc_manager.vala search_default_muc_server: the server's items, the first whose
    # identity is of category conference (names starting conference/muc/chat first, then the others)
    found = []
    for jid in item_jids(await iq(laptop, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>", "get")):
        info = await iq(laptop, jid, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
        if any(i.get("category") == "conference" for i in info.iter(f"{{{NS_DISCO_INFO}}}identity")):
            found.append(jid)
    assert found == [rooms]

    # the room has MAM: no history on join
    start = laptop.mark()
    await dino_joins(laptop, room, "humble-bison")
    await laptop.expect(lambda e: e.find(tag("subject")) is not None, start=start)
    assert not [e for e in laptop.received[start:] if e.tag == tag("message") and body_of(e)]

    # libdino history_sync.vala fetch_latest_page (xmpp-vala 0313_2): FORM_TYPE only, 20, before the end
    start = laptop.mark()
    complete, first, _ = fin_of(await iq(laptop, room, mam_query({}, "<max>20</max><before/>", "dino-1")))
    got = mam_results(laptop, start)
    assert complete and [body_of(m) for _, m in got] == ["the garden is blooming"] and first == got[0][0]
    assert got[0][0] == stanza_id_of(said)


async def dino_joins(client: Client, room: str, nick: str) -> ET.Element:
    """libdino muc_manager.vala join, xmpp-vala 0045_muc/module.vala enter: the room's disco#info; with MAM no
    history (maxchars 0), without it the history; the affiliations-versioning element (XEP-0463). The self-presence."""
    info = await iq(client, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    history = "<history maxchars='0'/>" if info.get("type") == "result" and NS_MAM in features(info) else ""
    start = client.mark()
    mav = "<mav xmlns='urn:xmpp:muc:affiliations:1'/>"
    client.send_raw(f"<presence to='{room}/{nick}'><x xmlns='{NS_MUC}'>{history}{mav}</x></presence>")
    return await client.expect(
        lambda e: e.tag == tag("presence") and (e.get("from") or "").startswith(f"{room}/") and "110" in codes(e),
        start=start,
    )


async def test_dino_makes_a_group_by_joining_a_new_address_and_invites(stack: Stack, connect) -> None:
    carol, dan = await connect("carol"), await connect("dan")
    group = "dino-new-group@rooms.en.localhost"
    # Join Channel with a new address: Dino's default nick is the account's name; libdino does nothing with 201
    own = await dino_joins(carol, group, "carol")
    assert {"110", "201", "210"} <= set(codes(own)) and own.get("from") == f"{group}/quiet-lynx"
    info = await iq(carol, group, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    assert {"muc_membersonly", "muc_nonanonymous"} <= features(info)  # muc_manager.vala is_private_room
    assert "urn:xmpp:muc:affiliations:1" not in features(info)
    listed = {}  # no affiliations versioning: 0045_muc/module.vala fetch_affiliations (member, admin, owner)
    for affiliation in ("member", "admin", "owner"):
        query = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='{affiliation}'/></query>"
        listed[affiliation] = [
            i.get("jid") for i in (await iq(carol, group, query, "get")).iter(f"{{{NS_MUC_ADMIN}}}item")
        ]
    assert listed == {"member": [], "admin": [], "owner": [stack.pseudonym_jid("carol")]}
    # muc_manager.vala invite (0045_muc/module.vala invite): a mediated invitation, no type, to the bare address
    start = dan.mark()
    carol.send_raw(f"<message to='{group}' id='dino-invite'><x xmlns='{NS_MUC_USER}'>"
                   f"<invite to='{stack.pseudonym_jid('dan')}'/></x></message>")  # fmt: skip
    invite = await dan.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None, start=start)
    assert invite.get("from") == group and invite.find(f"{{{NS_CONFERENCE}}}x").get("jid") == group
    joined = await dino_joins(dan, group, "dan")
    assert joined.get("from") == f"{group}/steady-moose" and role_of(joined) == "participant"


async def test_dino_reacts_replies_marks_and_its_owner_deletes_in_a_private_group(stack: Stack, connect) -> None:
    room = "dino-group@rooms.en.localhost"
    alice, bob, said = await said_in_room(connect, room, ("alice", "calm-otter"), ("bob", "brave-heron"),
                                          "we did it, one month")  # fmt: skip
    info = await iq(bob, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    # libdino reactions.vala conversation_supports_reactions: stable stanza ids, and occupant ids or a private room
    assert NS_SID in features(info) and (
        NS_OCCUPANT_ID in features(info) or {"muc_membersonly", "muc_nonanonymous"} <= features(info)
    )
    origin = stanza_id_of(said)
    # xmpp-vala 0444_reactions.vala send_reaction: groupchat, the stanza-id, a store hint
    start = alice.mark()
    send(bob, room, reaction(origin, "🎉"), "groupchat")
    got = await alice.expect(having(f"{room}/brave-heron", f"{{{NS_REACTIONS}}}reactions"), start=start)
    assert got.find(f"{{{NS_REACTIONS}}}reactions").get("id") == origin

    # libdino util/send_message.vala and message_processor.vala send_xmpp_message: a "> " quote, the reply to the
    # quoted occupant by the stanza-id, the quote's range in characters
    quote = "> we did it, one month\n"
    send(bob, room, f"<body>{quote}so proud of you</body><reply xmlns='{NS_REPLY}' to='{room}/calm-otter' "
                    f"id='{origin}'/><fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'><body start='0' "
                    f"end='{len(quote)}'/></fallback>", "groupchat")  # fmt: skip
    replied = await alice.expect(groupchat(room, "so proud"))
    assert replied.find(f"{{{NS_REPLY}}}reply").attrib == {"id": origin, "to": f"{room}/calm-otter"}

    # chat_interaction.vala send_chat_marker: not in public rooms; in a group, to the room, by the stanza-id
    start = bob.mark()
    send(alice, room, f"<displayed xmlns='{NS_MARKERS}' id='{stanza_id_of(replied)}'/>", "groupchat")
    shown = await bob.expect(having(f"{room}/calm-otter", f"{{{NS_MARKERS}}}displayed"), start=start)
    assert shown.find(f"{{{NS_MARKERS}}}displayed").get("id") == stanza_id_of(replied)

    # message_deletion.vala: in a room, "delete for everyone" is moderation only (XEP-0425, no reason), offered
    # when the room has moderate:1 and the own role is moderator: the owner, for anyone's message and her own
    assert NS_MODERATE in features(info)
    for message in (replied, said):
        start = bob.mark()
        retract = f"<retract xmlns='{NS_RETRACT}'/>"
        moderate = f"<moderate xmlns='{NS_MODERATE}' id='{stanza_id_of(message)}'>{retract}</moderate>"
        assert (await iq(alice, room, moderate)).get("type") == "result"
        gone = await bob.expect(lambda e: e.find(f"{{{NS_RETRACT}}}retract") is not None, start=start)
        assert gone.get("from") == room and gone.find(f"{{{NS_RETRACT}}}retract").get("id") == stanza_id_of(message)
    assert archived(stack, "room:en:dino-group", "we did it, one month")[2] == "removed"


async def test_dino_deletes_its_own_message_in_a_chat(stack: Stack, connect) -> None:
    carol, dan, carol_at, dan_at, sent = await said_in_chat(stack, connect, "carol", "dan", "sent to the wrong person")
    # message_deletion.vala delete_globally: a message with no type and no body, only <retract id=.../>
    start = dan.mark()
    carol.send_raw(f"<message to='{dan_at}' id='dino-delete'><retract xmlns='{NS_RETRACT}' id='{sent}'/></message>")
    got = await dan.expect(having(carol_at, f"{{{NS_RETRACT}}}retract"), start=start)
    assert got.find(f"{{{NS_RETRACT}}}retract").get("id") == sent
    assert archived(stack, "dm:%", "sent to the wrong person")[2] == "retracted"


# a group's owner removes a reaction (XEP-0425)


async def test_a_group_owner_removes_a_reaction_and_none_are_left(stack: Stack, connect) -> None:
    room = "owner-removes-reaction@rooms.en.localhost"
    gina, hank, said = await said_in_room(connect, room, ("gina", "gentle-crane"), ("hank", "humble-bison"),
                                          "first swim in the lake")  # fmt: skip
    start = gina.mark()
    send(hank, room, reaction(stanza_id_of(said), "🤮"), "groupchat")
    live = await gina.expect(having(f"{room}/humble-bison", f"{{{NS_REACTIONS}}}reactions"), start=start)
    start = hank.mark()
    moderate = (f"<moderate xmlns='{NS_MODERATE}' id='{stanza_id_of(live)}'><retract xmlns='{NS_RETRACT}'/>"
                "<reason>unkind</reason></moderate>")  # fmt: skip
    assert (await iq(gina, room, moderate)).get("type") == "result"
    await hank.expect(having(room, f"{{{NS_RETRACT}}}retract[@id='{stanza_id_of(live)}']"), start=start)
    none_left = f"{{{NS_REACTIONS}}}reactions[@id='{stanza_id_of(said)}']"
    await hank.expect(lambda e: having(f"{room}/humble-bison", none_left)(e) and len(e.find(none_left)) == 0,
                      start=start)  # fmt: skip
    start = hank.mark()
    await iq(hank, room, f"<query xmlns='{NS_MAM}' queryid='after-removal'/>")
    kept = dict(mam_results(hank, start))
    removed = kept[stanza_id_of(live)].find(f".//{{{NS_REACTIONS}}}reactions")
    assert removed is not None and len(removed) == 0
    assert "🤮" not in "".join(ET.tostring(m, encoding="unicode") for m in kept.values())
