"""What follows a member across devices, replayed as clients send it, and what it must never open.

Pseudonym addresses publish nothing (OMEMO device lists, avatars, nicknames, vCards get item-not-found
at once, so clients send in plain text); the embedded Prosody keeps PEP, bookmarks (XEP-0048 in PEP and
private XML, XEP-0402), the blocking command (XEP-0191) and password change; and none of it lets one
member's account reach another's (conf/prosody/members-isolation.pfw; on ejabberd
conf/ejabberd/mod_chatd_isolation.erl: tests on `any_stack` run on both servers).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.integration.conftest import Stack
from tests.integration.test_rooms import NS_DISCO_INFO, iq, join, room_jid
from tests.support.client import Client, error_texts, message_from, tag

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_BLOCKING = "urn:xmpp:blocking"
NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

PROFILE_REQUESTS = {
    "OMEMO devices (legacy: Conversations, Gajim, Monal)": (
        f"<pubsub xmlns='{NS_PUBSUB}'><items node='eu.siacs.conversations.axolotl.devicelist'/></pubsub>"
    ),
    "OMEMO bundle (legacy)": (
        f"<pubsub xmlns='{NS_PUBSUB}'><items node='eu.siacs.conversations.axolotl.bundles:1234'/></pubsub>"
    ),
    "OMEMO devices (urn:xmpp:omemo:2: Dino, Kaidan)": (
        f"<pubsub xmlns='{NS_PUBSUB}'><items node='urn:xmpp:omemo:2:devices'/></pubsub>"
    ),
    "avatar": f"<pubsub xmlns='{NS_PUBSUB}'><items node='urn:xmpp:avatar:metadata' max_items='1'/></pubsub>",
    "nickname": f"<pubsub xmlns='{NS_PUBSUB}'><items node='http://jabber.org/protocol/nick'/></pubsub>",
    "vCard": "<vCard xmlns='vcard-temp'/>",
}


def condition(answer: ET.Element) -> str | None:
    error = answer.find(tag("error"))
    if answer.get("type") != "error" or error is None:
        return None
    return next((c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}")), None)


def publish(node: str, item: str, access: str) -> str:
    """A PEP publish with publish-options, as Conversations and Gajim send it."""
    options = (
        "<publish-options><x xmlns='jabber:x:data' type='submit'>"
        f"<field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB}#publish-options</value></field>"
        "<field var='pubsub#persist_items'><value>true</value></field>"
        f"<field var='pubsub#access_model'><value>{access}</value></field>"
        "</x></publish-options>"
    )
    return f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{node}'>{item}</publish>{options}</pubsub>"


async def own_iq(client: Client, payload: str, kind: str = "get") -> ET.Element:
    """An iq to the client's own account (PEP, private storage)."""
    return await iq(client, client.jid, payload, kind)


@pytest.mark.parametrize("request_name", list(PROFILE_REQUESTS))
async def test_pseudonyms_answer_profile_requests_with_item_not_found(stack: Stack, connect, request_name) -> None:
    alice = await connect("alice")
    answer = await iq(alice, stack.pseudonym_jid("bob"), PROFILE_REQUESTS[request_name])
    assert condition(answer) == "item-not-found"
    assert "unencrypted" in error_texts(answer)["en"]


async def test_room_occupants_publish_nothing_either_and_french_members_read_why_in_french(
    stack: Stack, connect
) -> None:
    denise = await connect("denise")
    answer = await iq(
        denise, stack.pseudonym_jid("gilles"), PROFILE_REQUESTS["OMEMO devices (legacy: Conversations, Gajim, Monal)"]
    )
    assert condition(answer) == "item-not-found" and "sans chiffrement" in error_texts(answer)["fr"]
    gina = await connect("gina")
    await join(gina, stack, "general", "gentle-crane")
    occupant = f"{room_jid(stack, 'general')}/gentle-crane"
    for request in ("OMEMO devices (urn:xmpp:omemo:2: Dino, Kaidan)", "vCard"):
        assert condition(await iq(gina, occupant, PROFILE_REQUESTS[request])) == "item-not-found"


