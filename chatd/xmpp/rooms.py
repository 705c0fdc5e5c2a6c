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
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr

from chatd import i18n
from chatd.core import keys
from chatd.core import rooms as core
from chatd.core.direct import admit, find_recipient
from chatd.core.fragments import Completion, Piece
from chatd.core.message import ChatMessage, check_message
from chatd.core.model import Member, Realm
from chatd.core.pipeline import TextEvent, archive_record
from chatd.core.refusal import Refusal
from chatd.core.rooms import Occupant, Room, RoomKind
from chatd.executor import Executor, Reply
from chatd.ids import new_stanza_id
from chatd.runtime import Runtime
from chatd.store import StoreError
from chatd.store.rooms import ArchiveQuery, RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.ns import (
    NS_CHATSTATES,
    NS_CLIENT,
    NS_CONFERENCE,
    NS_CORRECT,
    NS_DATA,
    NS_DELAY,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_FALLBACK,
    NS_FASTEN,
    NS_FORWARD,
    NS_HINTS,
    NS_MAM,
    NS_MARKERS,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_MUC,
    NS_MUC_ADMIN,
    NS_MUC_OWNER,
    NS_MUC_USER,
    NS_OCCUPANT_ID,
    NS_PING,
    NS_RETRACT,
    NS_RETRACT_0,
    NS_RSM,
    NS_SELF_PING,
    NS_SID,
)
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field

log = logging.getLogger("chatd.rooms")

MAM_PAGE = 50

