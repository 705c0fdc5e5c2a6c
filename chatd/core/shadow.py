"""What Wall Guides see: every reviewed text as one record, and the shadow room that mirrors it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatd.core import keys
from chatd.core.keys import KeyKind, parse_key
from chatd.core.model import Member
from policies import Verdict

SHADOW = re.compile(r"^(?P<realm>[a-z]{2,8})-(?:(?P<dm>dm)-(?P<a>\d+)-(?P<b>\d+)|(?P<room>room)-(?P<local>[a-z0-9-]+)"
                    r"|(?P<guide>guide)-(?P<member>\d+)|(?P<queue>queue))$")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A member-authored text after review, whatever the verdict: what shadow rooms and the queue get."""

    realm: str
    conversation: str  # a conversation key (chatd.core.keys), as text
    kind: str  # message, correction, subject, invite, private, config, guide
    author: Member
    recipient: Member | None
    original: str
    verdict: Verdict
    stanza_id: str | None
    at: float


def shadow_local(realm: str, conversation: str) -> str:
    """The shadow room of a conversation (room-private messages go to their room's shadow)."""
    key = parse_key(conversation)
    if key.kind is KeyKind.DM:
        low, high = key.members
        return f"{realm}-dm-{low}-{high}"
    if key.in_room:
        return f"{realm}-room-{key.room}"
    if key.kind is KeyKind.GUIDE:
        return f"{realm}-guide-{key.members[0]}"
    raise ValueError(f"no shadow room for conversation kind {key.kind.value!r}")


def queue_local(realm: str) -> str:
    return f"{realm}-queue"


@dataclass(frozen=True, slots=True)
class ShadowAddress:
    realm: str
    kind: str  # dm, room, guide, queue
    conversation: str  # "" for the queue
    member_ids: tuple[int, ...] = ()  # the dm's two members, or the guide thread's member
    room: str = ""


def parse_shadow(local: str) -> ShadowAddress | None:
    match = SHADOW.fullmatch(local)
    if match is None:
        return None
    realm = match["realm"]
    if match["dm"]:
        low, high = sorted((int(match["a"]), int(match["b"])))
        return ShadowAddress(realm, "dm", str(keys.dm(low, high)), (low, high))
    if match["room"]:
        return ShadowAddress(realm, "room", str(keys.room(realm, match["local"])), room=match["local"])
    if match["guide"]:
        return ShadowAddress(realm, "guide", str(keys.guide(int(match["member"]))), (int(match["member"]),))
    return ShadowAddress(realm, "queue", "")


def short_id(stanza_id: str) -> str:
    """What guides type to act on a message: the random tail of its stanza id."""
    return stanza_id.rpartition("-")[2]
