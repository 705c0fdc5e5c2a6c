"""Following topic rooms without joining them: paces, what a member names, and the digest (no I/O).

A member follows a room or a tag ("!follow sleep daily"); at their pace they get one short,
content-free digest: how many new messages each followed room had since the last one, never a text
or an author. Here: reading the command, finding the room or tag, when a digest is due, and what it
says (keys and numbers; chatd/follows.py words it in the member's language).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from chatd.core.tags import ListedRoom, fold


class Pace(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    OFF = "off"


PERIODS = {Pace.HOURLY: 3600.0, Pace.DAILY: 86400.0}
DEFAULT_PACE = Pace.DAILY
# what members may type for a pace, in both languages (accents and case folded)
PACE_WORDS = {
    "hourly": Pace.HOURLY,
    "horaire": Pace.HOURLY,
    "heure": Pace.HOURLY,
    "daily": Pace.DAILY,
    "quotidien": Pace.DAILY,
    "jour": Pace.DAILY,
    "off": Pace.OFF,
    "stop": Pace.OFF,
    "arret": Pace.OFF,
}
ROOM_PREFIX, TAG_PREFIX = "room:", "tag:"
TAG_WORDS = frozenset({"tag", "etiquette"})  # "!follow tag military": the tag, not the room of that name
LAST_HOUR = 3900.0  # a window up to this long reads "in the last hour"


def parse_pace(word: str) -> Pace | None:
    return PACE_WORDS.get(fold(word.strip()))


@dataclass(frozen=True, slots=True)
class FollowRequest:
    """ "!follow <room or tag> [pace]": the words naming a room or tag (may be empty), and the pace if given."""

    target: str
    pace: Pace | None


def parse_follow(argument: str) -> FollowRequest:
    """The last word is the pace when it is one: "sleep daily", "daily", "Military life"."""
    words = argument.split()
    pace = parse_pace(words[-1]) if words else None
    if pace is not None:
        words = words[:-1]
    return FollowRequest(" ".join(words), pace)


def target_of(words: str, rooms: Sequence[ListedRoom], labels: Mapping[str, Sequence[str]]) -> str | None:
    """The follow target ("room:<id>" or "tag:<id>") a member names: a room's id, name or address, or a
    tag's id or name in any language ("#military" or "tag military": the tag even where a room has that
    name); None when nothing of the realm matches."""
    text = words.strip()
    text = re.sub(r"^xmpp:", "", text, flags=re.IGNORECASE).split("?", 1)[0].split("@", 1)[0]
    wanted = fold(text).strip()
    first, _, rest = wanted.partition(" ")
    tag_only = wanted.startswith("#") or (first in TAG_WORDS and bool(rest))
    if tag_only:
        wanted = wanted[1:].strip() if wanted.startswith("#") else rest.strip()
    if not wanted:
        return None
    for room in rooms if not tag_only else ():
        if wanted in (room.local, fold(room.name)):
            return ROOM_PREFIX + room.local
    tags = {t for room in rooms for t in room.tags}
    for tag in sorted(tags):
        if wanted == tag or wanted in (fold(name) for name in labels.get(tag, ())):
            return TAG_PREFIX + tag
    return None


def rooms_of(target: str, rooms: Iterable[ListedRoom]) -> list[ListedRoom]:
    """The rooms a target covers today (a tag: every room that carries it)."""
    if target.startswith(ROOM_PREFIX):
        return [r for r in rooms if r.local == target[len(ROOM_PREFIX) :]]
    if target.startswith(TAG_PREFIX):
        return [r for r in rooms if target[len(TAG_PREFIX) :] in r.tags]
    return []


def followed_since(follows: Mapping[str, float], rooms: Sequence[ListedRoom], since: float) -> dict[str, float]:
    """Room id -> from when its new messages count: the last digest, or a later follow of that room
    (followed directly and by a tag: the earlier follow). Rooms in the realm's order."""
    starts: dict[str, float] = {}
    for room in rooms:
        begun = [at for target, at in follows.items() if room in rooms_of(target, rooms)]
        if begun:
            starts[room.local] = max(since, min(begun))
    return starts


def next_due(since: float, pace: Pace) -> float | None:
    """When the digest for a window that began at `since` is due (None: off)."""
    period = PERIODS.get(pace)
    return None if period is None else since + period


@dataclass(frozen=True, slots=True)
class Since:
    """How a count window's start is said: key "last_hour", "time" (today), "yesterday" or "date"; UTC."""

    key: str
    params: tuple[tuple[str, str], ...] = ()


def since_wording(start: float, now: float) -> Since:
    if now - start <= LAST_HOUR:
        return Since("last_hour")
    begun, today = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(now, UTC)
    days = (today.date() - begun.date()).days
    if days == 0:
        return Since("time", (("time", begun.strftime("%H:%M")),))
    if days == 1:
        return Since("yesterday")
    return Since("date", (("date", begun.strftime("%Y-%m-%d")),))


@dataclass(frozen=True, slots=True)
class DigestLine:
    room: str  # the room's id (its address is <id>@<rooms domain>)
    name: str
    count: int
    since: Since


def compose(
    rooms: Sequence[ListedRoom], starts: Mapping[str, float], counts: Mapping[str, int], now: float
) -> list[DigestLine]:
    """One line per followed room with new messages, in the realm's order; none when nothing is new."""
    return [
        DigestLine(room.local, room.name, counts[room.local], since_wording(starts[room.local], now))
        for room in rooms
        if room.local in starts and counts.get(room.local, 0) > 0
    ]
