"""Reactions, replies, markers, retractions and owners' removals: parsing and the core's rules."""

import xml.etree.ElementTree as ET
from dataclasses import replace

from chatd.core.message import ChatMessage, check_message, is_emoji, quote_end_after
from chatd.core.model import Member, Role, Status
from chatd.core.pipeline import ArchivedMessage, archive_record
from chatd.core.retraction import may_moderate, may_retract
from chatd.core.rooms import Room, RoomKind
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.payloads import kept_refs, refs_of
from chatd.xmpp.muc.references import moderation_request

HEAD = "<message xmlns='jabber:client' to='calm-otter@en.h' type='chat' id='m2'>"


def parse(inner: str) -> ChatMessage:
    return st.parse_message(ET.fromstring(f"{HEAD}{inner}</message>"))


def member(member_id: int, role: Role = Role.MEMBER) -> Member:
    return Member(member_id, f"user{member_id}@h", "en", f"name-{member_id}", role, Status.ACTIVE, 0.0)


def test_emoji_only() -> None:
    for emoji in ("👍", "❤️", "🇫🇷", "👩‍👩‍👧", "👍🏽", "1️⃣", "✅", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"):
        assert is_emoji(emoji), emoji
    for other in ("", "ok", "1", "👍 ok", "<b>", "👍" * 17, "call 555"):
        assert not is_emoji(other), other


def test_reactions_are_parsed_carried_and_checked() -> None:
    message = parse("<reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction>"
                    "<reaction>👍</reaction><reaction>😢</reaction></reactions>")  # fmt: skip
    assert message.reactions_to == "m1" and message.reactions == ("👍", "😢") and check_message(message, 100) is None
    built = ET.fromstring(st.build_message("calm-otter@en.h", "b@h", message))
    assert [r.text for r in built.iter("{urn:xmpp:reactions:0}reaction")] == ["👍", "😢"]
    assert built.find("{urn:xmpp:hints}store") is not None and built.find("body") is None
    words = parse("<body>fallback</body><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>yes</reaction>"
                  "</reactions>")  # fmt: skip
    refusal = check_message(words, 100)
    assert refusal is not None and (refusal.condition, refusal.text) == ("not-acceptable", "error.reaction_not_emoji")
    nameless = parse("<reactions xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions>")
    refusal = check_message(nameless, 100)
    assert refusal is not None and (refusal.condition, refusal.text) == ("bad-request", "error.reaction_malformed")
    emptied = parse("<reactions xmlns='urn:xmpp:reactions:0' id='m1'/>")
    assert emptied.reactions == () and check_message(emptied, 100) is None


def test_replies_markable_and_their_fallback() -> None:
    body = "&gt; you said\n&gt; this\nyes"
    message = parse(f"<body>{body}</body><reply xmlns='urn:xmpp:reply:0' to='x@h/r' id='m1'/>"
                    "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='18'/>"
                    "</fallback><markable xmlns='urn:xmpp:chat-markers:0'/>")  # fmt: skip
    assert (message.reply_to, message.reply_author, message.quote_end, message.markable) == ("m1", "x@h/r", 18, True)
    built = ET.fromstring(st.build_message("calm-otter@en.h", "b@h", message))
    assert built.find("{urn:xmpp:chat-markers:0}markable") is not None
    assert built.find("{urn:xmpp:fallback:0}fallback/{urn:xmpp:fallback:0}body").get("end") == "18"
    assert parse("<body>a</body><reply xmlns='urn:xmpp:reply:0' to='x@h'/>").malformed == "error.reply_malformed"
    wrong = parse(
        "<body>a</body><reply xmlns='urn:xmpp:reply:0' id='m1'/>"
        "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='9'/></fallback>"
    )
    assert wrong.malformed == "error.reply_malformed"


def test_the_quote_ends_where_its_lines_end_after_redaction() -> None:
    original = "> call me at 555 0142\n> ok?\nsure"
    redacted = "> call me at [phone number removed]\n> ok?\nsure"
    assert redacted[quote_end_after(original, 28, redacted) :] == "sure"
    assert quote_end_after(original, 28, original) == 28
    assert quote_end_after("> a b", 3, "> [x] b") == 0  # not whole lines: the range is dropped


def test_retractions_in_both_forms() -> None:
    current = parse("<retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>fallback</body>")
    older = parse("<apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract xmlns='urn:xmpp:message-retract:0'/>"
                  "</apply-to><body>fallback</body>")  # fmt: skip
    assert current.retracts == older.retracts == "m1" and not current.carries_body
    assert check_message(current, 100) is None
    assert parse("<retract xmlns='urn:xmpp:message-retract:1'/>").malformed == "error.retract_malformed"


def test_who_may_take_what_back() -> None:
    author, other, guide = member(1), member(2), member(3, Role.WALL_GUIDE)
    found: ArchivedMessage = archive_record("s1", "room:en:g", author.id, "text", 0.0)
    assert may_retract(found, author) is None
    assert may_retract(found, other).condition == "forbidden"
    assert may_retract(None, author).condition == "item-not-found"
    group = Room("g", "en", RoomKind.GROUP, "g", "", b"salt", owner_id=other.id, members={1, 2})
    assert may_moderate(group, other, found) is None and may_moderate(group, guide, found) is None
    assert may_moderate(group, author, found).condition == "forbidden"
    assert may_moderate(group, other, None).condition == "item-not-found"
    post = archive_record("s2", "room:en:g", 0, "from the guides", 0.0)
    assert may_moderate(group, other, post).condition == "forbidden"


def test_moderation_requests_in_both_forms() -> None:
    current = ET.fromstring(
        "<moderate xmlns='urn:xmpp:message-moderate:1' id='s1'>"
        "<retract xmlns='urn:xmpp:message-retract:1'/><reason> rude </reason></moderate>"
    )
    older = ET.fromstring(
        "<apply-to xmlns='urn:xmpp:fasten:0' id='s1'><moderate xmlns='urn:xmpp:message-moderate:0'>"
        "<retract xmlns='urn:xmpp:message-retract:0'/></moderate></apply-to>"
    )
    assert moderation_request(current) == ("s1", "rude") and moderation_request(older) == ("s1", "")
    assert moderation_request(ET.fromstring("<moderate xmlns='urn:xmpp:message-moderate:1' id='s1'/>")) is None


def test_a_rooms_archive_keeps_what_a_correction_replaces() -> None:
    """XEP-0308 in a room: the archive keeps the <replace/>, alone or beside a reply's reference."""
    correction = parse("<body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/>")
    kept = kept_refs(refs_of(correction), 0, "fixed")
    assert kept is not None and kept.replaces == "m1" and kept.reply_to is None
    built = ET.fromstring(f"<m>{st.carried(kept)}</m>")
    assert built.find("{urn:xmpp:message-correct:0}replace").get("id") == "m1"
    both = replace(correction, reply_to="s1", reply_author="room@h/quiet-lynx")
    kept = kept_refs(refs_of(both), 0, "fixed")
    assert kept is not None and (kept.replaces, kept.reply_to, kept.reply_author) == ("m1", "s1", "room@h/quiet-lynx")
    assert refs_of(parse("<body>plain</body>")) is None


def test_a_direct_invitation_carries_the_rooms_address_only() -> None:
    """XEP-0249 as Monal sends it (type normal, no body): the room's address, no reason or password."""
    invite = parse("<x xmlns='jabber:x:conference' jid='walk@rooms.en.h' reason='come' password='p'/>")
    assert invite.invites_to == "walk@rooms.en.h" and check_message(invite, 100) is None
    built = ET.fromstring(st.build_message("calm-otter@en.h", "b@h", invite))
    x = built.find("{jabber:x:conference}x")
    assert x is not None and x.attrib == {"jid": "walk@rooms.en.h"}
    assert check_message(parse("<x xmlns='jabber:x:conference'/>"), 100) is not None  # no room: nothing carried