ROOM_FEATURES = [
    NS_DISCO_INFO,
    NS_MUC,
    "muc_persistent",
    "muc_semianonymous",
    "muc_unmoderated",
    "muc_unsecured",
    NS_MAM,
    NS_SID,
    NS_OCCUPANT_ID,
    NS_SELF_PING,
    NS_PING,
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


async def _quiet(text: str) -> None:
    """No notice (a status text, a new group's name: the author is answered otherwise)."""


async def _ignore(text: str, stanza_id: str) -> None:
    """Delivery read from the outcome (a group's name and description)."""


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
        self.executor = Executor(runtime)

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

    # posts by the Wall Guides (from the watch domain)

    async def post_as_guide(self, local: str, text: str) -> None:
        """A Wall Guide's message in a room: from the guides' display name, archived, never by account."""
        room = self.rooms.get(local)
        if room is None:
            return
        stanza_id = new_stanza_id()
        await self.rt.store.archive(archive_record(stanza_id, room.key, 0, text, self.rt.now()))
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
            f"<store xmlns='{NS_HINTS}'/></message>"
        )
        await self._fanout(self.rt.streams[self.domain], room, b"<message to=", tail)

    async def correct(self, local: str, record: RoomRecord, text: str) -> None:
        """A Wall Guide's edit: a XEP-0308 correction of the author's message, archived in its place."""
        await self.rt.store.moderate(record.stanza_id, text)
        replace_xml = f"<replace xmlns='{NS_CORRECT}'{_a(id=record.client_id or record.stanza_id)}/>"
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
        self.rt.queues.submit(str(keys.room(self.realm.id, local)), job)

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
        key = Room(local, self.realm.id, RoomKind.GROUP, local, "", b"").key
        event = TextEvent(
            member, self.realm, local, Field.GROUP_NAME, Conversation.GROUP, key, "config", target=local, verbatim=True
        )
        outcome = await self.executor.submit(event, Reply(lambda r: self._refuse(stream, element, r, member), _quiet))
        if outcome.delivered is None:
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
            event = self._event(room, occupant.member, text, Field.STATUS, "config")
            outcome = await self.executor.submit(event, Reply(lambda r: None, _quiet))
            text = outcome.delivered
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
            elif subject is not None:
                self._submit(local, lambda: self._on_subject(stream, element, member, local, subject.text or ""))
            else:
                self._submit(local, lambda: self._on_groupchat(stream, element, member, local, message))
            return
        if nick and message.type in ("chat", "normal"):
            refusal = check_message(message, self.rt.config.limits.max_body_chars)
            if refusal is not None:
                self._refuse(stream, element, refusal, member)
            else:
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
        field = Field.CORRECTION if message.replaces else Field.BODY
        kind = "correction" if message.replaces else "message"
        event = self._event(room, member, message.body, field, kind, client_id=element.get("id"))
        event = replace(event, reply_to=message.reply_to)
        extra = f"<replace xmlns='{NS_CORRECT}'{_a(id=message.replaces)}/>" if message.replaces else ""

        async def deliver(text: str, stanza_id: str) -> None:
            record = RoomRecord(0, stanza_id, member.id, member.pseudonym, message.id, text, self.rt.now())
            tail = self._message_tail(room, record, extra=extra)
            self.rt.counters.delivered += await self._fanout(stream, room, b"<message to=", tail, author=member)

        await self.executor.submit(event, self._reply(stream, element, room, member, deliver))

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

        async def deliver(subject: str, stanza_id: str) -> None:
            await self.rt.store.rooms.set_subject(room.realm, room.local, subject, occupant.nick)
            room.subject, room.subject_nick = subject, occupant.nick
            tail = self._subject_tail(self._jid(room, occupant.nick), element.get("id") or new_stanza_id(), subject)
            await self._fanout(stream, room, b"<message to=", tail)

        if not text:  # clearing the subject
            await deliver("", "")
            return
        event = self._event(room, member, text, Field.SUBJECT, "subject")
        await self.executor.submit(event, self._reply(stream, element, room, member, deliver))

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

        async def send(delivered: ChatMessage) -> None:
            body = f"<body>{escape(delivered.body)}</body>" if delivered.body is not None else ""
            tail = (
                f"{_a(from_=self._jid(room, occupant.nick), type='chat', id=delivered.id)}>{body}"
                f"{self._extras(delivered)}<x xmlns='{NS_MUC_USER}'/></message>"
            ).encode()
            self.rt.counters.delivered += await self._send(stream, self._to_clients(recipient, b"<message to=", tail))

        async def deliver(text: str, stanza_id: str) -> None:
            await send(message.with_body(text))

        if message.body is None:  # chat states and markers: passed on, not reviewed
            await send(message)
            return
        event = self._event(room, member, message.body, Field.BODY, "private", recipient.member, element.get("id"))
        await self.executor.submit(event, self._reply(stream, element, room, member, deliver))

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

        async def deliver(text: str, stanza_id: str) -> None:
            await self._send_invite(stream, room, member, invitee, text)

        if not reason:
            await deliver("", "")
            return
        event = self._event(room, member, reason, Field.INVITE_REASON, "invite", invitee)
        await self.executor.submit(event, self._reply(stream, element, room, member, deliver))

    async def _send_invite(
        self, stream: ComponentStream, room: Room, member: Member, invitee: Member, reason: str
    ) -> None:
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

    # a member's text in a room: one event for the pipeline; its outlets

    def _event(
        self,
        room: Room,
        member: Member,
        text: str,
        field: Field,
        kind: str,
        recipient: Member | None = None,
        client_id: str | None = None,
    ) -> TextEvent:
        place = Conversation.ROOM_PRIVATE if kind == "private" else self._conversation(room)
        conversation = room.key
        if kind == "private" and recipient is not None:
            conversation = str(keys.room_private(room.realm, room.local, member.id, recipient.id))
        return TextEvent(
            member, self.realm, text, field, place, conversation, kind, recipient, client_id, target=room.name
        )

    def _reply(
        self,
        stream: ComponentStream,
        element: ET.Element,
        room: Room,
        member: Member,
        deliver: Callable[[str, str], Awaitable[None]],
    ) -> Reply:
        """Refusals answer the stanza; notices come from the room to the author's own clients."""

        async def notice(text: str) -> None:
            await self._tell(stream, room, member, text)

        return Reply(lambda refusal: self._refuse(stream, element, refusal, member), notice, deliver)

    @staticmethod
    def _conversation(room: Room) -> Conversation:
        return Conversation.GROUP if room.is_group else Conversation.ROOM

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
        elif kind == "get" and ns == NS_DISCO_INFO:
            stream.send_nowait(st.build_iq_result(element, self._room_info(room)))
        elif kind == "get" and ns == NS_DISCO_ITEMS:
            stream.send_nowait(st.build_iq_result(element, st.disco_items([])))
        elif kind == "get" and ns == NS_PING:
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
        elif ns == NS_PING and core.is_own_nick(occupant, element.get("from", ""), nick):
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
        if element.get("type") == "get" and ns == NS_DISCO_INFO:
            name = i18n.text(self.realm.language, "room.service_name")
            features = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_MUC, NS_MAM]
            stream.send_nowait(st.build_iq_result(element, st.disco_info([("conference", "text", name)], features)))
        elif element.get("type") == "get" and ns == NS_DISCO_ITEMS:
            items = [(self._jid(r), r.name) for r in self.rooms.values() if r.visible_to(member)]
            stream.send_nowait(st.build_iq_result(element, st.disco_items(sorted(items))))
        elif element.get("type") == "get" and ns == NS_PING:
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
                f"<message xmlns='{NS_CLIENT}'{self._message_tail(room, r).decode()}"
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
            reply = self._reply(stream, element, room, member, _ignore)
            delivered = (
                await self.executor.submit(self._event(room, member, text, field_kind, "config"), reply)
            ).delivered
            if delivered is None:
                return
            if field_kind is Field.GROUP_NAME:
                name = delivered
            else:
                description = delivered
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
        state = f"<{message.chat_state} xmlns='{NS_CHATSTATES}'/>" if message.chat_state else ""
        marker = f"<{message.marker[0]} xmlns='{NS_MARKERS}'{_a(id=message.marker[1])}/>" if message.marker else ""
        return state + marker

    # errors

    def _refuse(self, stream: ComponentStream, element: ET.Element, refusal: Refusal, member: Member | None) -> None:
        self.rt.counters.refused += 1
        reply = st.build_error(element, refusal.condition, refusal.kind, self.rt.texts(refusal, member))
        if reply is not None:
            stream.send_nowait(reply)
