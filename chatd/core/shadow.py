"""What Wall Guides see: every reviewed text as one record, and the shadow room that mirrors it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatd.core.model import Member
from policies import Verdict

SHADOW = re.compile(r"^(?P<realm>[a-z]{2,8})-(?:(?P<dm>dm)-(?P<a>\d+)-(?P<b>\d+)|(?P<room>room)-(?P<local>[a-z0-9-]+)"
                    r"|(?P<guide>guide)-(?P<member>\d+)|(?P<queue>queue))$")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A member-authored text after review, whatever the verdict: what shadow rooms and the queue get."""

    realm: str
    conversation: str  # dm:1:2, room:en:general, roompm:en:general:1:2, guide:7
    kind: str  # message, correction, subject, invite, private, config, guide
    author: Member
    recipient: Member | None
    original: str
    verdict: Verdict
    stanza_id: str | None
    at: float


def shadow_local(realm: str, conversation: str) -> str:
    """The shadow room of a conversation (room-private messages go to their room's shadow)."""
    kind, _, rest = conversation.partition(":")
    if kind == "dm":
        low, high = rest.split(":")
        return f"{realm}-dm-{low}-{high}"
    if kind in ("room", "roompm"):
        return f"{realm}-room-{rest.split(':')[1]}"
    if kind == "guide":
        return f"{realm}-guide-{rest}"
    raise ValueError(f"no shadow room for conversation kind {kind!r}")


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
        return ShadowAddress(realm, "dm", f"dm:{low}:{high}", (low, high))
    if match["room"]:
        return ShadowAddress(realm, "room", f"room:{realm}:{match['local']}", room=match["local"])
    if match["guide"]:
        return ShadowAddress(realm, "guide", f"guide:{match['member']}", (int(match["member"]),))
    return ShadowAddress(realm, "queue", "")


def short_id(stanza_id: str) -> str:
    """What guides type to act on a message: the random tail of its stanza id."""
    return stanza_id.rpartition("-")[2]
