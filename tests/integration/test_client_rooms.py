"""Finding rooms and making private groups the way everyday clients do it, against a real Prosody and chatd.

Each test replays a client family's own stanza sequence (Conversations, Gajim, Dino, Monal, Profanity):
the server's service list, the room directory, "create private group", the join dialog's nickname
question, the subject that ends a join.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.integration.conftest import Stack
from tests.integration.test_rooms import (
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_MUC,
    NS_MUC_ADMIN,
    NS_MUC_USER,
    iq,
    join,
    presence_from,
    reveals_account,
    room_jid,
    rooms,
    say,
    status_codes,
)
from tests.support.client import Client, body_of, tag

NS_MUC_OWNER = f"{NS_MUC}#owner"
NS_DATA = "jabber:x:data"


def item_jids(answer: ET.Element) -> list[str]:
    return [i.get("jid", "") for i in answer.iter(f"{{{NS_DISCO_ITEMS}}}item")]


def features(answer: ET.Element) -> set[str]:
    return {f.get("var", "") for f in answer.iter(f"{{{NS_DISCO_INFO}}}feature")}


def form_fields(parent: ET.Element) -> dict[str, list[str]]:
    return {
        f.get("var", ""): [v.text or "" for v in f.findall(f"{{{NS_DATA}}}value")]
        for f in parent.iter(f"{{{NS_DATA}}}field")
    }


async def conference_services(client: Client, server: str) -> list[str]:
    """Conversations' and Gajim's search for a MUC service: the server's items, then each item's identity."""
    found = []
    for jid in item_jids(await iq(client, server, f"<query xmlns='{NS_DISCO_ITEMS}'/>")):
        info = await iq(client, jid, f"<query xmlns='{NS_DISCO_INFO}'/>")
        identities = info.iter(f"{{{NS_DISCO_INFO}}}identity")
        if any((i.get("category"), i.get("type")) == ("conference", "text") for i in identities):
            found.append(jid)
    return found


def occupant_item(presence: ET.Element) -> ET.Element:
    item = presence.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
    assert item is not None
    return item


async def test_the_server_lists_the_own_realms_rooms_service_and_only_it(stack: Stack, connect) -> None:
    host = stack.prosody.members_host
    alice, denise, wendy, mallory = [await connect(n) for n in ("alice", "denise", "wendy", "mallory")]
    en_rooms, fr_rooms = stack.chatd.realms[0].rooms_domain, stack.chatd.realms[1].rooms_domain
    assert await conference_services(alice, host) == [en_rooms]
    assert await conference_services(denise, host) == [fr_rooms]
    # chatd's own domains are not listed to everyone; a Wall Guide also sees the watch domain
    assert set(item_jids(await iq(alice, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>"))) == {en_rooms}
    assert set(item_jids(await iq(wendy, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>"))) == {
        en_rooms,
        stack.chatd.watch_domain,
    }
    # an account that is no member sees none of them
    assert item_jids(await iq(mallory, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>")) == []
    # a member cannot ask chatd which realm another account belongs to
    spoof = f"<query xmlns='urn:chatd:services:0' account='{stack.accounts['denise'].jid}'/>"
    answer = await iq(alice, stack.fr, spoof)
    assert answer.get("type") == "error" and fr_rooms not in ET.tostring(answer, encoding="unicode")


async def test_the_room_directory_lists_topic_rooms_with_names_descriptions_and_tags(stack: Stack, connect) -> None:
    """Gajim's and Dino's room browser: the service's items, then each room's roominfo form."""
    alice = await connect("alice")
    listed = {
        i.get("jid"): i.get("name")
        for i in (await iq(alice, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}'/>")).iter(f"{{{NS_DISCO_ITEMS}}}item")
    }
    configured = {room_jid(stack, str(r["id"])): r for r in stack.chatd.realms[0].rooms}
    for jid, room in configured.items():
        assert listed[jid] == room["name"]
        info = await iq(alice, jid, f"<query xmlns='{NS_DISCO_INFO}'/>")
        form = form_fields(info)
        assert form["muc#roominfo_description"] == [room["description"]]
        assert form["x-chatd#tags"] == room["tags"]
        assert form["muc#roominfo_subject"] == [room["description"]]
        assert {"muc_public", "muc_semianonymous"} <= features(info) and "muc_nonanonymous" not in features(info)


async def test_conversations_creates_a_private_group_and_invites(stack: Stack, connect) -> None:
    """Conversations' "Create private group": join a made-up name, push its default configuration, invite."""
    alice, bob = await connect("alice"), await connect("bob")
    group = room_jid(stack, "bikotanu")  # a pronounceable random name, as Conversations makes them
    start = alice.mark()
    await join(alice, stack, "bikotanu", "alice")
    own = await alice.expect(presence_from(f"{group}/calm-otter", "110", "201"), start=start)
    assert "100" in status_codes(own)  # non-anonymous: members see each other's (pseudonym) address
    assert occupant_item(own).get("jid") == stack.pseudonym_jid("alice")

    config = await iq(alice, group, f"<query xmlns='{NS_MUC_OWNER}'/>")
    offered = form_fields(config)
    assert offered["muc#roomconfig_membersonly"] == ["1"] and offered["muc#roomconfig_whois"] == ["anyone"]
    chosen = {
        "muc#roomconfig_persistentroom": "1",
        "muc#roomconfig_membersonly": "1",
        "muc#roomconfig_publicroom": "0",
        "muc#roomconfig_whois": "anyone",
        "muc#roomconfig_changesubject": "0",
        "muc#roomconfig_allowinvites": "0",
        "muc#roomconfig_enablearchiving": "1",
        "muc#roomconfig_roomname": "Evening walks",
    }
    submitted = "".join(  # Conversations submits only the fields the form offered
        f"<field var='{var}'><value>{chosen[var]}</value></field>" for var in offered if var in chosen
    )
    form = f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'><value>{NS_MUC}#roomconfig</value></field>"
    answer = await iq(alice, group, f"<query xmlns='{NS_MUC_OWNER}'>{form}{submitted}</x></query>", "set")
    assert answer.get("type") == "result"
    info = await iq(alice, group, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert {"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden"} <= features(info)
    assert "muc_semianonymous" not in features(info)

    # Conversations makes the invitee a member first, then sends the mediated invite
    member = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='member' jid='{stack.pseudonym_jid('bob')}'/></query>"
    assert (await iq(alice, group, member, "set")).get("type") == "result"
    alice.send_raw(
        f"<message to='{group}'><x xmlns='{NS_MUC_USER}'><invite to='{stack.pseudonym_jid('bob')}'/></x></message>"
    )
    await bob.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None)
    bob_start = bob.mark()
    subject = await join(bob, stack, "bikotanu", "bob")
    assert subject.findtext(tag("subject")) == "Evening walks"  # a new group's subject: its name
    seen = await bob.expect(presence_from(f"{group}/calm-otter"), start=bob_start)
    assert occupant_item(seen).get("jid") == stack.pseudonym_jid("alice")
    joined = await alice.expect(presence_from(f"{group}/brave-heron"), start=start)
    assert occupant_item(joined).get("jid") == stack.pseudonym_jid("bob")
    assert reveals_account(stack, alice, start) == [] and reveals_account(stack, bob, bob_start) == []


