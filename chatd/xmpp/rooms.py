"""A realm's rooms domain: topic rooms and private groups as a XEP-0045 MUC service.

Room state and decisions live in chatd.core.rooms; the dispatcher and the concerns (presence,
messages, admin and owner, MAM) are in chatd/xmpp/muc/; this module adds what only members' rooms
have: topic rooms from config, the Wall Guides' posts, removals and edits, scheduled resources.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable

from chatd import i18n
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm, Role
from chatd.core.pipeline import archive_record
from chatd.core.rooms import Room, RoomKind
from chatd.ids import new_stanza_id
from chatd.store.rooms import RoomRecord, RoomRow
from chatd.xmpp.muc.base import MucBase, TopicRoom
from chatd.xmpp.muc.payloads import attrs
from chatd.xmpp.muc.references import is_reaction
from chatd.xmpp.muc.service import ROOM_FEATURES, MucService
from chatd.xmpp.ns import NS_CORRECT
from chatd.xmpp.ports import MucPorts

log = logging.getLogger("chatd.rooms")

__all__ = ["ROOM_FEATURES", "MucBase", "RoomsDomain", "TopicRoom"]


class RoomsDomain(MucService):
    """A realm's rooms domain: loading, the Wall Guides' posts, removals and edits."""

    def __init__(self, realm: Realm, topics: Iterable[TopicRoom], ports: MucPorts):
        super().__init__(realm, topics, ports)
        self.welcomed: set[tuple[int, str]] = set()  # (member, room) known welcomed: no store trip per message

    async def load(self) -> None:
        """Topic rooms from config (added to the store when new), then everything the store holds."""
        store = self.store.rooms
        for topic in self.topics:
            await store.add_room(
                self.realm.id, topic.id, RoomKind.TOPIC, topic.name, topic.description, secrets.token_bytes(16), None
            )
        for row in await store.rooms(self.realm.id):
            self._loaded(row)
        log.info("realm %s: %d rooms loaded", self.realm.id, len(self.rooms))

    def heard_changed(self, local: str) -> None:
        """Another instance made or changed the room (chatd.peers): its row is read again, in the room's order."""
        self._submit(local, lambda: self._reload(local))

    async def _reload(self, local: str) -> None:
        for row in await self.store.rooms.rooms(self.realm.id, local):
            self._loaded(row)

    def _loaded(self, row: RoomRow) -> None:
        """A room as the store has it; a room already here keeps its occupants."""
        tags = {t.id: t.tags for t in self.topics}
        if row.kind == RoomKind.TOPIC and row.local not in tags:
            return  # a topic room that was taken out of the config
        room = self.rooms.get(row.local)
        if room is not None:
            room.name, room.description, room.owner_id = row.name, row.description, row.owner_id
            room.members, room.subject, room.subject_nick = set(row.members), row.subject, row.subject_nick
            return
        self.rooms[row.local] = Room(
            local=row.local,
            realm=row.realm,
            kind=RoomKind(row.kind),
            name=row.name,
            description=row.description,
            salt=row.salt,
            tags=tags.get(row.local, ()),
            owner_id=row.owner_id,
            members=set(row.members),
            subject=row.subject,
            subject_nick=row.subject_nick,
        )

    async def post_as_guide(self, local: str, text: str) -> None:
        """A Wall Guide's message in a room: from the guides' display name, archived, never by account."""
        room = self.rooms.get(local)
        if room is None:
            return
        stanza_id = new_stanza_id()
        await self.store.archive(archive_record(stanza_id, room.key, 0, text, self.clock()))
        await self.post_record(
            local, RoomRecord(0, stanza_id, 0, self.config.watch.guide_name, None, text, self.clock())
        )

    async def _after_post(self, room: Room, member: Member) -> None:
        """A member's first post in a topic room (remembered in the store): a welcome there from the guides' name."""
        if (
            room.kind is not RoomKind.TOPIC
            or member.role is not Role.MEMBER
            or (member.id, room.local) in self.welcomed
        ):
            return
        self.welcomed.add((member.id, room.local))
        if await self.store.claim_welcome(member.id, room.key, self.clock()):
            guide = self.realm.guide_jid
            text = i18n.text(self.realm.language, "welcome.room", room=room.name, name=member.pseudonym, guide=guide)
            await self.post_as_guide(room.local, text)

    async def post_record(self, local: str, record: RoomRecord) -> None:
        """Sends an archived message (a guide's post, an approved held message) to the room's occupants."""
        room = self.rooms.get(local)
        if room is not None:
            stream = self.streams[self.domain]
            self.counters.delivered += await self._fanout(
                stream, room, b"<message to=", self._message_tail(room, record)
            )

    def is_present(self, local: str, member_id: int | None) -> bool:
        room = self.rooms.get(local)
        return room is not None and member_id in room.occupants

    async def post_private(self, local: str, author: Member, recipient_id: int, message: ChatMessage) -> None:
        """An approved held private message, to its recipient's clients in the room."""
        room = self.rooms.get(local)
        recipient = room.occupants.get(recipient_id) if room is not None else None
        if room is not None and recipient is not None:
            await self._private(self.streams[self.domain], room, author.pseudonym, recipient, message)

    async def retract(self, local: str, stanza_id: str, reason: str) -> None:
        """XEP-0425: a Wall Guide's retraction reaches every occupant; the archive keeps a tombstone."""
        room = self.rooms.get(local)
        if room is not None:
            found = await self._found(room, stanza_id)
            await self.store.moderate(stanza_id, "")
            await self._announce_retraction(room, stanza_id, reason)
            if found is not None and is_reaction(found):
                await self._reaction_removed(room, found)

    async def correct(self, local: str, record: RoomRecord, text: str) -> None:
        """A Wall Guide's edit: a XEP-0308 correction of the author's message, archived in its place."""
        await self.store.moderate(record.stanza_id, text)
        replace_xml = f"<replace xmlns='{NS_CORRECT}'{attrs(id=record.client_id or record.stanza_id)}/>"
        edited = RoomRecord(record.seq, new_stanza_id(), record.sender_id, record.nick, None, text, self.clock())
        room = self.rooms.get(local)
        if room is not None:
            await self._fanout(
                self.streams[self.domain], room, b"<message to=", self._message_tail(room, edited, extra=replace_xml)
            )

    async def post_scheduled_resources(self) -> None:
        """Posts each room's resources every resource_post_hours (a task that runs until cancelled)."""
        scheduled = [t for t in self.topics if t.resources and t.resource_post_hours > 0]
        if not scheduled:
            return
        due = {t.id: self.clock() + t.resource_post_hours * 3600 for t in scheduled}
        while True:
            await asyncio.sleep(max(0.2, min(due.values()) - self.clock()))
            for topic in scheduled:
                if self.clock() >= due[topic.id]:
                    due[topic.id] = self.clock() + topic.resource_post_hours * 3600
                    self._submit(topic.id, lambda t=topic: self.post_as_guide(t.id, self._resource_text(t.resources)))
