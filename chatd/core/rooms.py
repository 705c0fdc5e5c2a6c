"""Topic rooms and private groups: room state and the decisions of a MUC service, without I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from chatd.core import keys
from chatd.core.message import ChatMessage, check_message
from chatd.core.model import Member, Role
from chatd.core.refusal import Refusal

GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,31}$")
MAX_GROUPS_OWNED = 20
DEFAULT_HISTORY = 20  # messages sent on join when the client does not say
MAX_HISTORY = 100


class RoomKind(StrEnum):
    TOPIC = "topic"  # from config: public within its realm, persistent
    GROUP = "group"  # made by a member: members-only, invite-only, hidden


class Affiliation(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    NONE = "none"


class MucRole(StrEnum):
    MODERATOR = "moderator"
    PARTICIPANT = "participant"


@dataclass(slots=True)
class Occupant:
    member: Member
    occupant_id: str  # XEP-0421: stable per member and room, reveals nothing
    role: MucRole
    # full JID of each joined client -> (its quoted address, ready to send; the nick it asked for)
    sessions: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    @property
    def nick(self) -> str:
        return self.member.pseudonym


@dataclass(slots=True)
class Room:
    local: str
    realm: str
    kind: RoomKind
    name: str
    description: str
    salt: bytes
    tags: tuple[str, ...] = ()
    owner_id: int | None = None
    members: set[int] = field(default_factory=set)  # a group's members, its owner included
    subject: str = ""
    subject_nick: str = ""
    occupants: dict[int, Occupant] = field(default_factory=dict)  # member id -> occupant, in join order
    by_session: dict[str, Occupant] = field(default_factory=dict)  # full JID -> occupant

    @property
    def key(self) -> str:
        """The room's conversation key: its queue and its archive."""
        return str(keys.room(self.realm, self.local))

    @property
    def is_group(self) -> bool:
        return self.kind is RoomKind.GROUP

    @property
    def shown_subject(self) -> str:
        """The subject sent on join: the one set, else the room's description, else its name (never empty)."""
        return self.subject or self.description or self.name

    def shows_address(self, member: Member) -> bool:
        """Groups are non-anonymous to their members: occupants carry their pseudonym's address (guides never)."""
        return self.is_group and not is_guide(member)

    def affiliation(self, member: Member) -> Affiliation:
        if self.owner_id == member.id:
            return Affiliation.OWNER
        if member.id in self.members:
            return Affiliation.MEMBER
        return Affiliation.NONE

    def visible_to(self, member: Member) -> bool:
        """Listed and discoverable: topic rooms of the realm, and groups the member belongs to."""
        if member.realm != self.realm:
            return False
        return not self.is_group or member.id in self.members or is_guide(member)

    def by_nick(self, nick: str) -> Occupant | None:
        return next((o for o in self.occupants.values() if o.nick == nick), None)

    def occupant_of(self, full_jid: str) -> Occupant | None:
        return self.by_session.get(full_jid)

    def addresses(self) -> Iterator[bytes]:
        for occupant in self.occupants.values():
            for quoted, _ in occupant.sessions.values():
                yield quoted


def is_guide(member: Member) -> bool:
    return member.role in (Role.WALL_GUIDE, Role.SENIOR_CLINICIAN)


