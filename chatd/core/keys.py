"""Conversation keys: one type, one parser. The store and the queues keep them as text (str(key)).

dm:<low>:<high>                          a one-on-one chat between two members
room:<realm>:<room>                      a topic room or private group
roompm:<realm>:<room>:<low>:<high>       private messages between two occupants of a room
guide:<member>                           a member's Ask-a-Wall-Guide thread
watch:<shadow room>                      a shadow room's own lines
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class KeyKind(StrEnum):
    DM = "dm"
    ROOM = "room"
    ROOM_PRIVATE = "roompm"
    GUIDE = "guide"
    WATCH = "watch"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    kind: KeyKind
    realm: str = ""  # rooms and their private messages
    room: str = ""  # a room's local part, or a shadow room's
    members: tuple[int, ...] = ()  # sorted: the two of a chat, or the member of a guide thread

    def __str__(self) -> str:
        return ":".join([self.kind.value, *self._parts()])

    def _parts(self) -> list[str]:
        ids = [str(m) for m in self.members]
        if self.kind in (KeyKind.ROOM, KeyKind.ROOM_PRIVATE):
            return [self.realm, self.room, *ids]
        if self.kind is KeyKind.WATCH:
            return [self.room]
        return ids

    @property
    def in_room(self) -> bool:
        """A room's conversation, its private messages included."""
        return self.kind in (KeyKind.ROOM, KeyKind.ROOM_PRIVATE)


def dm(a: int, b: int) -> ConversationKey:
    return ConversationKey(KeyKind.DM, members=tuple(sorted((a, b))))


def room(realm: str, local: str) -> ConversationKey:
    return ConversationKey(KeyKind.ROOM, realm, local)


def room_private(realm: str, local: str, a: int, b: int) -> ConversationKey:
    return ConversationKey(KeyKind.ROOM_PRIVATE, realm, local, tuple(sorted((a, b))))


def guide(member_id: int) -> ConversationKey:
    return ConversationKey(KeyKind.GUIDE, members=(member_id,))


def watch(local: str) -> ConversationKey:
    return ConversationKey(KeyKind.WATCH, room=local)


@lru_cache(maxsize=4096)  # keys are immutable; each relayed text parses its conversation's key several times
def parse_key(text: str) -> ConversationKey:
    """The key that str() wrote; ValueError for anything else."""
    head, _, rest = text.partition(":")
    parts = rest.split(":")
    try:
        kind = KeyKind(head)
        if kind is KeyKind.DM and len(parts) == 2:
            return dm(int(parts[0]), int(parts[1]))
        if kind is KeyKind.ROOM and len(parts) == 2:
            return room(parts[0], parts[1])
        if kind is KeyKind.ROOM_PRIVATE and len(parts) == 4:
            return room_private(parts[0], parts[1], int(parts[2]), int(parts[3]))
        if kind is KeyKind.GUIDE and len(parts) == 1:
            return guide(int(parts[0]))
        if kind is KeyKind.WATCH and len(parts) == 1 and parts[0]:
            return watch(parts[0])
    except ValueError:
        pass
    raise ValueError(f"not a conversation key: {text!r}")
