"""Presence in rooms: joining (and creating a group), status updates, leaving."""

from __future__ import annotations

import logging
import secrets
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from chatd import i18n
from chatd.core import rooms as core
from chatd.core.model import Member
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal, Refused, allowed, refuse
from chatd.core.rooms import Occupant, Room, RoomKind
from chatd.executor import Reply
from chatd.ids import new_stanza_id
from chatd.store import StoreError
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.base import MucBase
from chatd.xmpp.muc.payloads import (
    attrs,
    child,
    history_request,
    no_notice,
)
from chatd.xmpp.ns import NS_MUC
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field

log = logging.getLogger("chatd.rooms")


class PresenceMixin(MucBase):
    async def _on_presence(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str
    ) -> None:
        full = element.get("from", "")
        kind = element.get("type")
        room = self.rooms.get(local)
        if kind == "unavailable":
            if room is not None and room.occupant_of(full) is not None:
                await self._leave(stream, room, full)
            return
        if kind is not None:
            return  # subscriptions and probes mean nothing to a room
        occupant = room.occupant_of(full) if room is not None else None
        if room is not None and occupant is not None:
            if not core.is_own_nick(occupant, full, nick):
                raise Refused(Refusal("not-acceptable", "error.room_nick_change"))
            if child(element, NS_MUC, "x") is not None:  # a join again (Monal after configuring, a client resyncing)
                rejoin = core.JoinPlan(occupant.nick, nick != occupant.nick, created=False, first_session=False)
                await self._send_join(stream, element, room, occupant, rejoin)
                return
            await self._broadcast_presence(stream, room, occupant, await self._status(element, room, occupant))
            return
        if not nick:
            raise Refused(Refusal("jid-malformed", "error.malformed", kind="modify"))
        owned = sum(1 for r in self.rooms.values() if r.owner_id == member.id)
        plan = allowed(core.plan_join(room, local, member, nick, owned))
        if room is None:
            created = await self._create_group(stream, element, member, local)
            if created is None:
                return
            room = created
        occupant = core.enter(room, member, full, quoteattr(full).encode(), nick)
        await self._send_join(stream, element, room, occupant, plan)

    async def _create_group(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str
    ) -> Room | None:
        key = Room(local, self.realm.id, RoomKind.GROUP, local, "", b"").key
        event = TextEvent(
            member, self.realm, local, Field.GROUP_NAME, Conversation.GROUP, key, "config", target=local, verbatim=True
        )
        outcome = await self.executor.submit(event, Reply(refuse, no_notice))
        if outcome.delivered is None:
            return None
        salt = secrets.token_bytes(16)
        try:
            await self.store.rooms.add_room(self.realm.id, local, RoomKind.GROUP, local, "", salt, member.id)
        except StoreError:
            raise Refused(Refusal("internal-server-error", "error.not_delivered", kind="wait")) from None
        room = Room(local, self.realm.id, RoomKind.GROUP, local, "", salt, owner_id=member.id, members={member.id})
        self.rooms[local] = room
        self._changed(room)
        log.info("realm %s: group %s created", self.realm.id, local)
        return room

    async def _send_join(
        self, stream: ComponentStream, element: ET.Element, room: Room, occupant: Occupant, plan: core.JoinPlan
    ) -> None:
        """XEP-0045 order: occupants to the joiner, the joiner to occupants, self-presence, history, subject."""
        full = element.get("from", "")
        quoted = quoteattr(full).encode()
        await self._send(
            stream,
            [
                self._addressed(b"<presence to=", quoted, self._presence_tail(room, other))
                for other in room.occupants.values()
                if other is not occupant
            ],
        )
        if plan.first_session:
            await self._fanout(stream, room, b"<presence to=", self._presence_tail(room, occupant), skip=occupant)
            self.room_presence(room.realm, room.local, occupant.member, True)
        codes = ["110", *(["100"] if room.is_group else []), *(["210"] if plan.rewritten else [])]
        codes += ["201"] if plan.created else []
        own = [self._addressed(b"<presence to=", quoted, self._presence_tail(room, occupant, codes))]
        request = history_request(element)
        limit, since = request.window(self.clock())
        records = await self.store.rooms.recent(room.key, limit, since)
        history = request.trim([self._message_tail(room, r, delayed=True).decode() for r in records])
        subject_from = self._jid(room, room.subject_nick) if room.subject_nick else self._jid(room)
        subject = self._subject_tail(subject_from, new_stanza_id(), room.shown_subject)
        pinned = self._pinned_resources(room)
        stanzas = [*history, subject, *([pinned] if pinned else [])]
        await self._send(stream, own + [self._addressed(b"<message to=", quoted, h) for h in stanzas])

    def _resource_text(self, topic: str) -> str:
        language = self.realm.language
        title = i18n.text(language, "resources.intro", topic=i18n.text(language, f"resources.topic.{topic}"))
        return "\n".join([title, *self.resources.for_topic(topic, language)])

    def _pinned_resources(self, room: Room) -> str:
        """The room's pinned resources, as a notice from the room to the joiner (not archived)."""
        topic = next((t.resources for t in self.topics if t.id == room.local), "")
        if not topic:
            return ""
        body = escape(self._resource_text(topic))
        return f"{attrs(from_=self._jid(room), type='groupchat', id=new_stanza_id())}><body>{body}</body></message>"

    async def _drop_ghost(self, stream: ComponentStream, element: ET.Element, local: str) -> None:
        """A client that answers with an error is gone (XEP-0045 §18.1): remove it."""
        room = self.rooms.get(local)
        if room is not None and room.occupant_of(element.get("from", "")) is not None:
            await self._leave(stream, room, element.get("from", ""))

    async def _status(self, element: ET.Element, room: Room, occupant: Occupant) -> tuple[str | None, str | None]:
        """The <show/> and, when it passes review, the <status/> text of a presence update."""
        show = st.client_child(element, "show")
        status = st.client_child(element, "status")
        text = status.text if status is not None else None
        if text:
            event = self._event(room, occupant.member, text, Field.STATUS, "config")
            outcome = await self.executor.submit(event, Reply(lambda r: None, no_notice))
            text = outcome.delivered
        return (show.text if show is not None else None), text

    async def _broadcast_presence(
        self, stream: ComponentStream, room: Room, occupant: Occupant, status: tuple[str | None, str | None]
    ) -> None:
        others = self._presence_tail(room, occupant, status=status)
        await self._fanout(stream, room, b"<presence to=", others, skip=occupant)
        own = self._presence_tail(room, occupant, ["110"], status=status)
        await self._send(stream, self._to_clients(occupant, b"<presence to=", own))
