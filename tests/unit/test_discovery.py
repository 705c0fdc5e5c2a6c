"""Which services an account sees in the server's list, and what pseudonyms answer about profiles."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chatd.core.model import Directory, Member, Realm, Role, Status
from chatd.core.rooms import Room, RoomKind
from chatd.xmpp import discovery

NS = "urn:chatd:services:0"


def member(member_id: int, account: str, realm: str, role: Role = Role.MEMBER, active: bool = True) -> Member:
    status = Status.ACTIVE if active else Status.SUSPENDED
    return Member(member_id, account, realm, f"name-{member_id}", role, status, 0.0)


def ask(account: str, sender: str = "localhost") -> ET.Element:
    return ET.fromstring(
        f"<iq xmlns='jabber:component:accept' type='get' id='a1' from='{sender}' to='en.localhost'>"
        f"<query xmlns='{NS}' account='{account}'/></iq>"
    )


def listed(answer: str) -> list[str]:
    return [i.get("jid", "") for i in ET.fromstring(answer).iter(f"{{{NS}}}item")]


def test_members_see_their_realms_rooms_guides_also_the_watch_domain_others_nothing() -> None:
    realm = Realm("en", "en", "en.localhost", "rooms.en.localhost")
    directory = Directory(
        [
            member(1, "a@localhost", "en"),
            member(2, "g@localhost", "en", Role.WALL_GUIDE),
            member(3, "f@localhost", "fr"),
            member(4, "s@localhost", "en", active=False),
        ]
    )

    def seen(account: str) -> list[str]:
        return listed(discovery.services_answer(ask(account), realm, directory, "watch.localhost"))

    assert seen("a@localhost") == ["rooms.en.localhost"]
    assert seen("g@localhost") == ["rooms.en.localhost", "watch.localhost"]
    assert seen("f@localhost") == [] and seen("s@localhost") == [] and seen("nobody@localhost") == []


def test_only_the_server_itself_may_ask() -> None:
    assert discovery.is_services_request(ask("a@localhost"), "localhost")
    assert not discovery.is_services_request(ask("a@localhost", sender="b@localhost/phone"), "localhost")


def test_profile_requests_are_pubsub_and_vcard() -> None:
    pubsub = ET.fromstring("<pubsub xmlns='http://jabber.org/protocol/pubsub'/>")
    ping = ET.fromstring("<ping xmlns='urn:xmpp:ping'/>")
    assert discovery.is_profile_request(pubsub) and not discovery.is_profile_request(ping)
    assert discovery.NOTHING_PUBLISHED.condition == "item-not-found"


def test_the_subject_on_join_is_never_empty() -> None:
    room = Room("walks", "en", RoomKind.GROUP, "Walks", "", b"")
    assert room.shown_subject == "Walks"
    room.description = "Sunday mornings"
    assert room.shown_subject == "Sunday mornings"
    room.subject = "Next: the river path"
    assert room.shown_subject == "Next: the river path"