def occupant_id(salt: bytes, member_id: int) -> str:
    digest = hmac.new(salt, str(member_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


# joining


@dataclass(frozen=True, slots=True)
class JoinPlan:
    nick: str
    rewritten: bool  # status 210: the nick asked for was not the pseudonym
    created: bool  # status 201: this join made a new group
    first_session: bool  # the member was not in the room yet: occupants are told


def plan_join(
    room: Room | None, local: str, member: Member, requested_nick: str, owned_groups: int
) -> JoinPlan | Refusal:
    """Whether the member may enter (or create) the room, and how the join looks."""
    nick = member.pseudonym
    rewritten = requested_nick != nick
    if room is None:
        if not GROUP_NAME.fullmatch(local):
            return Refusal("not-acceptable", "error.room_bad_name", kind="modify")
        if owned_groups >= MAX_GROUPS_OWNED:
            return Refusal("not-allowed", "error.room_too_many_groups", params={"limit": str(MAX_GROUPS_OWNED)})
        return JoinPlan(nick, rewritten, created=True, first_session=True)
    if room.realm != member.realm:
        return Refusal("forbidden", "error.other_realm", kind="auth", bilingual=True)
    if room.is_group and room.affiliation(member) is Affiliation.NONE:
        return Refusal("registration-required", "error.room_members_only", kind="auth")
    return JoinPlan(nick, rewritten, created=False, first_session=member.id not in room.occupants)


def enter(room: Room, member: Member, full_jid: str, quoted: bytes, requested_nick: str) -> Occupant:
    occupant = room.occupants.get(member.id)
    if occupant is None:
        moderator = is_guide(member) or room.affiliation(member) is Affiliation.OWNER
        occupant = Occupant(
            member, occupant_id(room.salt, member.id), MucRole.MODERATOR if moderator else MucRole.PARTICIPANT
        )
        room.occupants[member.id] = occupant
    occupant.sessions[full_jid] = (quoted, requested_nick)
    room.by_session[full_jid] = occupant
    return occupant


def leave(room: Room, full_jid: str) -> Occupant | None:
    """Removes one client; returns the occupant when that was its last client (it left the room)."""
    occupant = room.by_session.pop(full_jid, None)
    if occupant is None:
        return None
    occupant.sessions.pop(full_jid, None)
    if occupant.sessions:
        return None
    del room.occupants[occupant.member.id]
    return occupant


def remove_occupant(room: Room, member_id: int) -> Occupant | None:
    """Takes a member out of the room with all of its clients (kick, removal from a group)."""
    occupant = room.occupants.pop(member_id, None)
    if occupant is not None:
        for full_jid in occupant.sessions:
            room.by_session.pop(full_jid, None)
    return occupant


def is_own_nick(occupant: Occupant, full_jid: str, nick: str) -> bool:
    """A presence to room/nick from a joined client updates it, unless nick is someone else's: a nick change."""
    session = occupant.sessions.get(full_jid)
    return nick == occupant.nick or (session is not None and nick == session[1])


# history on join


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """XEP-0045 <history/>: None for each limit the client did not set."""

    maxstanzas: int | None = None
    maxchars: int | None = None
    seconds: int | None = None
    since: float | None = None

    def window(self, now: float) -> tuple[int, float | None]:
        """How many recent messages to fetch at most, and from when."""
        limit = DEFAULT_HISTORY if self.maxstanzas is None else max(0, min(self.maxstanzas, MAX_HISTORY))
        if self.maxchars == 0:
            limit = 0
        starts = [t for t in (self.since, None if self.seconds is None else now - self.seconds) if t is not None]
        return limit, max(starts) if starts else None

    def trim(self, stanzas: list[str]) -> list[str]:
        """Drops the oldest stanzas until the total fits maxchars."""
        if self.maxchars is None:
            return stanzas
        total, kept = 0, 0
        for stanza in reversed(stanzas):
            total += len(stanza)
            if total > self.maxchars:
                break
            kept += 1
        return stanzas[len(stanzas) - kept :]


# what occupants may do


def check_groupchat(message: ChatMessage, max_body_chars: int) -> Refusal | None:
    """The rules of one-on-one chat (no encryption, size, content) hold in rooms; only the type differs."""
    if message.type != "groupchat":
        return Refusal("bad-request", "error.wrong_type")
    return check_message(replace(message, type="normal"), max_body_chars)


def may_set_subject(room: Room, occupant: Occupant) -> Refusal | None:
    if occupant.role is MucRole.MODERATOR:
        return None
    return Refusal("forbidden", "error.room_owner_only" if room.is_group else "error.room_guides_only", kind="auth")


def may_manage(room: Room, member: Member) -> Refusal | None:
    """Adding and removing members, kicking: the group's owner, and Wall Guides anywhere."""
    if is_guide(member) or (room.is_group and room.owner_id == member.id):
        return None
    return Refusal("forbidden", "error.room_owner_only" if room.is_group else "error.room_guides_only", kind="auth")


def may_invite(room: Room, member: Member) -> Refusal | None:
    """Anyone may point a realm member to a topic room; only the owner brings people into a group."""
    return may_manage(room, member) if room.is_group else None
