"""What every concern of a MUC service shares: its rooms, the fan-out, stanza tails, refusals.

A fan-out builds the stanza once and only puts a different `to` in front of each copy, then
writes all copies at once.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from chatd.core import keys
from chatd.core import rooms as core
from chatd.core.fragments import Piece
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal, Refused, answered, refuse
from chatd.core.rooms import Occupant, Room
from chatd.executor import Reply
from chatd.ids import new_stanza_id
from chatd.peers import ROOM
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.direct_refs import DirectReferences
from chatd.xmpp.muc.payloads import (
    attrs,
    kept_refs,
    stamp,
    tombstone,
)
from chatd.xmpp.ns import (
    NS_DELAY,
    NS_FASTEN,
    NS_HINTS,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_MUC_USER,
    NS_OCCUPANT_ID,
    NS_RETRACT,
    NS_RETRACT_0,
    NS_SID,
)
from chatd.xmpp.ports import MucPorts, Translator
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field

log = logging.getLogger("chatd.rooms")

MESSAGE_HEAD = b"<message to="


@dataclass(frozen=True, slots=True)
class TopicRoom:
    """A topic room as configured for a realm."""

    id: str
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    resources: str = ""  # resource-library topic pinned for joiners
    resource_post_hours: float = 0.0  # posted this often (0: never)


class MucBase(Translator):
    """One realm's rooms on one domain, and the helpers every concern uses."""

    def __init__(self, realm: Realm, topics: Iterable[TopicRoom], ports: MucPorts):
        super().__init__(ports)
        self.realm = realm
        self.domain = realm.rooms_domain
        self.topics = list(topics)
        self.rooms: dict[str, Room] = {}
        self.streams = ports.streams
        self.room_presence = ports.room_presence
        self.peers = ports.peers
        self.private_refs = DirectReferences(realm, self.executor, self.store, self.counters)  # in private

    def _changed(self, room: Room) -> None:
        """The room's row changed in the store (made, members, name, subject): other instances read it again."""
        self.peers.tell(ROOM, {"realm": room.realm, "room": room.local})

    def _submit(self, local: str, job: Callable[[], Awaitable[None]]) -> None:
        """Work for a room, in its queue (in arrival order)."""
        self.queues.submit(str(keys.room(self.realm.id, local)), job)

    def _serve(
        self,
        stream: ComponentStream,
        element: ET.Element,
        member: Member,
        local: str,
        job: Callable[[], Awaitable[None]],
    ) -> None:
        """A stanza's work in its room's queue: a Refused raised there answers the stanza."""
        self._submit(local, answered(job, lambda refusal: self._refuse(stream, element, refusal, member)))

    def _joined(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str
    ) -> tuple[Room, Occupant]:
        """The room and the sender's occupant in it; refused when the sender has not joined."""
        room = self.rooms.get(local)
        occupant = room.occupant_of(element.get("from", "")) if room is not None else None
        if room is None or occupant is None:
            raise Refused(Refusal("not-acceptable", "error.room_not_joined"))
        return room, occupant

    def _jid(self, room: Room, nick: str = "") -> str:
        return f"{room.local}@{self.domain}/{nick}" if nick else f"{room.local}@{self.domain}"

    @staticmethod
    def _addressed(head: bytes, quoted: bytes, tail: bytes | str) -> bytes:
        return head + quoted + (tail if isinstance(tail, bytes) else tail.encode())

    def _to_clients(self, occupant: Occupant, head: bytes, tail: bytes) -> list[bytes]:
        return [self._addressed(head, quoted, tail) for quoted, _ in occupant.sessions.values()]

    async def _send(self, stream: ComponentStream, copies: list[bytes]) -> int:
        """Writes several stanzas at once; returns how many."""
        if copies:
            await stream.send(b"".join(copies))
            self.counters.stanzas_out += len(copies)
        return len(copies)

    async def _fanout(
        self,
        stream: ComponentStream,
        room: Room,
        head: bytes,
        tail: bytes | str,
        skip: Occupant | None = None,
        author: Member | None = None,
    ) -> int:
        """One stanza to every joined client, written at once; returns the number of copies.

        With an author, occupants who blocked that member do not get it. A message goes to the server's
        multicast service when the stream has one (XEP-0033, ejabberd): one stanza per chunk of recipients,
        each a bcc address, instead of a copy per client (chatd/xmpp/multicast.py).
        """
        data = tail if isinstance(tail, bytes) else tail.encode()
        directory = self.directory
        recipients = [
            quoted
            for occupant in room.occupants.values()
            if occupant is not skip and not (author is not None and directory.has_blocked(occupant.member, author))
            for quoted, _ in occupant.sessions.values()
        ]
        service = stream.multicast
        if service is not None and head == MESSAGE_HEAD:
            # every room message through the service, even to one client: they stay in order for each recipient
            stanzas = stream.multicasting.stanzas(service, head, data, recipients) if recipients else []
        else:
            stanzas = [head + quoted + data for quoted in recipients]
        if stanzas:
            await stream.send(b"".join(stanzas))
        self.counters.stanzas_out += len(stanzas)
        return len(recipients)

    def _presence_tail(
        self,
        room: Room,
        occupant: Occupant,
        codes: Iterable[str] = (),
        kind: str | None = None,
        status: tuple[str | None, str | None] = (None, None),
    ) -> bytes:
        affiliation = room.affiliation(occupant.member).value
        role = "none" if kind == "unavailable" else occupant.role.value
        show, text = status
        status_xml = (f"<show>{escape(show)}</show>" if show else "") + (
            f"<status>{escape(text)}</status>" if text else ""
        )
        code_xml = "".join(f"<status code='{c}'/>" for c in codes)
        address = f"{occupant.nick}@{self.realm.people_domain}" if room.shows_address(occupant.member) else None
        return (
            f"{attrs(from_=self._jid(room, occupant.nick), type=kind)}>{status_xml}"
            f"<x xmlns='{NS_MUC_USER}'><item{attrs(affiliation=affiliation, role=role, jid=address)}/>{code_xml}</x>"
            f"<occupant-id{attrs(xmlns=NS_OCCUPANT_ID, id=occupant.occupant_id)}/></presence>"
        ).encode()

    def _message_tail(self, room: Room, record: RoomRecord, delayed: bool = False, extra: str = "") -> bytes:
        """A delivered room message; from the archive (no extra given), with the reference it kept."""
        room_jid = self._jid(room)
        delay = f"<delay{attrs(xmlns=NS_DELAY, stamp=stamp(record.created_at), from_=room_jid)}/>" if delayed else ""
        kept = kept_refs(record.refs, record.quote_end, record.body)
        if kept is not None and kept.is_reaction:  # no body; removed ones show as none
            content, extra = "", extra or st.carried(kept)
        elif record.retracted:
            content = f"<retracted xmlns='{NS_RETRACT}'/>"
        elif record.removed:
            content = tombstone(self._jid(room, record.removed_by) if record.removed_by else room_jid)
        else:
            content = f"<body>{escape(record.body)}</body>"
            extra = extra or (st.carried(kept) if kept is not None else "")
        return (
            f"{attrs(from_=self._jid(room, record.nick), type='groupchat', id=record.client_id or record.stanza_id)}>"
            f"{content}{extra}{delay}"
            f"<stanza-id{attrs(xmlns=NS_SID, id=record.stanza_id, by=room_jid)}/>"
            f"<occupant-id{attrs(xmlns=NS_OCCUPANT_ID, id=core.occupant_id(room.salt, record.sender_id))}/></message>"
        ).encode()

    @staticmethod
    def _subject_tail(sender: str, stanza_id: str, subject: str) -> str:
        return f"{attrs(from_=sender, type='groupchat', id=stanza_id)}><subject>{escape(subject)}</subject></message>"

    def _state_tail(self, room: Room, occupant: Occupant, message: ChatMessage) -> bytes:
        extras = self._extras(message)
        if not extras:
            return b""
        return (
            f"{attrs(from_=self._jid(room, occupant.nick), type='groupchat', id=message.id)}>{extras}"
            f"<occupant-id{attrs(xmlns=NS_OCCUPANT_ID, id=occupant.occupant_id)}/></message>"
        ).encode()

    @staticmethod
    def _extras(message: ChatMessage) -> str:
        return st.carried(message)

    async def _private(
        self, stream: ComponentStream, room: Room, nick: str, recipient: Occupant, message: ChatMessage
    ) -> None:
        """A private message from room/nick to one occupant's clients."""
        body = f"<body>{escape(message.body)}</body>" if message.body is not None else ""
        tail = (
            f"{attrs(from_=self._jid(room, nick), type='chat', id=message.id)}>{body}"
            f"{st.receipts(message)}{self._extras(message)}<x xmlns='{NS_MUC_USER}'/></message>"
        ).encode()
        self.counters.delivered += await self._send(stream, self._to_clients(recipient, b"<message to=", tail))

    async def _announce_retraction(self, room: Room, stanza_id: str, reason: str, by: str | None = None) -> None:
        """XEP-0425 (and its XEP-0424 tombstone form) to every occupant: the room took a message back.

        By: the occupant address of who removed it (a group's owner); the Wall Guides when not given. No fallback
        body: Conversations applies a removal only to a message without one (a body is shown as a new message and
        the original stays), as Prosody's own moderation module sends it; the reason is in <reason>."""
        room_jid = self._jid(room)
        by = by or self._jid(room, self.config.watch.guide_name)
        why = f"<reason>{escape(reason)}</reason>" if reason else ""
        tail = (
            f"{attrs(from_=room_jid, type='groupchat', id=new_stanza_id())}>"
            f"<retract{attrs(xmlns=NS_RETRACT, id=stanza_id)}>"
            f"<moderated{attrs(xmlns=NS_MODERATE, by=by)}/>{why}</retract>"
            f"<apply-to{attrs(xmlns=NS_FASTEN, id=stanza_id)}><moderated{attrs(xmlns=NS_MODERATE_0, by=by)}>"
            f"<retract xmlns='{NS_RETRACT_0}'/>{why}</moderated></apply-to>"
            f"<store xmlns='{NS_HINTS}'/></message>"
        )
        await self._fanout(self.streams[self.domain], room, b"<message to=", tail)

    async def _tell(self, stream: ComponentStream, room: Room, member: Member, text: str) -> None:
        """A room message from the room itself, to the member's own clients only (not archived)."""
        occupant = room.occupants.get(member.id)
        if occupant is None:
            return
        head = attrs(from_=self._jid(room), type="groupchat", id=new_stanza_id())
        tail = f"{head}><body>{escape(text)}</body></message>".encode()
        await self._send(stream, self._to_clients(occupant, b"<message to=", tail))

    def _event(
        self,
        room: Room,
        member: Member,
        text: str,
        field: Field,
        kind: str,
        recipient: Member | None = None,
        client_id: str | None = None,
        reply_to: str | None = None,
    ) -> TextEvent:
        place = Conversation.ROOM_PRIVATE if kind == "private" else self._conversation(room)
        conversation = room.key
        if kind == "private" and recipient is not None:
            conversation = self._private_key(room, member, recipient)
        return TextEvent(
            member, self.realm, text, field, place, conversation, kind, recipient, client_id, room.name, reply_to
        )

    def _reply(
        self,
        stream: ComponentStream,
        element: ET.Element,
        room: Room,
        member: Member,
        deliver: Callable[[str, str], Awaitable[None]],
        retract: Callable[[Piece, str], Awaitable[None]] | None = None,
    ) -> Reply:
        """Refusals answer the stanza; notices come from the room to the author's own clients."""

        async def notice(text: str) -> None:
            await self._tell(stream, room, member, text)

        def unarchived() -> None:  # the text was not accepted: the client may send it again
            body = st.parse_message(element).body
            self.resent.release(member.account, st.origin_id(element), element.get("id"), body)

        if retract is None:
            return Reply(refuse, notice, deliver, unarchived=unarchived)
        return Reply(refuse, notice, deliver, retract, unarchived)

    @staticmethod
    def _private_key(room: Room, member: Member, recipient: Member) -> str:
        """The conversation of two occupants' private messages in a room."""
        return str(keys.room_private(room.realm, room.local, member.id, recipient.id))

    @staticmethod
    def _conversation(room: Room) -> Conversation:
        return Conversation.GROUP if room.is_group else Conversation.ROOM

    async def _leave(self, stream: ComponentStream, room: Room, full: str) -> None:
        occupant = room.occupant_of(full)
        if occupant is None:
            return
        gone = core.leave(room, full)
        own = self._presence_tail(room, occupant, ["110"], kind="unavailable")
        await self._send(stream, [self._addressed(b"<presence to=", quoteattr(full).encode(), own)])
        if gone is not None:
            await self._fanout(stream, room, b"<presence to=", self._presence_tail(room, occupant, kind="unavailable"))
            self.room_presence(room.realm, room.local, occupant.member, False)

    async def _remove(self, stream: ComponentStream, room: Room, occupant: Occupant, code: str) -> None:
        """Takes a member out with every client: kicked (307) or removed from a group (321)."""
        sessions = list(occupant.sessions)
        core.remove_occupant(room, occupant.member.id)
        own = self._presence_tail(room, occupant, ["110", code], kind="unavailable")
        await self._send(stream, [self._addressed(b"<presence to=", quoteattr(s).encode(), own) for s in sessions])
        await self._fanout(
            stream, room, b"<presence to=", self._presence_tail(room, occupant, [code], kind="unavailable")
        )

    def _refuse(self, stream: ComponentStream, element: ET.Element, refusal: Refusal, member: Member | None) -> None:
        self.counters.refused += 1
        st.refuse(stream, element, refusal, self.languages.texts(refusal, member))
