"""Conversations' own stanza sequences, as read in its source, through a real Prosody and chatd.

Conversations' repository is no longer on GitHub; these were read in snikket-im/snikket-android (Snikket's
Android app, which merges Conversations' code as it is, up to Conversations' November 2025 commits), paths
under src/main/java/. Each test names the file and function its sequence comes from, so that a reader can check
them again when Conversations changes. Their code is not copied; the stanzas are written here from what those
functions build.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.integration.test_client_messages import (
    NS_MAM,
    NS_MARKERS,
    NS_REACTIONS,
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
from tests.integration.test_client_rooms import features, form_fields
from tests.integration.test_client_sources import (
    NS_CORRECT,
    NS_DATA,
    NS_MUC_OWNER,
    NS_OCCUPANT_ID,
    codes,
    fin_of,
    mam_query,
    mam_results,
    role_of,
)
from tests.integration.test_rooms import NS_DISCO_INFO, NS_MUC, NS_MUC_ADMIN, NS_MUC_USER, reveals_account
from tests.integration.test_wall_guides import message_id
from tests.support.client import Client, body_of, tag
from tests.support.muc import groupchat, join, say

NS_STORE = "<store xmlns='urn:xmpp:hints'/>"
# MultiUserChatManager.java defaultGroupChatConfiguration: the values "Create private group" pushes
GROUP_CONFIGURATION = {
    "muc#roomconfig_persistentroom": "1", "muc#roomconfig_membersonly": "1", "muc#roomconfig_publicroom": "0",
    "muc#roomconfig_whois": "anyone", "muc#roomconfig_changesubject": "0", "muc#roomconfig_allowinvites": "0",
    "muc#roomconfig_enablearchiving": "1", "mam": "1", "muc#roomconfig_mam": "1",
    "muc#roomconfig_enablelogging": "0",
    # modifyBestInteroperability: allowinvites again under Prosody's own name
    "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites": "0",
}  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack: its groups and archives stay out of other tests'."""
    with running_stack(tmp_path_factory, "client-conversations") as running:
        yield running


def occupant_id_of(element: ET.Element) -> str | None:
    found = element.find(f"{{{NS_OCCUPANT_ID}}}occupant-id")
    return found.get("id") if found is not None else None


