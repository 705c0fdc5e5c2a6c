"""Room state and decisions (chatd.core.rooms), without any server."""

from __future__ import annotations

from chatd.core.message import ChatMessage
from chatd.core.model import Member, Role, Status
from chatd.core.refusal import Refusal
from chatd.core.rooms import (
    HistoryRequest,
    JoinPlan,
    MucRole,
    Room,
    RoomKind,
    check_groupchat,
    enter,
    leave,
    may_invite,
    may_manage,
    occupant_id,
    plan_join,
    remove_occupant,
)


def member(member_id: int, pseudonym: str, realm: str = "en", role: Role = Role.MEMBER) -> Member:
    return Member(member_id, f"user{member_id}@localhost", realm, pseudonym, role, Status.ACTIVE, 0.0)


ALICE, BOB, GUIDE = member(1, "calm-otter"), member(2, "brave-heron"), member(3, "sturdy-owl", role=Role.WALL_GUIDE)


def topic() -> Room:
    return Room("general", "en", RoomKind.TOPIC, "General", "", b"salt-1")


def group() -> Room:
    return Room("walks", "en", RoomKind.GROUP, "walks", "", b"salt-2", owner_id=ALICE.id, members={ALICE.id})


def test_join_rewrites_the_nick_and_creates_groups_for_new_names() -> None:
    plan = plan_join(topic(), "general", ALICE, "Alice", owned_groups=0)
    assert plan == JoinPlan("calm-otter", rewritten=True, created=False, first_session=True)
    created = plan_join(None, "new-group", ALICE, "calm-otter", owned_groups=0)
    assert isinstance(created, JoinPlan) and created.created and not created.rewritten
    assert isinstance(plan_join(None, "x", ALICE, "a", owned_groups=0), Refusal)
    assert isinstance(plan_join(None, "Bad_Name", ALICE, "a", owned_groups=0), Refusal)
    assert isinstance(plan_join(None, "fine-name", ALICE, "a", owned_groups=20), Refusal)


def test_groups_are_members_only_and_managed_by_their_owner() -> None:
    room = group()
    refusal = plan_join(room, "walks", BOB, "bob", owned_groups=0)
    assert isinstance(refusal, Refusal) and refusal.condition == "registration-required"
    room.members.add(BOB.id)
    assert isinstance(plan_join(room, "walks", BOB, "bob", owned_groups=0), JoinPlan)
    assert may_manage(room, ALICE) is None and may_manage(room, GUIDE) is None
    assert isinstance(may_manage(room, BOB), Refusal) and isinstance(may_invite(room, BOB), Refusal)
    assert may_invite(topic(), BOB) is None
    assert room.visible_to(BOB) and not group().visible_to(BOB)
    assert not topic().visible_to(member(9, "doux-castor", realm="fr"))


def test_occupants_with_several_clients_leave_when_the_last_one_goes() -> None:
    room = topic()
    first = enter(room, ALICE, "user1@localhost/a", b"'a'", "Alice")
    assert enter(room, ALICE, "user1@localhost/b", b"'b'", "calm-otter") is first
    assert (
        first.role is MucRole.PARTICIPANT and enter(room, GUIDE, "g@localhost/x", b"'g'", "g").role is MucRole.MODERATOR
    )
    assert leave(room, "user1@localhost/a") is None
    assert leave(room, "user1@localhost/b") is first
    assert ALICE.id not in room.occupants and "user1@localhost/b" not in room.by_session
    assert remove_occupant(room, GUIDE.id) is not None and not room.by_session


def test_occupant_ids_are_stable_per_room_and_differ_between_rooms() -> None:
    assert occupant_id(b"salt-1", 1) == occupant_id(b"salt-1", 1)
    assert occupant_id(b"salt-1", 1) != occupant_id(b"salt-2", 1)
    assert occupant_id(b"salt-1", 1) != occupant_id(b"salt-1", 2)
    assert occupant_id(b"salt-1", 1) != "1"


def test_history_request_window_and_trim() -> None:
    assert HistoryRequest().window(1000.0) == (20, None)
    assert HistoryRequest(maxstanzas=5, seconds=60).window(1000.0) == (5, 940.0)
    assert HistoryRequest(maxstanzas=5, seconds=60, since=990.0).window(1000.0) == (5, 990.0)
    assert HistoryRequest(maxchars=0).window(1000.0)[0] == 0
    assert HistoryRequest(maxchars=7).trim(["aaaa", "bbb", "cccc"]) == ["bbb", "cccc"]
    assert HistoryRequest().trim(["a", "b"]) == ["a", "b"]


def test_groupchat_rules() -> None:
    assert check_groupchat(ChatMessage("1", "groupchat", body="hi"), 100) is None
    assert isinstance(check_groupchat(ChatMessage("1", "chat", body="hi"), 100), Refusal)
    assert isinstance(check_groupchat(ChatMessage("1", "groupchat", body="x" * 101), 100), Refusal)
    assert isinstance(check_groupchat(ChatMessage("1", "groupchat", body="hi", encrypted=True), 100), Refusal)