async def test_inviting_a_member_who_is_already_there_changes_nothing(stack: Stack, connect) -> None:
    carol, dan = await connect("carol"), await connect("dan")
    group = room_jid(stack, "second-invite")
    await join(carol, stack, "second-invite", "quiet-lynx")
    invite = f"<x xmlns='{NS_MUC_USER}'><invite to='{stack.pseudonym_jid('dan')}'/></x>"
    carol.send_raw(f"<message to='{group}'>{invite}</message>")
    await dan.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None)
    await join(dan, stack, "second-invite", "steady-moose")
    start_carol, start_dan = carol.mark(), dan.mark()
    # again, both ways clients do it: the affiliation, then the mediated invite
    member = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='member' jid='{stack.pseudonym_jid('dan')}'/></query>"
    assert (await iq(carol, group, member, "set")).get("type") == "result"
    carol.send_raw(f"<message to='{group}'>{invite}</message>")
    await dan.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None, start=start_dan)
    say(carol, group, "still here?")
    await dan.expect(lambda e: body_of(e) == "still here?", start=start_dan)
    left = presence_from(f"{group}/steady-moose", kind="unavailable")
    assert not [e for e in dan.received[start_dan:] if left(e)]
    assert not [e for e in carol.received[start_carol:] if left(e)]


async def test_gajim_join_dialog_gets_the_pseudonym_and_a_real_subject(stack: Stack, connect) -> None:
    """Gajim asks the room for a reserved nickname (XEP-0045 §7.12) before joining; the join ends with a subject."""
    eve, frank = await connect("eve"), await connect("frank")
    ask = f"<query xmlns='{NS_DISCO_INFO}' node='x-roomuser-item'/>"
    for local in ("general", "not-made-yet"):
        answer = await iq(eve, room_jid(stack, local), ask)
        identity = answer.find(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}identity")
        assert identity is not None and identity.get("name") == "swift-hare"
        assert (identity.get("category"), identity.get("type")) == ("conference", "text")
    await join(frank, stack, "frank-private", "kind-robin")
    hidden = await iq(eve, room_jid(stack, "frank-private"), ask)  # someone else's group: nothing to learn
    assert hidden.get("type") == "error"

    subject = await join(eve, stack, "military", "swift-hare")
    assert subject.get("from") == room_jid(stack, "military")
    assert subject.findtext(tag("subject")) == "Serving, leaving and life after service."