async def conversations_joins(client: Client, room: str, nick: str) -> tuple[set[str], ET.Element]:
    """MultiUserChatManager.java join / checkConfigurationSendPresenceFetchHistory: the room's disco#info, then a
    join asking for no history when the room has MAM; a room that is non-anonymous but not members-only is
    refused by the client itself (MucOptions.Error.NON_ANONYMOUS). The room's features and the self-presence."""
    info = await iq(client, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    room_features = features(info) if info.get("type") == "result" else set()
    assert not ({"muc_nonanonymous"} <= room_features and "muc_membersonly" not in room_features)
    history = "<history maxstanzas='0'/>" if NS_MAM in room_features else "<history since='1970-01-01T00:00:00Z'/>"
    start = client.mark()
    client.send_raw(f"<presence to='{room}/{nick}'><x xmlns='{NS_MUC}'>{history}</x></presence>")
    own = await client.expect(
        lambda e: e.tag == tag("presence") and (e.get("from") or "").startswith(f"{room}/") and "110" in codes(e),
        start=start,
    )
    await client.expect(lambda e: e.find(tag("subject")) is not None, start=start)
    assert not [e for e in client.received[start:] if e.tag == tag("message") and body_of(e)]  # no history
    return room_features, own


async def conversations_fetches_members(client: Client, room: str) -> dict[str, list[str | None]]:
    """MultiUserChatManager.java fetchMembers, in a private group after the join: owner, admin, member lists."""
    listed = {}
    for affiliation in ("owner", "admin", "member"):
        query = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='{affiliation}'/></query>"
        answer = await iq(client, room, query, "get")
        assert answer.get("type") == "result"
        listed[affiliation] = [i.get("jid") for i in answer.iter(f"{{{NS_MUC_ADMIN}}}item")]
    return listed


def submitted_form(form: ET.Element, chosen: dict[str, str]) -> str:
    """Data.java submit: every field the room's form has, in its order, the chosen value where Conversations has
    one (booleans as 1 and 0), else the field as the room sent it; values for fields the form lacks are dropped."""
    fields = []
    for field in form.findall(f"{{{NS_DATA}}}field"):
        var = field.get("var")
        if var is None:
            continue
        if var in chosen:
            fields.append(f"<field var='{var}'><value>{chosen[var]}</value></field>")
        else:
            fields.append(ET.tostring(field, encoding="unicode"))
    return f"<x xmlns='{NS_DATA}' type='submit'>{''.join(fields)}</x>"


async def test_conversations_creates_a_private_group_as_its_source_does(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    rooms = stack.chatd.realms[0].rooms_domain
    # MultiUserChatManager.java createPrivateGroupChat: a pronounceable made-up name on the service found, then
    # join(conversation, false): disco#info first (an error is passed over), then the join; with no MAM known
    # yet, the history since the last message (none: the epoch)
    group = f"kalufeno@{rooms}"
    info = await iq(alice, group, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    assert info.get("type") == "error" and condition_of(info) == "item-not-found"
    start = alice.mark()
    alice.send_raw(f"<presence to='{group}/alice'><x xmlns='{NS_MUC}'><history since='1970-01-01T00:00:00Z'/>"
                   "</x></presence>")  # fmt: skip
    # pushConfiguration, right after the presence went out (the future does not wait for status 201):
    # fetchConfigurationForm, then Data.submit with defaultGroupChatConfiguration and the name
    config = await iq(alice, group, f"<query xmlns='{NS_MUC_OWNER}'/>", "get")
    own = await alice.expect(
        lambda e: e.tag == tag("presence") and (e.get("from") or "").startswith(f"{group}/") and "110" in codes(e),
        start=start,
    )
    assert {"110", "201"} <= set(codes(own)) and own.get("from") == f"{group}/calm-otter"
    form = config.find(f"{{{NS_MUC_OWNER}}}query/{{{NS_DATA}}}x")
    assert form is not None
    chosen = {**GROUP_CONFIGURATION, "muc#roomconfig_roomname": "Evening walks"}
    assert {"muc#roomconfig_membersonly", "muc#roomconfig_whois", "muc#roomconfig_roomname"} <= form_fields(
        config
    ).keys()
    answer = await iq(alice, group, f"<query xmlns='{NS_MUC_OWNER}'>{submitted_form(form, chosen)}</query>")
    assert answer.get("type") == "result", ET.tostring(answer, encoding="unicode")
    info = await iq(alice, group, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    assert {"muc_membersonly", "muc_nonanonymous", NS_MAM} <= features(info)  # isPrivateAndNonAnonymous
    assert [i.get("name") for i in info.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Evening walks"]

    # then for each contact chosen, invite(): someone not yet in the room is first given affiliation none
    # (setAffiliation), then the mediated invitation to the room
    bob_at = stack.pseudonym_jid("bob")
    none = f"<query xmlns='{NS_MUC_ADMIN}'><item affiliation='none' jid='{bob_at}'/></query>"
    assert (await iq(alice, group, none)).get("type") == "result"
    start = bob.mark()
    alice.send_raw(f"<message to='{group}'><x xmlns='{NS_MUC_USER}'><invite to='{bob_at}'/></x></message>")
    invite = await bob.expect(lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None, start=start)
    assert invite.get("from") == group

    # bob's Conversations: joinFollowingInvite, then the join as above, then fetchMembers (a private group)
    joined_from = bob.mark()
    room_features, joined = await conversations_joins(bob, group, "bob")
    assert joined.get("from") == f"{group}/brave-heron" and role_of(joined) == "participant"
    assert {"muc_membersonly", "muc_nonanonymous"} <= room_features
    listed = await conversations_fetches_members(bob, group)
    assert listed == {"owner": [stack.pseudonym_jid("alice")], "admin": [], "member": [bob_at]}
    # (the invitation itself carries bob's own archive's stanza-id, by his account: Prosody's, for him only)
    assert reveals_account(stack, alice) == [] and reveals_account(stack, bob, joined_from) == []


async def test_conversations_catches_up_corrects_reacts_and_marks_in_a_private_group(stack: Stack, connect) -> None:
    room = "conv-group@rooms.en.localhost"
    carol, dan, _ = await said_in_room(connect, room, ("carol", "quiet-lynx"), ("dan", "steady-moose"),
                                          "first night shift done")  # fmt: skip
    await dan.close()

    # MessageGenerator.java preparePacket: in a private, non-anonymous group a markable; no origin-id where the
    # room has stable ids; a correction (edited) carries <replace id='the original's id'/>
    original = send(carol, room, f"<body>see you all tomorow</body><markable xmlns='{NS_MARKERS}'/>", "groupchat")
    first_copy = await carol.expect(groupchat(room, "tomorow"))
    correction = f"<markable xmlns='{NS_MARKERS}'/><replace xmlns='{NS_CORRECT}' id='{original}'/>"
    corrected = send(carol, room, f"<body>see you all tomorrow</body>{correction}", "groupchat")
    live = await carol.expect(groupchat(room, "tomorrow"))
    assert live.find(f"{{{NS_CORRECT}}}replace").get("id") == original  # live too, from the same occupant
    assert occupant_id_of(live) == occupant_id_of(first_copy) is not None

    phone = await connect("dan")
    room_features, own = await conversations_joins(phone, room, "steady-moose")
    # ConversationFragment.java: reactions and corrections in a room only with occupant ids (MucOptions.occupantId)
    # and the own occupant-id from the self-presence (XmppConnectionService.java sendReactions)
    assert {NS_OCCUPANT_ID, "http://jabber.org/protocol/muc#stable_id"} <= room_features and occupant_id_of(own)
    assert await conversations_fetches_members(phone, room) != {}

    # MessageArchiveManager.java catchupMUC: a conversation with nothing in it yet, a reverse query with no
    # filter: the last 50, before the end (toQuery, Range REVERSE with no id)
    start = phone.mark()
    complete, _, last = fin_of(await iq(phone, room, mam_query({}, "<max>50</max><before/>", "conv-1")))
    got = mam_results(phone, start)
    assert complete and last == got[-1][0]
    texts = [(kept.get("id"), body_of(kept)) for _, kept in got]
    assert texts[-2:] == [(original, "see you all tomorow"), (corrected, "see you all tomorrow")]
    kept_original, kept_correction = got[-2][1], got[-1][1]
    # MessageParser.java: a correction replaces the message found by that id from the same room/nick, when the
    # occupant ids (or the real addresses) match
    assert kept_correction.find(f"{{{NS_CORRECT}}}replace").get("id") == original
    assert kept_original.get("from") == kept_correction.get("from") == f"{room}/quiet-lynx"
    assert occupant_id_of(kept_original) == occupant_id_of(kept_correction) is not None

    # later joins: catchupMUC from the last message kept: the form's start and <after> its stanza-id, 50 at a time
    start = phone.mark()
    send(carol, room, "<body>one more thing</body>", "groupchat")
    spoken = await carol.expect(groupchat(room, "one more thing"))
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    catch_up = mam_query({"start": since.strftime("%Y-%m-%dT%H:%M:%SZ")}, f"<max>50</max><after>{last}</after>",
                         "conv-2")  # fmt: skip
    complete, _, _ = fin_of(await iq(phone, room, catch_up))
    assert complete and [body_of(m) for _, m in mam_results(phone, start)] == ["one more thing"]

    # XmppConnectionService.java sendReactions / MessageGenerator.java reaction: to the room, by the stanza-id,
    # every own reaction, a store hint
    start = carol.mark()
    send(phone, room, reaction(stanza_id_of(first_copy), "👍"), "groupchat")
    got_reaction = await carol.expect(having(f"{room}/steady-moose", f"{{{NS_REACTIONS}}}reactions"), start=start)
    assert got_reaction.find(f"{{{NS_REACTIONS}}}reactions").get("id") == stanza_id_of(first_copy)

    # DisplayedManager.java displayed / displayedMessage: in a private group even without markable, to the room's
    # bare address, by the stanza-id, a store hint
    start = carol.mark()
    send(phone, room, f"<displayed xmlns='{NS_MARKERS}' id='{stanza_id_of(spoken)}'/>{NS_STORE}", "groupchat")
    shown = await carol.expect(having(f"{room}/steady-moose", f"{{{NS_MARKERS}}}displayed"), start=start)
    assert shown.find(f"{{{NS_MARKERS}}}displayed").get("id") == stanza_id_of(spoken)


async def test_conversations_corrects_reacts_quotes_and_marks_in_a_chat(stack: Stack, connect) -> None:
    eve, frank, eve_at, frank_at, sent = await said_in_chat(stack, connect, "eve", "frank", "are you up")
    # MessageGenerator.java preparePacket: a chat gets a receipt request and markable; a correction names the
    # original's own id
    asks = f"<request xmlns='urn:xmpp:receipts'/><markable xmlns='{NS_MARKERS}'/>"
    start = frank.mark()
    send(eve, frank_at, f"<body>are you up?</body>{asks}<replace xmlns='{NS_CORRECT}' id='{sent}'/>")
    fixed = await frank.expect(having(eve_at, f"{{{NS_CORRECT}}}replace"), start=start)
    assert fixed.find(f"{{{NS_CORRECT}}}replace").get("id") == sent and body_of(fixed) == "are you up?"

    # sendReactions in a chat: by the message's own id (getRemoteMsgId for a received one), type chat
    start = eve.mark()
    send(frank, eve_at, reaction(sent, "❤️"))
    got = await eve.expect(having(frank_at, f"{{{NS_REACTIONS}}}reactions"), start=start)
    assert got.find(f"{{{NS_REACTIONS}}}reactions").get("id") == sent

    # Conversations has no XEP-0461 replies: "Quote" puts "> text" in the message field, a plain body
    start = eve.mark()
    send(frank, eve_at, f"<body>&gt; are you up?\nyes, cannot sleep</body>{asks}")
    quoted = await eve.expect(having(frank_at, "{jabber:client}body"), start=start)
    assert body_of(quoted) == "> are you up?\nyes, cannot sleep"

    # DisplayedManager.java displayedMessage: in a chat, to the full address it came from, by its own id
    start = eve.mark()
    send(frank, eve_at, f"<displayed xmlns='{NS_MARKERS}' id='{sent}'/>{NS_STORE}")
    shown = await eve.expect(having(frank_at, f"{{{NS_MARKERS}}}displayed"), start=start)
    assert shown.find(f"{{{NS_MARKERS}}}displayed").get("id") == sent


async def test_conversations_sees_a_message_the_wall_guides_removed_in_a_topic_room(stack: Stack, connect) -> None:
    """ModerationManager.java handleRetraction (called from MessageParser.java): a removal is applied only from the
    room's bare address, type groupchat, <retract xmlns='urn:xmpp:message-retract:1' id='stanza-id'/>, and only in
    a public channel (in a private group Conversations drops it); an author's retraction, which comes from
    room/nick, is not applied. Conversations never sends XEP-0424, and offers XEP-0425 (ConversationFragment.java:
    moderate:1, the own role moderator) only in public channels, where chatd's members are participants."""
    room = "general@rooms.en.localhost"  # a topic room
    gina, hank, _ = await said_in_room(connect, room, ("gina", "gentle-crane"), ("hank", "humble-bison"),
                                          "the station café opens at six")  # fmt: skip
    await hank.close()
    phone = await connect("hank")
    room_features, own = await conversations_joins(phone, room, "humble-bison")
    assert "urn:xmpp:message-moderate:1" in room_features and role_of(own) == "participant"
    assert not {"muc_membersonly", "muc_nonanonymous"} <= room_features  # a public channel to Conversations
    wendy, shadow = await connect("wendy"), "en-room-general@watch.localhost"
    await join(wendy, shadow, "sturdy-owl")
    start = phone.mark()
    send(gina, room, "<body>bring the blue scarf</body>", "groupchat")
    spoken = await phone.expect(groupchat(room, "blue scarf"), start=start)
    line = await wendy.expect(groupchat(shadow, "blue scarf"))
    say(wendy, shadow, f"!remove {message_id(body_of(line) or '')} off topic")
    gone = await phone.expect(having(room, f"{{{NS_RETRACT}}}retract"), start=start)
    assert gone.get("from") == room and gone.get("type") == "groupchat"
    assert body_of(gone) is None  # MessageParser.java calls handleRetraction only for a message with no body
    assert gone.find(f"{{{NS_RETRACT}}}retract").get("id") == stanza_id_of(spoken)
    assert archived(stack, "room:en:general", "bring the blue scarf")[2] == "removed"


async def test_conversations_private_messages_in_a_room(stack: Stack, connect) -> None:
    """MessageGenerator.java preparePacket for a private message: type chat to room/nick, an empty muc#user <x/>
    and a receipt request (no markable); XmppConnectionService.java sendReactions: to room/nick, by the id the
    author gave it; DeliveryReceiptManager: the receipt, to room/nick."""
    room = "general@rooms.en.localhost"
    eve, frank = await connect("eve"), await connect("frank")
    for client, nick in ((eve, "swift-hare"), (frank, "kind-robin")):
        await conversations_joins(client, room, nick)
    eve_in, frank_in = f"{room}/swift-hare", f"{room}/kind-robin"
    pm = f"<x xmlns='{NS_MUC_USER}'/><request xmlns='urn:xmpp:receipts'/>"
    asked = send(eve, frank_in, f"<body>can we talk after the meeting?</body>{pm}")
    got = await frank.expect(lambda e: e.get("from") == eve_in and "after the meeting" in (body_of(e) or ""))
    assert got.get("id") == asked and got.get("type") == "chat"
    assert got.find("{urn:xmpp:receipts}request") is not None  # else Conversations sends no receipt

    start = eve.mark()
    send(frank, eve_in, f"<received xmlns='urn:xmpp:receipts' id='{asked}'/>")
    receipt = await eve.expect(having(frank_in, "{urn:xmpp:receipts}received"), start=start)
    assert receipt.find("{urn:xmpp:receipts}received").get("id") == asked

    start = frank.mark()
    send(eve, frank_in, f"<body>can we talk after the meeting today?</body>{pm}"
                        f"<replace xmlns='{NS_CORRECT}' id='{asked}'/>")  # fmt: skip
    fixed = await frank.expect(having(eve_in, f"{{{NS_CORRECT}}}replace"), start=start)
    assert fixed.find(f"{{{NS_CORRECT}}}replace").get("id") == asked and "today" in (body_of(fixed) or "")

    start = eve.mark()
    send(frank, eve_in, reaction(asked, "👍"))
    got = await eve.expect(having(frank_in, f"{{{NS_REACTIONS}}}reactions"), start=start)
    assert got.find(f"{{{NS_REACTIONS}}}reactions").get("id") == asked


# Cheogram and its forks (Conversations forks that added these before Conversations did): read in
# rent-yr-chemicals/gayogram (a Cheogram fork, July 2023; Cheogram's commits by its author, Feb-Mar 2023) and
# Jeka38/MonoclesMod (a monocles chat fork, May 2026), same paths


async def test_cheogram_forks_remove_as_owner_and_retract_their_own_in_a_group(stack: Stack, connect) -> None:
    room = "cheogram-group@rooms.en.localhost"
    gina, hank, _ = await said_in_room(connect, room, ("gina", "gentle-crane"), ("hank", "humble-bison"),
                                       "i moved to the coast")  # fmt: skip
    info = await iq(gina, room, f"<query xmlns='{NS_DISCO_INFO}'/>", "get")
    # ConversationFragment.java: "moderate" offered to a moderator when the room has message-moderate:0
    assert "urn:xmpp:message-moderate:0" in features(info)
    # IqGenerator.java moderateMessage: the older fastened form, by the stanza-id, with a reason
    send(hank, room, "<body>ask me where exactly</body>", "groupchat")
    spoken = await gina.expect(groupchat(room, "where exactly"))
    start = hank.mark()
    moderate = (
        f"<apply-to xmlns='urn:xmpp:fasten:0' id='{stanza_id_of(spoken)}'>"
        "<moderate xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/>"
        "<reason>keep it private</reason></moderate></apply-to>"
    )
    assert (await iq(gina, room, moderate)).get("type") == "result"
    gone = await hank.expect(having(room, "{urn:xmpp:fasten:0}apply-to"), start=start)
    assert gone.find("{urn:xmpp:fasten:0}apply-to").get("id") == stanza_id_of(spoken)  # MessageParser.java
    assert body_of(gone) is None
    assert archived(stack, "room:en:cheogram-group", "ask me where exactly")[2] == "removed"

    # MonoclesMod MessageGenerator.java preparePacket (a deleted message): <apply-to id='its own id'> with a
    # message-retract:0 <retract/>, an empty fallback marker, a store hint and a fallback body; an origin-id
    own = send(gina, room, "<body>my street is elm road</body>", "groupchat")
    await hank.expect(groupchat(room, "elm road"))
    start = hank.mark()
    send(gina, room, f"<body>This person attempted to retract a previous message, but it's unsupported by your "
                     f"client.</body><origin-id xmlns='urn:xmpp:sid:0' id='retract-{own}'/>"
                     f"<apply-to xmlns='urn:xmpp:fasten:0' id='{own}'><retract xmlns='urn:xmpp:message-retract:0'/>"
                     f"</apply-to><fallback xmlns='urn:xmpp:fallback:0'/>{NS_STORE}", "groupchat")  # fmt: skip
    retracted = await hank.expect(having(f"{room}/gentle-crane", f"{{{NS_RETRACT}}}retract"), start=start)
    assert retracted.find("{urn:xmpp:fasten:0}apply-to") is not None
    assert "attempted to retract" not in (body_of(retracted) or "")
    assert archived(stack, "room:en:cheogram-group", "my street is elm road")[2] == "retracted"
