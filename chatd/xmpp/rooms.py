"""A realm's rooms domain: topic rooms and private groups as a XEP-0045 MUC service.

Room state and decisions live in chatd.core.rooms; this module translates stanzas. Every
stanza for a room runs in that room's queue, in arrival order. A fan-out builds the
stanza once and only puts a different `to` in front of each copy, then writes all copies
at once.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from chatd import i18n
from chatd.core import rooms as core
from chatd.core.commands import report_reason
from chatd.core.direct import admit, find_recipient
from chatd.core.fragments import Completion, Piece
from chatd.core.message import ChatMessage, check_message
from chatd.core.model import Member, Realm
from chatd.core.refusal import Refusal
from chatd.core.rooms import Occupant, Room, RoomEvent, RoomEventKind, RoomKind
from chatd.core.shadow import Reviewed
from chatd.notices import pieces_params, redaction_params, rejection
from chatd.runtime import Runtime
from chatd.store import ArchivedMessage, StoreError
from chatd.store.rooms import ArchiveQuery, RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.people import muted_refusal, new_stanza_id
from chatd.xmpp.stream import ComponentStream
from policies import Action, Conversation, Field, Verdict

log = logging.getLogger("chatd.rooms")

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = f"{NS_MUC}#user"
NS_MUC_ADMIN = f"{NS_MUC}#admin"
NS_MUC_OWNER = f"{NS_MUC}#owner"
NS_SELF_PING = f"{NS_MUC}#self-ping-optimization"
NS_CONFERENCE = "jabber:x:conference"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DATA = "jabber:x:data"
NS_DELAY = "urn:xmpp:delay"
NS_FORWARD = "urn:xmpp:forward:0"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_RETRACT_0 = "urn:xmpp:message-retract:0"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_MODERATE_0 = "urn:xmpp:message-moderate:0"
NS_FASTEN = "urn:xmpp:fasten:0"
NS_FALLBACK = "urn:xmpp:fallback:0"
MAM_PAGE = 50

ROOM_FEATURES = [
    st.NS_DISCO_INFO,
    NS_MUC,
    "muc_persistent",
    "muc_semianonymous",
    "muc_unmoderated",
    "muc_unsecured",
    NS_MAM,
    NS_SID,
    NS_OCCUPANT_ID,
    NS_SELF_PING,
    st.NS_PING,
    NS_MODERATE,
    NS_MODERATE_0,
]


@dataclass(frozen=True, slots=True)
class TopicRoom:
    """A topic room as configured for a realm."""

    id: str
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    resources: str = ""  # resource-library topic pinned for joiners
    resource_post_hours: float = 0.0  # posted this often (0: never)


def tombstone(by: str) -> str:
    """What the archive shows for a message a Wall Guide removed (XEP-0425 with the XEP-0424 tombstone)."""
    return (
        f"<retracted xmlns='{NS_RETRACT}'><moderated{_a(xmlns=NS_MODERATE, by=by)}/></retracted>"
        f"<moderated{_a(xmlns=NS_MODERATE_0, by=by)}><retracted xmlns='{NS_RETRACT_0}'/></moderated>"
    )


def _a(**values: str | None) -> str:
    return "".join(f" {k.rstrip('_')}={quoteattr(v)}" for k, v in values.items() if v is not None)


def stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(value: str) -> float:
    return datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()


def _child(element: ET.Element, ns: str, name: str) -> ET.Element | None:
    return element.find(f"{{{ns}}}{name}")


def _form_values(form: ET.Element | None) -> dict[str, str]:
    if form is None:
        return {}
    values = {}
    for entry in form.findall(f"{{{NS_DATA}}}field"):
        value = entry.find(f"{{{NS_DATA}}}value")
        values[entry.get("var", "")] = (value.text or "") if value is not None else ""
    return values


def data_form(kind: str, form_type: str, fields: Sequence[tuple[str, str | None, Sequence[str]]]) -> str:
    """A XEP-0004 form: (var, type, values) per field after the hidden FORM_TYPE."""
    entries = "".join(
        f"<field{_a(var=var, type=field_type)}>{''.join(f'<value>{escape(v)}</value>' for v in values)}</field>"
        for var, field_type, values in [("FORM_TYPE", "hidden", [form_type]), *fields]
    )
    return f"<x xmlns='{NS_DATA}' type='{kind}'>{entries}</x>"


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def history_request(element: ET.Element) -> core.HistoryRequest:
    muc = _child(element, NS_MUC, "x")
    history = _child(muc, NS_MUC, "history") if muc is not None else None
    if history is None:
        return core.HistoryRequest()
    since = history.get("since")
    try:
        since_time = parse_stamp(since) if since else None
    except ValueError:
        since_time = None
    return core.HistoryRequest(
        _int(history.get("maxstanzas")), _int(history.get("maxchars")), _int(history.get("seconds")), since_time
    )


class RoomsDomain:
    def __init__(self, runtime: Runtime, realm: Realm, topics: Iterable[TopicRoom]):
        self.rt = runtime
        self.realm = realm
        self.domain = realm.rooms_domain
        self.topics = list(topics)
        self.rooms: dict[str, Room] = {}

    async def load(self) -> None:
        """Topic rooms from config (added to the store when new), then everything the store holds."""
        store = self.rt.store.rooms
        for topic in self.topics:
            await store.add_room(
                self.realm.id, topic.id, RoomKind.TOPIC, topic.name, topic.description, secrets.token_bytes(16), None
            )
        tags = {t.id: t.tags for t in self.topics}
        for row in await store.rooms(self.realm.id):
            if row.kind == RoomKind.TOPIC and row.local not in tags:
                continue  # a topic room that was taken out of the config
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
        log.info("realm %s: %d rooms loaded", self.realm.id, len(self.rooms))

    def reviewed(self, event: RoomEvent) -> None:
        """Every reviewed room text, whatever its verdict, goes to the Wall Guides' desk and shadow rooms."""
        author = self.rt.directory.by_id(event.author_id)
        if author is None:
            return
        recipient = self.rt.directory.by_id(event.recipient_id) if event.recipient_id is not None else None
        conversation = f"room:{event.realm}:{event.room}"
        if recipient is not None:
            low, high = sorted((author.id, recipient.id))
            conversation = f"roompm:{event.realm}:{event.room}:{low}:{high}"
        self.rt.reviewed(
            Reviewed(
                event.realm,
                conversation,
                event.kind.value,
                author,
                recipient,
                event.original,
                event.verdict,
                event.stanza_id,
                event.created_at,
            )
        )

    # posts by the Wall Guides (from the watch domain)

    async def post_as_guide(self, local: str, text: str) -> None:
        """A Wall Guide's message in a room: from the guides' display name, archived, never by account."""
        room = self.rooms.get(local)
        if room is None:
            return
        stanza_id = new_stanza_id()
        await self.rt.store.archive(
            ArchivedMessage(stanza_id, room.key, 0, None, None, text, None, "deliver", [], self.rt.now())
        )
        await self.post_record(
            local, RoomRecord(0, stanza_id, 0, self.rt.config.watch.guide_name, None, text, self.rt.now())
        )

    async def post_record(self, local: str, record: RoomRecord) -> None:
        """Sends an archived message (a guide's post, an approved held message) to the room's occupants."""
        room = self.rooms.get(local)
        if room is not None:
            stream = self.rt.streams[self.domain]
            self.rt.counters.delivered += await self._fanout(
                stream, room, b"<message to=", self._message_tail(room, record)
            )

    async def retract(self, local: str, stanza_id: str, reason: str, fallback_text: str | None = None) -> None:
        """XEP-0425: a Wall Guide's retraction reaches every occupant; the archive keeps a tombstone."""
        room = self.rooms.get(local)
        if room is None:
            return
        await self.rt.store.moderate(stanza_id, "")
        room_jid = self._jid(room)
        by = self._jid(room, self.rt.config.watch.guide_name)
        fallback = escape(fallback_text or i18n.text(self.realm.language, "room.removed_fallback", reason=reason))
        tail = (
            f"{_a(from_=room_jid, type='groupchat', id=new_stanza_id())}>"
            f"<retract{_a(xmlns=NS_RETRACT, id=stanza_id)}><moderated{_a(xmlns=NS_MODERATE, by=by)}/>"
            f"<reason>{escape(reason)}</reason></retract>"
            f"<apply-to{_a(xmlns=NS_FASTEN, id=stanza_id)}><moderated{_a(xmlns=NS_MODERATE_0, by=by)}>"
            f"<retract xmlns='{NS_RETRACT_0}'/><reason>{escape(reason)}</reason></moderated></apply-to>"
            f"<fallback{_a(xmlns=NS_FALLBACK, for_=NS_RETRACT)}/><body>{fallback}</body>"
            f"<store xmlns='urn:xmpp:hints'/></message>"
        )
        await self._fanout(self.rt.streams[self.domain], room, b"<message to=", tail)

    async def correct(self, local: str, record: RoomRecord, text: str) -> None:
        """A Wall Guide's edit: a XEP-0308 correction of the author's message, archived in its place."""
        await self.rt.store.moderate(record.stanza_id, text)
        replace_xml = f"<replace xmlns='urn:xmpp:message-correct:0'{_a(id=record.client_id or record.stanza_id)}/>"
        edited = RoomRecord(record.seq, new_stanza_id(), record.sender_id, record.nick, None, text, self.rt.now())
        room = self.rooms.get(local)
        if room is not None:
            await self._fanout(
                self.rt.streams[self.domain], room, b"<message to=", self._message_tail(room, edited, extra=replace_xml)
            )

    # entry point: one raw stanza, in arrival order, synchronous

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        rt = self.rt
        rt.counters.stanzas_in += 1
        kind = st.local_name(element.tag)
        sender = st.split_jid(element.get("from"))
        target = st.split_jid(element.get("to"))
        if sender is None:
            rt.counters.dropped += 1
            return
        if element.get("type") == "error":
            if target is not None and target[0] in self.rooms and kind != "iq":
                self._submit(target[0], lambda: self._drop_ghost(stream, element, target[0]))
            return
        if target is None or target[1] != self.domain:
            self._refuse(stream, element, Refusal("jid-malformed", "error.malformed", kind="modify"), None)
            return
        member = self._admit(sender)
        if isinstance(member, Refusal):
            if kind != "presence" or element.get("type") in (None, "subscribe", "probe"):
                self._refuse(stream, element, member, None)
            return
        if st.size(element) > rt.config.limits.max_stanza_bytes:
            self._refuse(stream, element, Refusal("policy-violation", "error.too_large", kind="modify"), member)
            return
        local, nick = target[0], target[2]
        if not local:
            self._on_service(stream, element, member)
        elif kind == "presence":
            self._submit(local, lambda: self._on_presence(stream, element, member, local, nick))
        elif kind == "message":
            self._on_message(stream, element, member, local, nick)
        elif kind == "iq":
            self._submit(local, lambda: self._on_iq(stream, element, member, local, nick))

    def _admit(self, sender: tuple[str, str, str]) -> Member | Refusal:
        if sender[1] != self.rt.config.server.members_host or not sender[0]:
            return Refusal("forbidden", "error.not_member", kind="auth", bilingual=True)
        return admit(f"{sender[0]}@{sender[1]}", self.realm, self.rt.directory)

    def _submit(self, local: str, job: Callable[[], Awaitable[None]]) -> None:
        self.rt.queues.submit(f"room:{self.realm.id}:{local}", job)

    def _joined(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str
    ) -> tuple[Room, Occupant] | None:
        """The room and the sender's occupant in it, or None after refusing the stanza."""
        room = self.rooms.get(local)
        occupant = room.occupant_of(element.get("from", "")) if room is not None else None
        if room is None or occupant is None:
            self._refuse(stream, element, Refusal("not-acceptable", "error.room_not_joined"), member)
            return None
        return room, occupant

    # presence: join, update, leave

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
                self._refuse(stream, element, Refusal("not-acceptable", "error.room_nick_change"), member)
                return
            await self._broadcast_presence(stream, room, occupant, await self._status(element, room, occupant))
            return
        if not nick:
            self._refuse(stream, element, Refusal("jid-malformed", "error.malformed", kind="modify"), member)
            return
        owned = sum(1 for r in self.rooms.values() if r.owner_id == member.id)
        plan = core.plan_join(room, local, member, nick, owned)
        if isinstance(plan, Refusal):
            self._refuse(stream, element, plan, member)
            return
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
        verdict = await self._review(local, member, Field.GROUP_NAME, Conversation.GROUP)
        self.reviewed(
            RoomEvent(RoomEventKind.CONFIG, self.realm.id, local, member.id, local, verdict, None, self.rt.now())
        )
        if verdict.action is not Action.DELIVER:
            self._refuse(stream, element, self._rejection(verdict, member), member)
            return None
        salt = secrets.token_bytes(16)
        try:
            await self.rt.store.rooms.add_room(self.realm.id, local, RoomKind.GROUP, local, "", salt, member.id)
        except StoreError:
            self._refuse(stream, element, Refusal("internal-server-error", "error.not_delivered", kind="wait"), member)
            return None
        room = Room(local, self.realm.id, RoomKind.GROUP, local, "", salt, owner_id=member.id, members={member.id})
        self.rooms[local] = room
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
            self.rt.room_presence(room.realm, room.local, occupant.member, joined=True)
        codes = ["110", *(["210"] if plan.rewritten else []), *(["201"] if plan.created else [])]
        own = [self._addressed(b"<presence to=", quoted, self._presence_tail(room, occupant, codes))]
        request = history_request(element)
        limit, since = request.window(self.rt.now())
        records = await self.rt.store.rooms.recent(room.key, limit, since)
        history = request.trim([self._message_tail(room, r, delayed=True).decode() for r in records])
        subject_from = self._jid(room, room.subject_nick) if room.subject_nick else self._jid(room)
        subject = self._subject_tail(subject_from, new_stanza_id(), room.subject)
        pinned = self._pinned_resources(room)
        stanzas = [*history, subject, *([pinned] if pinned else [])]
        await self._send(stream, own + [self._addressed(b"<message to=", quoted, h) for h in stanzas])

    def _resource_text(self, topic: str) -> str:
        language = self.realm.language
        title = i18n.text(language, "resources.intro", topic=i18n.text(language, f"resources.topic.{topic}"))
        return "\n".join([title, *self.rt.resources.for_topic(topic, language)])

    def _pinned_resources(self, room: Room) -> str:
        """The room's pinned resources, as a notice from the room to the joiner (not archived)."""
        topic = next((t.resources for t in self.topics if t.id == room.local), "")
        if not topic:
            return ""
        body = escape(self._resource_text(topic))
        return f"{_a(from_=self._jid(room), type='groupchat', id=new_stanza_id())}><body>{body}</body></message>"

    async def post_scheduled_resources(self) -> None:
        """Posts each room's resources every resource_post_hours (a task that runs until cancelled)."""
        scheduled = [t for t in self.topics if t.resources and t.resource_post_hours > 0]
        if not scheduled:
            return
        due = {t.id: self.rt.now() + t.resource_post_hours * 3600 for t in scheduled}
        while True:
            await asyncio.sleep(max(0.2, min(due.values()) - self.rt.now()))
            for topic in scheduled:
                if self.rt.now() >= due[topic.id]:
                    due[topic.id] = self.rt.now() + topic.resource_post_hours * 3600
                    self._submit(topic.id, lambda t=topic: self.post_as_guide(t.id, self._resource_text(t.resources)))

    async def _leave(self, stream: ComponentStream, room: Room, full: str) -> None:
        occupant = room.occupant_of(full)
        if occupant is None:
            return
        gone = core.leave(room, full)
        own = self._presence_tail(room, occupant, ["110"], kind="unavailable")
        await self._send(stream, [self._addressed(b"<presence to=", quoteattr(full).encode(), own)])
        if gone is not None:
            await self._fanout(stream, room, b"<presence to=", self._presence_tail(room, occupant, kind="unavailable"))
            self.rt.room_presence(room.realm, room.local, occupant.member, joined=False)

    async def _remove(self, stream: ComponentStream, room: Room, occupant: Occupant, code: str) -> None:
        """Takes a member out with every client: kicked (307) or removed from a group (321)."""
        sessions = list(occupant.sessions)
        core.remove_occupant(room, occupant.member.id)
        own = self._presence_tail(room, occupant, ["110", code], kind="unavailable")
        await self._send(stream, [self._addressed(b"<presence to=", quoteattr(s).encode(), own) for s in sessions])
        await self._fanout(
            stream, room, b"<presence to=", self._presence_tail(room, occupant, [code], kind="unavailable")
        )

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
            verdict = await self._review(text, occupant.member, Field.STATUS, self._conversation(room))
            self.reviewed(
                RoomEvent(
                    RoomEventKind.CONFIG, room.realm, room.local, occupant.member.id, text, verdict, None, self.rt.now()
                )
            )
            text = verdict.text if verdict.delivers else None
        return (show.text if show is not None else None), text

    async def _broadcast_presence(
        self, stream: ComponentStream, room: Room, occupant: Occupant, status: tuple[str | None, str | None]
    ) -> None:
        others = self._presence_tail(room, occupant, status=status)
        await self._fanout(stream, room, b"<presence to=", others, skip=occupant)
        own = self._presence_tail(room, occupant, ["110"], status=status)
        await self._send(stream, self._to_clients(occupant, b"<presence to=", own))

    # messages

    def _on_message(self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str) -> None:
        x = _child(element, NS_MUC_USER, "x")
        invites = x.findall(f"{{{NS_MUC_USER}}}invite") if x is not None else []
        message = st.parse_message(element)
        if invites and not nick:
            self._submit(local, lambda: self._on_invite(stream, element, member, local, invites))
            return
        if message.type == "groupchat" and not nick:
            if message.body is not None and not self.rt.limiter.allow(member.account, time.monotonic()):
                self._refuse(stream, element, Refusal("policy-violation", "error.too_fast", kind="wait"), member)
                return
            subject = st.client_child(element, "subject")
            refusal = (
                None if subject is not None else core.check_groupchat(message, self.rt.config.limits.max_body_chars)
            )
            if refusal is not None:
                self._refuse(stream, element, refusal, member)
            elif self.rt.is_resend(member.account, st.origin_id(element), message.id, message.body):
                self._submit(local, lambda: self._acknowledge_resend(stream, element, member, local))
            elif subject is not None:
                self._submit(local, lambda: self._on_subject(stream, element, member, local, subject.text or ""))
            else:
                self._submit(local, lambda: self._on_groupchat(stream, element, member, local, message))
            return
        if nick and message.type in ("chat", "normal"):
            refusal = check_message(message, self.rt.config.limits.max_body_chars)
            if refusal is not None:
                self._refuse(stream, element, refusal, member)
            elif not self.rt.is_resend(member.account, st.origin_id(element), message.id, message.body):
                self._submit(local, lambda: self._on_private(stream, element, member, local, nick, message))
            return
        if element.get("type") != "groupchat":  # declines, voice requests and the like are not served
            self._refuse(stream, element, Refusal("bad-request", "error.wrong_type"), member)

    async def _on_groupchat(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, message: ChatMessage
    ) -> None:
        joined = self._joined(stream, element, member, local)
        if joined is None:
            return
        room, occupant = joined
        if message.body is None:  # chat states and markers: passed on, not kept
            tail = self._state_tail(room, occupant, message)
            if tail:
                await self._fanout(stream, room, b"<message to=", tail, skip=occupant)
            return
        reason = report_reason(message.body)
        if reason is not None:  # "!report <reason>" as a reply: to the Wall Guides only, never to the room
            reported = await self.rt.store.reported_message(room.key, message.reply_to) if message.reply_to else None
            if self.rt.file_report is not None:
                await self.rt.file_report(member, room.key, reported, reason)
            await self._notice(stream, room, member, "notice.report_received")
            return
        field = Field.CORRECTION if message.replaces else Field.BODY
        outcome = await self._moderate(stream, element, room, member, message.body, field, RoomEventKind.MESSAGE)
        if outcome is None:
            return
        verdict, stanza_id = outcome
        created = self.rt.now()
        record = RoomRecord(0, stanza_id, member.id, member.pseudonym, message.id, verdict.text, created)
        extra = f"<replace xmlns='urn:xmpp:message-correct:0'{_a(id=message.replaces)}/>" if message.replaces else ""
        tail = self._message_tail(room, record, extra=extra)
        copies = await self._fanout(stream, room, b"<message to=", tail, author=member)
        self.rt.counters.delivered += copies
        await self._tell_redacted(stream, room, occupant.member, verdict)

    async def _acknowledge_resend(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str
    ) -> None:
        """A resent room message: its sender gets the archived copy again (the reflection), nobody else."""
        room, client_id = self.rooms.get(local), element.get("id")
        found = await self.rt.store.reported_message(room.key, client_id) if room and client_id else None
        if room is None or found is None or found.sender_id != member.id or found.body is None:
            return
        record = RoomRecord(0, found.stanza_id, member.id, member.pseudonym, client_id, found.body, found.created_at)
        sender = quoteattr(element.get("from", "")).encode()
        await self._send(stream, [self._addressed(b"<message to=", sender, self._message_tail(room, record))])

    async def _on_subject(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, text: str
    ) -> None:
        joined = self._joined(stream, element, member, local)
        if joined is None:
            return
        room, occupant = joined
        refusal = core.may_set_subject(room, occupant)
        if refusal is None and len(text) > self.rt.config.limits.max_body_chars:
            refusal = Refusal(
                "not-acceptable",
                "error.too_long",
                kind="modify",
                params={"limit": str(self.rt.config.limits.max_body_chars)},
            )
        if refusal is not None:
            self._refuse(stream, element, refusal, member)
            return
        subject = ""
        if text:
            outcome = await self._moderate(stream, element, room, member, text, Field.SUBJECT, RoomEventKind.SUBJECT)
            if outcome is None:
                return
            subject = outcome[0].text
        await self.rt.store.rooms.set_subject(room.realm, room.local, subject, occupant.nick)
        room.subject, room.subject_nick = subject, occupant.nick
        tail = self._subject_tail(self._jid(room, occupant.nick), element.get("id") or new_stanza_id(), subject)
        await self._fanout(stream, room, b"<message to=", tail)

    async def _on_private(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str, message: ChatMessage
    ) -> None:
        joined = self._joined(stream, element, member, local)
        if joined is None:
            return
        room, occupant = joined
        recipient = room.by_nick(nick)
        if recipient is None:
            self._refuse(
                stream, element, Refusal("item-not-found", "error.room_unknown_occupant", params={"name": nick}), member
            )
            return
        reachable = find_recipient(member, self.realm, recipient.nick, self.rt.directory)
        if isinstance(reachable, Refusal):
            self._refuse(stream, element, reachable, member)
            return
        verdict = None
        if message.body is not None:
            outcome = await self._moderate(
                stream, element, room, member, message.body, Field.BODY, RoomEventKind.PRIVATE, recipient.member
            )
            if outcome is None:
                return
            verdict = outcome[0]
            message = message.with_body(verdict.text)
        body = f"<body>{escape(message.body)}</body>" if message.body is not None else ""
        tail = (
            f"{_a(from_=self._jid(room, occupant.nick), type='chat', id=message.id)}>{body}"
            f"{self._extras(message)}<x xmlns='{NS_MUC_USER}'/></message>"
        ).encode()
        self.rt.counters.delivered += await self._send(stream, self._to_clients(recipient, b"<message to=", tail))
        if verdict is not None:
            await self._tell_redacted(stream, room, member, verdict)

    async def _on_invite(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, invites: list[ET.Element]
    ) -> None:
        room = self.rooms.get(local)
        if room is None or not room.visible_to(member):
            self._refuse(
                stream, element, Refusal("item-not-found", "error.room_not_found", params={"name": local}), member
            )
            return
        refusal = core.may_invite(room, member)
        if refusal is not None:
            self._refuse(stream, element, refusal, member)
            return
        for invite in invites:
            await self._invite(stream, element, room, member, invite)

    async def _invite(
        self, stream: ComponentStream, element: ET.Element, room: Room, member: Member, invite: ET.Element
    ) -> None:
        target = st.split_jid(invite.get("to"))
        if target is None or target[1] != self.realm.people_domain:
            self._refuse(
                stream, element, Refusal("jid-malformed", "error.room_invite_pseudonym", kind="modify"), member
            )
            return
        invitee = find_recipient(member, self.realm, target[0], self.rt.directory)
        if isinstance(invitee, Refusal):
            self._refuse(stream, element, invitee, member)
            return
        reason_element = _child(invite, NS_MUC_USER, "reason")
        reason = (reason_element.text or "").strip() if reason_element is not None else ""
        verdict = None
        if reason:
            outcome = await self._moderate(
                stream, element, room, member, reason, Field.INVITE_REASON, RoomEventKind.INVITE, invitee
            )
            if outcome is None:
                return
            verdict = outcome[0]
            reason = verdict.text
        if room.is_group and invitee.id not in room.members:
            await self.rt.store.rooms.set_member(room.realm, room.local, invitee.id, True)
            room.members.add(invitee.id)
        inviter = f"{member.pseudonym}@{self.realm.people_domain}"
        room_jid = self._jid(room)
        language = self.realm.language
        key = "room.invite_reason" if reason else "room.invite"
        body = i18n.text(language, key, inviter=member.pseudonym, room=room.name, jid=room_jid, reason=reason)
        reason_xml = f"<reason>{escape(reason)}</reason>" if reason else ""
        await stream.send(
            f"<message{_a(from_=room_jid, to=invitee.account, id=new_stanza_id())}><body>{escape(body)}</body>"
            f"<x xmlns='{NS_MUC_USER}'><invite{_a(from_=inviter)}>{reason_xml}</invite></x>"
            f"<x xmlns='{NS_CONFERENCE}'{_a(jid=room_jid, reason=reason or None)}/></message>"
        )
        self.rt.counters.delivered += 1
        if verdict is not None:
            await self._tell_redacted(stream, room, member, verdict)

    # moderation: review, archive, then the author is told what happened

    async def _review(self, text: str, member: Member, field: Field, conversation: Conversation) -> Verdict:
        recent = self.rt.limiter.recent(member.account, time.monotonic())
        watched = member.id in self.rt.watched
        return await self.rt.moderate(
            text, member, self.realm, field, conversation, recent_messages=recent, watched=watched
        )

    @staticmethod
    def _conversation(room: Room) -> Conversation:
        return Conversation.GROUP if room.is_group else Conversation.ROOM

    async def _moderate(
        self,
        stream: ComponentStream,
        element: ET.Element,
        room: Room,
        member: Member,
        text: str,
        field: Field,
        kind: RoomEventKind,
        recipient: Member | None = None,
    ) -> tuple[Verdict, str] | None:
        """Reviews a text (messages are archived first); (verdict, stanza id) when it may be delivered."""
        muted = muted_refusal(self.rt, member)
        if muted is not None:
            self._refuse(stream, element, muted, member)
            return None
        private = kind is RoomEventKind.PRIVATE
        conversation_kind = Conversation.ROOM_PRIVATE if private else self._conversation(room)
        verdict = await self._review(text, member, field, conversation_kind)
        stanza_id = new_stanza_id()
        pieces = None
        if kind in (RoomEventKind.MESSAGE, RoomEventKind.PRIVATE):
            conversation = room.key
            if recipient is not None:
                low, high = sorted((member.id, recipient.id))
                conversation = f"roompm:{room.realm}:{room.local}:{low}:{high}"
            if field is Field.BODY and verdict.delivers:
                piece = Piece(stanza_id, element.get("id"), verdict.text, self.rt.now())
                pieces = self.rt.join_pieces(conversation, member, conversation_kind, piece, verdict)
                verdict = pieces.verdict if pieces else verdict
            try:
                await self._archive(conversation, stanza_id, member, recipient, element.get("id"), text, verdict)
            except StoreError:
                log.error("room archive failed; a message was not delivered")
                self.rt.release_resend(member.account, st.origin_id(element), element.get("id"), text)
                self._refuse(
                    stream, element, Refusal("internal-server-error", "error.not_delivered", kind="wait"), member
                )
                return None
        self.reviewed(
            RoomEvent(
                kind,
                room.realm,
                room.local,
                member.id,
                text,
                verdict,
                stanza_id,
                self.rt.now(),
                recipient.id if recipient else None,
            )
        )
        if pieces is not None:
            await self._take_back_pieces(stream, room, member, recipient, stanza_id, pieces)
        if verdict.action is Action.REJECT:
            self._refuse(stream, element, self._rejection(verdict, member), member)
            return None
        if verdict.action is Action.HOLD:
            await self._notice(stream, room, member, "notice.held", target=room.name)
            return None
        return verdict, stanza_id

    async def _archive(
        self,
        conversation: str,
        stanza_id: str,
        sender: Member,
        recipient: Member | None,
        client_id: str | None,
        text: str,
        verdict: Verdict,
    ) -> None:
        shown = verdict.text if verdict.delivers else None
        findings = [f.as_dict() for f in verdict.findings]
        await self.rt.store.archive(
            ArchivedMessage(
                stanza_id,
                conversation,
                sender.id,
                recipient.id if recipient else None,
                client_id,
                shown,
                text if shown != text else None,
                verdict.action.value,
                findings,
                self.rt.now(),
            )
        )

    def _rejection(self, verdict: Verdict, member: Member) -> Refusal:
        return rejection(verdict, self.realm.language)

    async def _take_back_pieces(
        self,
        stream: ComponentStream,
        room: Room,
        member: Member,
        recipient: Member | None,
        stanza_id: str,
        pieces: Completion,
    ) -> None:
        """The earlier pieces are retracted: for every occupant (XEP-0425, a tombstone in the archive), or for the
        recipient of private messages (XEP-0424); the author is told why, and the guides see the pieces joined."""
        language = self.realm.language
        fallback = i18n.text(language, "notice.pieces_fallback")
        occupant = room.occupants.get(recipient.id) if recipient is not None else None
        for piece in pieces.earlier:
            if recipient is None:
                await self.retract(room.local, piece.stanza_id, fallback, fallback)
                continue
            await self.rt.store.moderate(piece.stanza_id, "")
            if occupant is not None and piece.client_id is not None:
                sender, private = self._jid(room, member.pseudonym), f"<x xmlns='{NS_MUC_USER}'/>"
                copies = [
                    st.build_retraction(sender, client, piece.client_id, fallback, new_stanza_id(), private).encode()
                    for client in occupant.sessions
                ]
                await self._send(stream, copies)
        joined = RoomEvent(
            RoomEventKind.PIECES, room.realm, room.local, member.id, pieces.joined, pieces.joined_verdict, stanza_id,
            self.rt.now(), recipient.id if recipient else None,
        )  # fmt: skip
        self.reviewed(joined)
        target = recipient.pseudonym if recipient is not None else room.name
        params = pieces_params(pieces, language)
        await self._notice(stream, room, member, "notice.pieces_removed", target=target, **params)

    async def _tell_redacted(self, stream: ComponentStream, room: Room, member: Member, verdict: Verdict) -> None:
        if verdict.action is Action.REDACT:
            params = redaction_params(verdict, self.realm.language)
            await self._notice(stream, room, member, "notice.redacted", target=room.name, **params)

    async def _notice(self, stream: ComponentStream, room: Room, member: Member, key: str, **params: str) -> None:
        await self._tell(stream, room, member, i18n.text(self.realm.language, key, **params))

    async def _tell(self, stream: ComponentStream, room: Room, member: Member, text: str) -> None:
        """A room message from the room itself, to the member's own clients only (not archived)."""
        occupant = room.occupants.get(member.id)
        if occupant is None:
            return
        body = escape(text)
        tail = (
            f"{_a(from_=self._jid(room), type='groupchat', id=new_stanza_id())}><body>{body}</body></message>".encode()
        )
        await self._send(stream, self._to_clients(occupant, b"<message to=", tail))

    # iq on a room or an occupant

    async def _on_iq(self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str) -> None:
        kind = element.get("type")
        if kind not in ("get", "set"):
            return
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        room = self.rooms.get(local)
        if room is None or not room.visible_to(member):
            self._refuse(
                stream, element, Refusal("item-not-found", "error.room_not_found", params={"name": local}), member
            )
            return
        if nick:
            self._on_occupant_iq(stream, element, member, room, nick, ns)
        elif kind == "get" and ns == st.NS_DISCO_INFO:
            stream.send_nowait(st.build_iq_result(element, self._room_info(room)))
        elif kind == "get" and ns == st.NS_DISCO_ITEMS:
            stream.send_nowait(st.build_iq_result(element, st.disco_items([])))
        elif kind == "get" and ns == st.NS_PING:
            stream.send_nowait(st.build_iq_result(element))
        elif ns == NS_MAM and query is not None:
            await self._on_mam(stream, element, member, room, query)
        elif ns == NS_MUC_ADMIN and query is not None:
            await self._on_admin(stream, element, member, room, query)
        elif ns == NS_MUC_OWNER and query is not None:
            await self._on_owner(stream, element, member, room, query)
        else:
            self._refuse(stream, element, Refusal("service-unavailable", "error.unavailable"), member)

    def _on_occupant_iq(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, nick: str, ns: str
    ) -> None:
        """XEP-0410 self-ping is answered by the room; other iqs to occupants are not passed on."""
        occupant = room.occupant_of(element.get("from", ""))
        if occupant is None:
            self._refuse(stream, element, Refusal("not-acceptable", "error.room_not_joined"), member)
        elif ns == st.NS_PING and core.is_own_nick(occupant, element.get("from", ""), nick):
            stream.send_nowait(st.build_iq_result(element))
        else:
            self._refuse(stream, element, Refusal("feature-not-implemented", "error.unavailable"), member)

    def _on_service(self, stream: ComponentStream, element: ET.Element, member: Member) -> None:
        """Stanzas to the rooms domain itself: discovery and ping."""
        if st.local_name(element.tag) != "iq":
            self._refuse(stream, element, Refusal("service-unavailable", "error.unavailable"), member)
            return
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        if element.get("type") == "get" and ns == st.NS_DISCO_INFO:
            name = i18n.text(self.realm.language, "room.service_name")
            features = [st.NS_DISCO_INFO, st.NS_DISCO_ITEMS, st.NS_PING, NS_MUC, NS_MAM]
            stream.send_nowait(st.build_iq_result(element, st.disco_info([("conference", "text", name)], features)))
        elif element.get("type") == "get" and ns == st.NS_DISCO_ITEMS:
            items = [(self._jid(r), r.name) for r in self.rooms.values() if r.visible_to(member)]
            stream.send_nowait(st.build_iq_result(element, st.disco_items(sorted(items))))
        elif element.get("type") == "get" and ns == st.NS_PING:
            stream.send_nowait(st.build_iq_result(element))
        else:
            self._refuse(stream, element, Refusal("service-unavailable", "error.unavailable"), member)

    def _room_info(self, room: Room) -> str:
        kind = ["muc_membersonly", "muc_hidden"] if room.is_group else ["muc_open", "muc_public"]
        info = st.disco_info([("conference", "text", room.name)], ROOM_FEATURES + kind)
        form = data_form(
            "result",
            f"{NS_MUC}#roominfo",
            [
                ("muc#roomconfig_roomname", None, [room.name]),
                ("muc#roominfo_description", None, [room.description]),
                ("muc#roominfo_occupants", None, [str(len(room.occupants))]),
                ("muc#roominfo_subject", None, [room.subject]),
                ("muc#roominfo_lang", None, [self.realm.language]),
                ("x-chatd#tags", "text-multi", list(room.tags)),
            ],
        )
        return info.removesuffix("</query>") + form + "</query>"

    # MAM (XEP-0313) with RSM paging

    async def _on_mam(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        if element.get("type") == "get":
            fields = [(var, "text-single", ()) for var in ("with", "start", "end", "before-id", "after-id", "ids")]
            form = data_form("form", NS_MAM, fields)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MAM}'>{form}</query>"))
            return
        try:
            search = self._archive_query(_form_values(_child(query, NS_DATA, "x")), _child(query, NS_RSM, "set"))
            records, complete = await self.rt.store.rooms.search(room.key, search)
        except KeyError:  # an RSM or MAM anchor id that is not in this archive
            self._refuse(stream, element, Refusal("item-not-found", "error.malformed"), member)
            return
        except ValueError:
            self._refuse(stream, element, Refusal("bad-request", "error.malformed", kind="modify"), member)
            return
        full = quoteattr(element.get("from", "")).encode()
        queryid = query.get("queryid")
        room_jid = self._jid(room)
        results = [
            self._addressed(
                b"<message to=",
                full,
                f"{_a(from_=room_jid, id=new_stanza_id())}><result{_a(xmlns=NS_MAM, queryid=queryid, id=r.stanza_id)}>"
                f"<forwarded xmlns='{NS_FORWARD}'><delay{_a(xmlns=NS_DELAY, stamp=stamp(r.created_at))}/>"
                f"<message xmlns='jabber:client'{self._message_tail(room, r).decode()}"
                "</forwarded></result></message>",
            )
            for r in records
        ]
        await self._send(stream, results)
        page = f"<first index='0'>{records[0].stanza_id}</first><last>{records[-1].stanza_id}</last>" if records else ""
        fin = f"<fin{_a(xmlns=NS_MAM, complete='true' if complete else None)}><set xmlns='{NS_RSM}'>{page}</set></fin>"
        await stream.send(st.build_iq_result(element, fin))

    def _archive_query(self, form: dict[str, str], rsm: ET.Element | None) -> ArchiveQuery:
        sender_id = None
        if form.get("with"):
            jid = st.split_jid(form["with"])
            author = self.rt.directory.by_pseudonym(self.realm.id, jid[2]) if jid else None
            sender_id = author.id if author is not None else -1
        ids = tuple(form["ids"].split()) if form.get("ids") else ()
        limit, after, before = MAM_PAGE, form.get("after-id") or None, form.get("before-id") or None
        if rsm is not None:
            requested = _int(rsm.findtext(f"{{{NS_RSM}}}max"))
            limit = MAM_PAGE if requested is None else min(requested, MAM_PAGE)
            after = rsm.findtext(f"{{{NS_RSM}}}after") or after
            before_element = rsm.find(f"{{{NS_RSM}}}before")
            if before_element is not None:
                before = before_element.text or ""
        return ArchiveQuery(
            start=parse_stamp(form["start"]) if form.get("start") else None,
            end=parse_stamp(form["end"]) if form.get("end") else None,
            sender_id=sender_id,
            after_id=after,
            before_id=before,
            ids=ids,
            limit=limit,
        )

    # muc#admin: member lists, adding and removing members, kicks

    async def _on_admin(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        items = query.findall(f"{{{NS_MUC_ADMIN}}}item")
        if element.get("type") == "get":
            wanted = {i.get("affiliation") for i in items}
            listed = []
            for member_id, pseudonym in await self.rt.store.rooms.members(room.realm, room.local):
                affiliation = "owner" if member_id == room.owner_id else "member"
                if affiliation in wanted:
                    jid = f"{pseudonym}@{self.realm.people_domain}"  # the pseudonym's address, never the account
                    listed.append(f"<item{_a(affiliation=affiliation, jid=jid, nick=pseudonym)}/>")
            entries = "".join(listed)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MUC_ADMIN}'>{entries}</query>"))
            return
        refusal = core.may_manage(room, member)
        if refusal is not None:
            self._refuse(stream, element, refusal, member)
            return
        for item in items:
            refusal = await self._admin_change(stream, room, member, item)
            if refusal is not None:
                self._refuse(stream, element, refusal, member)
                return
        stream.send_nowait(st.build_iq_result(element))

    async def _admin_change(
        self, stream: ComponentStream, room: Room, member: Member, item: ET.Element
    ) -> Refusal | None:
        target = self._item_member(room, item)
        if target is None:
            return Refusal(
                "item-not-found",
                "error.room_unknown_occupant",
                params={"name": item.get("nick") or item.get("jid") or ""},
            )
        affiliation, role = item.get("affiliation"), item.get("role")
        if target.id == room.owner_id or (role is None and affiliation is None):
            return Refusal("not-allowed", "error.room_not_allowed")
        occupant = room.occupants.get(target.id)
        if role == "none" and affiliation is None:
            if occupant is not None:
                await self._remove(stream, room, occupant, "307")
            return None
        if not room.is_group or affiliation not in ("member", "none"):
            return Refusal("not-allowed", "error.room_not_allowed")
        on = affiliation == "member"
        await self.rt.store.rooms.set_member(room.realm, room.local, target.id, on)
        (room.members.add if on else room.members.discard)(target.id)
        if not on and occupant is not None:
            await self._remove(stream, room, occupant, "321")
        return None

    def _item_member(self, room: Room, item: ET.Element) -> Member | None:
        if item.get("nick"):
            return self.rt.directory.by_pseudonym(self.realm.id, item.get("nick", ""))
        jid = st.split_jid(item.get("jid"))
        if jid is None or jid[1] != self.realm.people_domain:
            return None
        return self.rt.directory.by_pseudonym(self.realm.id, jid[0])

    # muc#owner: a group's name and description

    async def _on_owner(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        refusal = (
            core.may_manage(room, member)
            if room.is_group
            else Refusal("forbidden", "error.room_guides_only", kind="auth")
        )
        if refusal is not None:
            self._refuse(stream, element, refusal, member)
            return
        if element.get("type") == "get":
            fields = [
                ("muc#roomconfig_roomname", "text-single", [room.name]),
                ("muc#roomconfig_roomdesc", "text-single", [room.description]),
            ]
            form = data_form("form", f"{NS_MUC}#roomconfig", fields)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MUC_OWNER}'>{form}</query>"))
            return
        if _child(query, NS_MUC_OWNER, "destroy") is not None:
            self._refuse(stream, element, Refusal("feature-not-implemented", "error.unavailable"), member)
            return
        values = _form_values(_child(query, NS_DATA, "x"))
        name, description = room.name, room.description
        for var, field_kind in (
            ("muc#roomconfig_roomname", Field.GROUP_NAME),
            ("muc#roomconfig_roomdesc", Field.GROUP_DESCRIPTION),
        ):
            text = values.get(var, "").strip()
            if not text or text == (name if field_kind is Field.GROUP_NAME else description):
                continue
            outcome = await self._moderate(stream, element, room, member, text, field_kind, RoomEventKind.CONFIG)
            if outcome is None:
                return
            if field_kind is Field.GROUP_NAME:
                name = outcome[0].text
            else:
                description = outcome[0].text
        if (name, description) != (room.name, room.description):
            await self.rt.store.rooms.set_name(room.realm, room.local, name, description)
            room.name, room.description = name, description
        stream.send_nowait(st.build_iq_result(element))

    # building stanzas: everything after `to`, built once per fan-out

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
            self.rt.counters.stanzas_out += len(copies)
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

        With an author, occupants who blocked that member do not get it.
        """
        data = tail if isinstance(tail, bytes) else tail.encode()
        parts: list[bytes] = []
        directory = self.rt.directory
        for occupant in room.occupants.values():
            if occupant is skip or (author is not None and directory.has_blocked(occupant.member, author)):
                continue
            for quoted, _ in occupant.sessions.values():
                parts += (head, quoted, data)
        if parts:
            await stream.send(b"".join(parts))
        copies = len(parts) // 3
        self.rt.counters.stanzas_out += copies
        return copies

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
        return (
            f"{_a(from_=self._jid(room, occupant.nick), type=kind)}>{status_xml}"
            f"<x xmlns='{NS_MUC_USER}'><item{_a(affiliation=affiliation, role=role)}/>{code_xml}</x>"
            f"<occupant-id{_a(xmlns=NS_OCCUPANT_ID, id=occupant.occupant_id)}/></presence>"
        ).encode()

    def _message_tail(self, room: Room, record: RoomRecord, delayed: bool = False, extra: str = "") -> bytes:
        room_jid = self._jid(room)
        delay = f"<delay{_a(xmlns=NS_DELAY, stamp=stamp(record.created_at), from_=room_jid)}/>" if delayed else ""
        content = tombstone(room_jid) if record.removed else f"<body>{escape(record.body)}</body>"
        return (
            f"{_a(from_=self._jid(room, record.nick), type='groupchat', id=record.client_id or record.stanza_id)}>"
            f"{content}{extra}{delay}"
            f"<stanza-id{_a(xmlns=NS_SID, id=record.stanza_id, by=room_jid)}/>"
            f"<occupant-id{_a(xmlns=NS_OCCUPANT_ID, id=core.occupant_id(room.salt, record.sender_id))}/></message>"
        ).encode()

    @staticmethod
    def _subject_tail(sender: str, stanza_id: str, subject: str) -> str:
        return f"{_a(from_=sender, type='groupchat', id=stanza_id)}><subject>{escape(subject)}</subject></message>"

    def _state_tail(self, room: Room, occupant: Occupant, message: ChatMessage) -> bytes:
        extras = self._extras(message)
        if not extras:
            return b""
        return (
            f"{_a(from_=self._jid(room, occupant.nick), type='groupchat', id=message.id)}>{extras}"
            f"<occupant-id{_a(xmlns=NS_OCCUPANT_ID, id=occupant.occupant_id)}/></message>"
        ).encode()

    @staticmethod
    def _extras(message: ChatMessage) -> str:
        state = f"<{message.chat_state} xmlns='{st.NS_CHATSTATES}'/>" if message.chat_state else ""
        marker = f"<{message.marker[0]} xmlns='{st.NS_MARKERS}'{_a(id=message.marker[1])}/>" if message.marker else ""
        return state + marker

    # errors

    def _refuse(self, stream: ComponentStream, element: ET.Element, refusal: Refusal, member: Member | None) -> None:
        self.rt.counters.refused += 1
        reply = st.build_error(element, refusal.condition, refusal.kind, self.rt.texts(refusal, member))
        if reply is not None:
            stream.send_nowait(reply)