async def test_the_account_offers_pep_bookmarks_and_blocking(stack: Stack, connect) -> None:
    """What Conversations, Gajim and Monal look for before they show bookmarks sync and "Block"."""
    hank = await connect("hank")
    account = await iq(hank, stack.accounts["hank"].jid, f"<query xmlns='{NS_DISCO_INFO}'/>")
    offered = {f.get("var") for f in account.iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert {f"{NS_PUBSUB}#publish", f"{NS_PUBSUB}#publish-options", f"{NS_BOOKMARKS2}#compat"} <= offered
    server = await iq(hank, stack.prosody.members_host, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert {NS_BLOCKING, "jabber:iq:register", "jabber:iq:private"} <= {
        f.get("var") for f in server.iter(f"{{{NS_DISCO_INFO}}}feature")
    }


async def test_bookmarks_are_kept_across_reconnects_in_every_form(stack: Stack, connect) -> None:
    """Gajim stores XEP-0402; Profanity and older clients read XEP-0048 in private XML: one bookmark, both forms."""
    gina = await connect("gina")
    room = room_jid(stack, "mst")
    nick = "<nick>gentle-crane</nick>"
    conference = f"<conference xmlns='{NS_BOOKMARKS2}' name='MST community' autojoin='true'>{nick}</conference>"
    stored = await own_iq(gina, publish(NS_BOOKMARKS2, f"<item id='{room}'>{conference}</item>", "whitelist"), "set")
    assert stored.get("type") == "result"
    await gina.close()
    gina = await connect("gina")
    reloaded = await own_iq(gina, f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS2}'/></pubsub>")
    assert [i.get("id") for i in reloaded.iter(f"{{{NS_PUBSUB}}}item")] == [room]
    private = await own_iq(gina, "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>")
    legacy = [c.get("jid") for c in private.iter("{storage:bookmarks}conference")]
    assert legacy == [room]


async def test_blocking_a_pseudonym_in_the_client_stops_its_messages(stack: Stack, connect) -> None:
    """Conversations' "Block": XEP-0191 on the member's own server; chatd's relay from that pseudonym stops there."""
    eve, frank = await connect("eve"), await connect("frank")
    sender = stack.pseudonym_jid("eve")
    block = f"<block xmlns='{NS_BLOCKING}'><item jid='{sender}'/></block>"
    assert (await own_iq(frank, block, "set")).get("type") == "result"
    listed = await own_iq(frank, f"<blocklist xmlns='{NS_BLOCKING}'/>")
    assert [i.get("jid") for i in listed.iter(f"{{{NS_BLOCKING}}}item")] == [sender]
    start = frank.mark()
    eve.send_chat(stack.pseudonym_jid("frank"), "are you there, blocked one")
    await frank.expect_nothing(message_from(sender), start=start)

    unblock = f"<unblock xmlns='{NS_BLOCKING}'><item jid='{sender}'/></unblock>"
    assert (await own_iq(frank, unblock, "set")).get("type") == "result"
    eve.send_chat(stack.pseudonym_jid("frank"), "and now?")
    await frank.expect(message_from(sender, "and now?"), start=start)
    # one sender's messages are relayed in order: the blocked one would have come first
    assert not [e for e in frank.received[start:] if message_from(sender, "blocked one")(e)]


async def test_a_member_changes_the_password_from_the_client(stack: Stack) -> None:
    host = stack.prosody.members_host
    jid = stack.prosody.register("pat", "first-password")
    client = await Client(jid, "first-password", stack.prosody.c2s_port).connect()
    change = "<query xmlns='jabber:iq:register'><username>pat</username><password>second-password</password></query>"
    answer = await iq(client, host, change, "set")
    await client.close()
    assert answer.get("type") == "result"
    again = await Client(jid, "second-password", stack.prosody.c2s_port).connect()
    await again.close()
    with pytest.raises(TimeoutError):
        await Client(jid, "first-password", stack.prosody.c2s_port).connect(timeout=3.0)


# isolation: none of it opens a path between two members' accounts


async def test_another_members_pep_cannot_be_read_or_subscribed(any_stack: Stack, connect_any) -> None:
    alice, bob = await connect_any("alice"), await connect_any("bob")
    devices = "<list xmlns='eu.siacs.conversations.axolotl'><device id='4242'/></list>"
    node = "eu.siacs.conversations.axolotl.devicelist"
    published = await own_iq(alice, publish(node, f"<item id='current'>{devices}</item>", "open"), "set")
    assert published.get("type") == "result"  # open to anyone: only the server's isolation keeps other members out
    alice_account, bob_account = any_stack.accounts["alice"].jid, any_stack.accounts["bob"].jid
    start = alice.mark()
    attempts = [
        (f"<pubsub xmlns='{NS_PUBSUB}'><items node='{node}'/></pubsub>", "get"),
        (f"<pubsub xmlns='{NS_PUBSUB}'><subscribe node='{node}' jid='{bob_account}'/></pubsub>", "set"),
        (f"<query xmlns='{NS_DISCO_INFO}'/>", "get"),
        ("<vCard xmlns='vcard-temp'/>", "get"),
        ("<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>", "get"),
        (f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS2}'/></pubsub>", "get"),
    ]
    for payload, kind in attempts:
        answer = await iq(bob, alice_account, payload, kind)
        assert condition(answer) == "policy-violation", ET.tostring(answer, encoding="unicode")
        assert "4242" not in ET.tostring(answer, encoding="unicode")
    await alice.expect_nothing(lambda e: (e.get("from") or "").startswith(bob_account), start=start)


async def test_blocking_and_bookmarks_name_no_one_else(stack: Stack, connect) -> None:
    """Blocking an account JID or bookmarking it sends it nothing; a block aimed at another account is refused."""
    carol, dan = await connect("carol"), await connect("dan")
    dan_account = stack.accounts["dan"].jid
    start = dan.mark()
    block = f"<block xmlns='{NS_BLOCKING}'><item jid='{dan_account}'/></block>"
    assert (await own_iq(carol, block, "set")).get("type") == "result"
    unblock = f"<unblock xmlns='{NS_BLOCKING}'><item jid='{dan_account}'/></unblock>"
    assert (await own_iq(carol, unblock, "set")).get("type") == "result"
    into_dan = await iq(carol, dan_account, block, "set")  # editing someone else's list
    assert condition(into_dan) == "policy-violation"
    mark = f"<conference xmlns='{NS_BOOKMARKS2}' name='x'/>"
    await own_iq(carol, publish(NS_BOOKMARKS2, f"<item id='{dan_account}'>{mark}</item>", "whitelist"), "set")
    await dan.expect_nothing(lambda e: stack.accounts["carol"].jid in ET.tostring(e, encoding="unicode"), start=start)
    listed = await own_iq(dan, f"<blocklist xmlns='{NS_BLOCKING}'/>")
    assert list(listed.iter(f"{{{NS_BLOCKING}}}item")) == []
