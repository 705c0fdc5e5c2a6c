"""The watch domain: Wall Guides' shadow rooms, the triage queue, and their commands.

Each conversation (one-on-one chat, topic room or group, Ask-a-Wall-Guide thread) has a shadow
room, `<realm>-dm-<a>-<b>`, `<realm>-room-<local>`, `<realm>-guide-<member>`, and each realm a
queue, `<realm>-queue`. Only Wall Guides and Senior Clinicians of that realm may join. Shadow
rooms are MUC rooms (the rooms domain's machinery) whose messages chatd writes: every reviewed
text with its verdict and original. Guides type commands (`!help`) in them; what a guide writes
in an Ask-a-Wall-Guide shadow reaches the member from wallguide@.
"""

from __future__ import annotations

import hashlib
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from chatd import i18n
from chatd.core import keys
from chatd.core.guides import (
    CommandProblem,
    GuideCommand,
    QueueEntry,
    Verb,
    due_for_reannouncement,
    is_guide_of,
    parse_duration,
    parse_guide_command,
    ranked,
)
from chatd.core.keys import KeyKind, parse_key
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm, Status
from chatd.core.pipeline import archive_record
from chatd.core.refusal import Refusal
from chatd.core.rooms import Room, RoomKind
from chatd.core.shadow import Reviewed, ShadowAddress, parse_shadow, queue_local, shadow_local, short_id
from chatd.desk import Desk
from chatd.events import ModeratorAction
from chatd.executor import Executor
from chatd.ids import new_stanza_id
from chatd.runtime import Runtime
from chatd.store.audit import AuditLog
from chatd.store.rooms import RoomRecord
from chatd.xmpp import adhoc
from chatd.xmpp import stanza as st
from chatd.xmpp.ns import NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_FALLBACK, NS_HINTS, NS_MUC, NS_PING, NS_RETRACT
from chatd.xmpp.rooms import RoomsDomain
from chatd.xmpp.stream import ComponentStream
from policies import Action

log = logging.getLogger("chatd.watch")


@dataclass(slots=True)
class ShadowRoom(Room):
    """A room whose archive is the shadow's own ("watch:<local>"), apart from any member's room."""

    @property
    def key(self) -> str:
        return str(keys.watch(self.local))


class ShadowRooms(RoomsDomain):
    """One realm's shadow rooms and queue, on the shared watch domain."""

    def __init__(self, runtime: Runtime, realm: Realm, domain: str, desk: Desk, rooms: RoomsDomain, audit: AuditLog):
        super().__init__(runtime, realm, [])
        self.domain = domain
        self.desk = desk
        self.member_rooms = rooms
        self.audit = audit
        self.executor = Executor(runtime, reviewed=lambda record: None)  # guides' words are not mirrored again

    async def load(self) -> None:
        """The shadow rooms that have lines already (so that guides find them after a restart)."""
        for conversation in await self.rt.store.conversations_like(str(keys.watch(f"{self.realm.id}-"))):
            self.shadow(parse_key(conversation).room)
        self.rt.presence_listeners.append(self.presence)

    def presence(self, realm: str, room: str, member: Member, joined: bool) -> None:
        """A presence listener: members entering and leaving a room show in its shadow."""
        if realm == self.realm.id:
            local = shadow_local(realm, str(keys.room(realm, room)))
            key = "watch.joined" if joined else "watch.left"
            line = i18n.text(self.realm.language, key, name=member.pseudonym)
            self._submit(local, lambda: self._post(local, None, line))

    async def _on_invite(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, invites: list[ET.Element]
    ) -> None:
        """Nobody is invited into a shadow room: guides of the realm may simply join."""
        self._refuse(stream, element, Refusal("not-allowed", "error.unavailable"), member)

    # admission: guides of this realm only

    def _admit(self, sender: tuple[str, str, str]) -> Member | Refusal:
        member = super()._admit(sender)
        if isinstance(member, Refusal):
            return member
        if not is_guide_of(member, self.realm.id):
            return Refusal("forbidden", "error.guides_only", kind="auth")
        return member

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        target = st.split_jid(element.get("to"))
        if target is not None and not target[0] and self._is_adhoc(element):
            member = self._admit(st.split_jid(element.get("from")) or ("", "", ""))
            if isinstance(member, Refusal):
                self._refuse(stream, element, member, None)
            else:
                self._submit(queue_local(self.realm.id), lambda: self._on_adhoc(stream, element, member))
            return
        if target is not None and target[0] and self.shadow(target[0]) is None:
            member = self._admit(st.split_jid(element.get("from")) or ("", "", ""))
            refusal = (
                member
                if isinstance(member, Refusal)
                else Refusal("item-not-found", "error.room_not_found", params={"name": target[0]})
            )
            if element.get("type") != "error":
                self._refuse(stream, element, refusal, member if isinstance(member, Member) else None)
            return
        super().handle(stream, element)

    # XEP-0050: the same actions as ad-hoc commands

    @staticmethod
    def _is_adhoc(element: ET.Element) -> bool:
        query = st.payload(element)
        if query is None or element.get("type") not in ("get", "set"):
            return False
        listing = query.tag == f"{{{NS_DISCO_ITEMS}}}query" and query.get("node") == NS_COMMANDS
        return listing or query.tag == f"{{{NS_COMMANDS}}}command"

    async def _on_adhoc(self, stream: ComponentStream, element: ET.Element, guide: Member) -> None:
        language = self.realm.language
        query = st.payload(element)
        assert query is not None
        if query.tag != f"{{{NS_COMMANDS}}}command":
            stream.send_nowait(st.build_iq_result(element, adhoc.guide_commands(self.domain, language)))
            return
        try:
            verb = Verb(query.get("node", ""))
        except ValueError:
            verb = Verb.HELP
        if verb not in adhoc.OFFERED:
            self._refuse(stream, element, Refusal("item-not-found", "error.unavailable"), guide)
            return
        values = adhoc.submitted(query)
        if values is None or query.get("action") == "cancel":
            payload = (
                adhoc.guide_form(verb, language)
                if values is None
                else adhoc.completed_payload(
                    verb.value, query.get("sessionid", ""), i18n.text(language, "adhoc.cancelled")
                )
            )
            stream.send_nowait(st.build_iq_result(element, payload))
            return
        session = query.get("sessionid", "")
        queue_room = self.shadow(queue_local(self.realm.id))
        assert queue_room is not None
        try:
            command = adhoc.guide_command(verb, values)
            note = await self._execute(queue_room, guide, command) or i18n.text(language, "watch.done")
            payload = adhoc.completed_payload(verb.value, session, note)
        except CommandProblem as problem:
            payload = adhoc.completed_payload(verb.value, session, str(problem), error=True)
        stream.send_nowait(st.build_iq_result(element, payload))

    def _on_service(self, stream: ComponentStream, element: ET.Element, member: Member) -> None:
        """disco#info on the watch domain also names ad-hoc commands; the rest as on a rooms domain."""
        query = st.payload(element)
        if element.get("type") == "get" and query is not None and query.tag == f"{{{NS_DISCO_INFO}}}query":
            name = i18n.text(self.realm.language, "watch.service_name")
            features = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_MUC, NS_COMMANDS]
            stream.send_nowait(st.build_iq_result(element, st.disco_info([("conference", "text", name)], features)))
            return
        super()._on_service(stream, element, member)

    def shadow(self, local: str) -> ShadowRoom | None:
        """The shadow room at this address, made on first use, if its conversation exists."""
        room = self.rooms.get(local)
        if isinstance(room, ShadowRoom):
            return room
        address = parse_shadow(local)
        if address is None or address.realm != self.realm.id or not self._exists(address):
            return None
        salt = hashlib.sha256(f"shadow:{local}".encode()).digest()[:16]
        made = ShadowRoom(local, self.realm.id, RoomKind.TOPIC, self._title(address), "", salt)
        self.rooms[local] = made
        return made

    def _exists(self, address: ShadowAddress) -> bool:
        directory = self.rt.directory
        if address.kind == "queue":
            return True
        if address.kind == "room":
            return address.room in self.member_rooms.rooms
        members = [directory.by_id(i) for i in address.member_ids]
        return all(m is not None and m.realm == self.realm.id for m in members)

    def _title(self, address: ShadowAddress) -> str:
        language = self.realm.language
        if address.kind == "queue":
            return i18n.text(language, "watch.title_queue")
        if address.kind == "room":
            return i18n.text(language, "watch.title_room", room=address.room)
        names = [self._pseudonym(i) for i in address.member_ids]
        if address.kind == "dm":
            return i18n.text(language, "watch.title_dm", a=names[0], b=names[1])
        return i18n.text(language, "watch.title_guide", name=names[0])

    def _pseudonym(self, member_id: int) -> str:
        member = self.rt.directory.by_id(member_id)
        return member.pseudonym if member else f"#{member_id}"

    # writing into shadow rooms

    def mirror(self, record: Reviewed) -> None:
        """A review listener: the record goes to its conversation's shadow room, in order."""
        local = shadow_local(record.realm, record.conversation)
        self._submit(local, lambda: self._post(local, record.author, self._mirror_line(record)))

    def _mirror_line(self, record: Reviewed) -> str:
        language = self.realm.language
        verdict = record.verdict
        kinds = ", ".join(sorted({f.kind for f in verdict.findings}))
        head = i18n.text(language, f"watch.verdict.{verdict.action.value}")
        if kinds:
            head += f" · {kinds}"
        if record.kind not in ("message", "guide"):
            head += f" · {i18n.text(language, f'watch.kind.{record.kind}')}"
        if record.recipient is not None and parse_key(record.conversation).kind is not KeyKind.DM:
            head += f" → {record.recipient.pseudonym}"
        if record.stanza_id:
            head += f" · id {short_id(record.stanza_id)}"
        lines = [f"[{head}]", record.original]
        if verdict.action is Action.REDACT:
            lines.append(i18n.text(language, "watch.delivered_as", text=verdict.text))
        return "\n".join(lines)

    async def _post(self, local: str, author: Member | None, body: str) -> None:
        room = self.shadow(local)
        if room is None:
            return
        stanza_id = new_stanza_id()
        sender_id = author.id if author else 0
        nick = author.pseudonym if author else self.rt.config.watch.guide_name  # the desk writes as the guides
        await self.rt.store.archive(archive_record(stanza_id, room.key, sender_id, body, self.rt.now()))
        record = RoomRecord(0, stanza_id, sender_id, nick, None, body, self.rt.now())
        stream = self.rt.streams[self.domain]
        await self._fanout(stream, room, b"<message to=", self._message_tail(room, record))

    def announce(self, entry: QueueEntry) -> None:
        """A desk listener: a new queue entry is posted in the realm's queue room."""
        if entry.realm == self.realm.id:
            local = queue_local(self.realm.id)
            self._submit(local, lambda: self._post(local, None, self._entry_line(entry)))

    def _entry_line(self, entry: QueueEntry, again: bool = False) -> str:
        language = self.realm.language
        shadow = f"xmpp:{shadow_local(entry.realm, entry.conversation)}@{self.domain}?join"
        key = "watch.entry_again" if again else "watch.entry"
        kind = i18n.text(language, f"watch.entry_kind.{entry.kind}")
        line = i18n.text(
            language, key, id=str(entry.id), severity=str(entry.severity), kind=kind, summary=entry.summary, link=shadow
        )
        if entry.kind == "alert":
            line += "\n" + i18n.text(language, "watch.feedback_hint", id=str(entry.id))
        return line

    # guides' words in shadow rooms: commands, replies to members, or talk among guides

    async def _on_groupchat(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, message: ChatMessage
    ) -> None:
        joined = self._joined(stream, element, member, local)
        if joined is None or message.body is None:
            return
        room, _ = joined
        try:
            command = parse_guide_command(message.body)
        except CommandProblem as problem:
            await self._tell(stream, room, member, str(problem))
            return
        if command is not None:
            await self._run(stream, room, member, command, message.body.strip())
            return
        address = parse_shadow(local)
        if address is not None and address.kind == "guide":
            await self._reply_in_thread(room, member, address, message.body)
            return
        await self._post(local, member, message.body)

    async def _reply_in_thread(self, room: Room, guide: Member, address: ShadowAddress, text: str) -> None:
        member = self.rt.directory.by_id(address.member_ids[0])
        if member is None:
            return
        await self._to_member(member, text)
        record = archive_record(new_stanza_id(), address.conversation, guide.id, text, self.rt.now(), None, member.id)
        await self.rt.store.archive(record)
        await self._post(room.local, guide, i18n.text(self.realm.language, "watch.sent_to_member", text=text))

    async def _to_member(self, member: Member, text: str) -> None:
        """A message to a member from wallguide@ (guides appear only by the guides' display name)."""
        realm = self.rt.realms[member.realm]
        await self.rt.send(realm.people_domain, st.build_chat(realm.guide_jid, member.account, text))

    async def _notify(self, member: Member, key: str, **params: str) -> None:
        language = self.rt.realms[member.realm].language
        await self._to_member(member, i18n.text(language, key, **params))

    # commands

    async def _run(self, stream: ComponentStream, room: Room, guide: Member, command: GuideCommand, line: str) -> None:
        """A command's answer: to every guide in the room when it acted, to its author alone when it failed."""
        try:
            answer = await self._execute(room, guide, command)
        except CommandProblem as problem:
            await self._tell(stream, room, guide, str(problem))
            return
        if command.verb in (Verb.HELP, Verb.ACTIVITY):
            await self._tell(stream, room, guide, answer)
        else:
            await self._post(room.local, guide, f"{line}\n→ {answer or i18n.text(self.realm.language, 'watch.done')}")

    async def _execute(self, room: Room, guide: Member, command: GuideCommand) -> str:
        verb, language = command.verb, self.realm.language
        if verb is Verb.HELP:
            return i18n.text(language, "watch.help")
        if verb in (Verb.CLAIM, Verb.RESOLVE, Verb.ESCALATE):
            return await self._queue_command(guide, command)
        if verb in (Verb.HELPFUL, Verb.NOT_HELPFUL):
            return await self._feedback(guide, command)
        if verb is Verb.POST:
            return await self._post_into(room, guide, command.text)
        if verb in (Verb.APPROVE, Verb.REJECT):
            return await self._decide_held(guide, command)
        if verb in (Verb.REMOVE, Verb.EDIT):
            removing = verb is Verb.REMOVE
            reason = command.text if removing else command.reason
            text = "" if removing else command.text
            return await self.moderate_message(guide.pseudonym, command.arguments["message"], removing, text, reason)
        member = self._target(command.arguments.get("member", ""))
        return await self._member_command(guide, member, command)

    def _target(self, pseudonym: str) -> Member:
        member = self.rt.directory.by_pseudonym(self.realm.id, pseudonym)
        if member is None:
            raise CommandProblem(i18n.text(self.realm.language, "watch.no_member", name=pseudonym))
        return member

    async def _audit(self, actor: str, action: str, target: str, detail: dict[str, object]) -> None:
        await self.audit.append(actor, action, self.realm.id, target, detail)
        self.rt.bus.publish(ModeratorAction(realm=self.realm.id, action=action, target=target))

    async def _entry(self, command: GuideCommand) -> QueueEntry:
        raw = command.arguments["entry"].lstrip("#")
        entry = await self.desk.guides.entry(self.realm.id, int(raw)) if raw.isdigit() else None
        if entry is None:
            raise CommandProblem(i18n.text(self.realm.language, "watch.no_entry", id=raw))
        return entry

    async def _queue_command(self, guide: Member, command: GuideCommand) -> str:
        language = self.realm.language
        entry = await self._entry(command)
        status = {Verb.CLAIM: "claimed", Verb.RESOLVE: "resolved", Verb.ESCALATE: "escalated"}[command.verb]
        await self.desk.guides.set_status(self.realm.id, entry.id, status, guide.pseudonym)
        await self._audit(guide.pseudonym, f"queue.{status}", f"#{entry.id}", {"note": command.text})
        if command.verb is Verb.ESCALATE:
            line = i18n.text(language, "watch.escalated", id=str(entry.id), guide=guide.pseudonym, reason=command.text)
            await self._post(queue_local(self.realm.id), None, line)
        return i18n.text(language, f"watch.entry_{status}", id=str(entry.id))

    async def _feedback(self, guide: Member, command: GuideCommand) -> str:
        """A guide's answer to an alert: kept once per guide, counted per construct in /metrics and the audit log."""
        language, entry = self.realm.language, await self._entry(command)
        if entry.kind != "alert":
            raise CommandProblem(i18n.text(language, "watch.not_an_alert", id=str(entry.id)))
        helpful = command.verb is Verb.HELPFUL
        answer = "helpful" if helpful else "not_helpful"
        if not await self.desk.guides.add_feedback(entry.id, guide.pseudonym, helpful, command.text):
            raise CommandProblem(i18n.text(language, "watch.feedback_given", id=str(entry.id)))
        if self.rt.metrics is not None:
            for construct in entry.constructs:
                self.rt.metrics.alert_feedback.labels(self.realm.id, construct, answer).inc()
        detail = {"constructs": list(entry.constructs), "signals": list(entry.signals), "note": command.text}
        await self._audit(guide.pseudonym, f"alert.{answer}", f"#{entry.id}", detail)
        return i18n.text(language, f"watch.feedback_{answer}", id=str(entry.id))

    async def _post_into(self, room: Room, guide: Member, text: str) -> str:
        """A Wall Guide's post into the conversation this shadow room mirrors."""
        address = parse_shadow(room.local)
        if address is None or address.kind == "queue":
            raise CommandProblem(i18n.text(self.realm.language, "watch.post_where"))
        if address.kind == "room":
            await self.member_rooms.post_as_guide(address.room, text)
        else:
            for member_id in address.member_ids:
                member = self.rt.directory.by_id(member_id)
                if member is not None:
                    await self._to_member(member, text)
        await self._post(room.local, guide, i18n.text(self.realm.language, "watch.posted", text=text))
        await self._audit(guide.pseudonym, "conversation.post", address.conversation, {})
        return ""

    async def _decide_held(self, guide: Member, command: GuideCommand) -> str:
        language = self.realm.language
        held = await self.rt.store.find_message(command.arguments["message"], ("hold",))
        if held is None:
            raise CommandProblem(i18n.text(language, "watch.no_held", id=command.arguments["message"]))
        author = self.rt.directory.by_id(held.sender_id)
        if author is None or author.realm != self.realm.id:
            raise CommandProblem(i18n.text(language, "watch.no_held", id=command.arguments["message"]))
        if command.verb is Verb.REJECT:
            await self.rt.store.settle_held(held.stanza_id, "rejected", None)
            await self._notify(author, "notice.held_rejected", reason=command.text)
            await self._audit(guide.pseudonym, "held.reject", held.stanza_id, {"reason": command.text})
            return i18n.text(language, "watch.held_rejected", id=short_id(held.stanza_id))
        text = command.text or held.original or ""
        await self.rt.store.settle_held(held.stanza_id, "approved", text)
        await self._deliver_held(held.stanza_id, held.conversation, author, held.recipient_id, held.client_id, text)
        edited = bool(command.text) and command.text != held.original
        if edited:
            await self._notify(author, "notice.held_edited", reason=command.reason or "-")
        else:
            await self._notify(author, "notice.held_approved")
        await self._audit(guide.pseudonym, "held.approve", held.stanza_id, {"edited": edited, "reason": command.reason})
        return i18n.text(language, "watch.held_approved", id=short_id(held.stanza_id))

    async def moderate_message(self, actor: str, short: str, removing: bool, text: str, reason: str) -> str:
        """Removes or edits a delivered message: in its room (XEP-0425, XEP-0308) or one-on-one chat."""
        language = self.realm.language
        found = await self.rt.store.find_message(short, ("deliver", "redact", "approved", "edited"))
        author = self.rt.directory.by_id(found.sender_id) if found else None
        key = parse_key(found.conversation) if found is not None else None
        if key is None or author is None or author.realm != self.realm.id or key.kind is KeyKind.ROOM_PRIVATE:
            raise CommandProblem(i18n.text(language, "watch.no_message", id=short))
        assert found is not None
        if key.kind is KeyKind.ROOM:
            local = key.room
            if removing:
                await self.member_rooms.retract(local, found.stanza_id, reason)
            else:
                record = RoomRecord(
                    0, found.stanza_id, author.id, author.pseudonym, found.client_id, "", found.created_at
                )
                await self.member_rooms.correct(local, record, text)
        else:
            await self.rt.store.moderate(found.stanza_id, "" if removing else text)
            await self._moderate_direct(author, found.recipient_id, found.client_id, text, removing)
        if removing:
            await self._notify(author, "notice.removed", reason=reason)
        else:
            await self._notify(author, "notice.edited", text=text, reason=reason)
        await self._audit(actor, "message.remove" if removing else "message.edit", found.stanza_id, {"reason": reason})
        return i18n.text(language, "watch.removed" if removing else "watch.edited", id=short)

    async def _moderate_direct(
        self, author: Member, recipient_id: int | None, client_id: str | None, text: str, removing: bool
    ) -> None:
        """In a one-on-one chat: a retraction (XEP-0424) or a correction from the author's pseudonym."""
        recipient = self.rt.directory.by_id(recipient_id) if recipient_id is not None else None
        if recipient is None or client_id is None:
            return
        realm = self.rt.realms[author.realm]
        sender = f"{author.pseudonym}@{realm.people_domain}"
        language = realm.language
        if removing:
            body = escape(i18n.text(language, "room.removed_fallback", reason="-"))
            stanza = (
                f"<message from={quoteattr(sender)} to={quoteattr(recipient.account)} type='chat'"
                f" id={quoteattr(new_stanza_id())}>"
                f"<retract xmlns='{NS_RETRACT}' id={quoteattr(client_id)}/>"
                f"<fallback xmlns='{NS_FALLBACK}' for='{NS_RETRACT}'/><body>{body}</body>"
                f"<store xmlns='{NS_HINTS}'/></message>"
            )
        else:
            stanza = st.build_message(sender, recipient.account, ChatMessage(new_stanza_id(), "chat", body=text,
                                                                             replaces=client_id))  # fmt: skip
        await self.rt.send(realm.people_domain, stanza)

    async def _deliver_held(
        self,
        stanza_id: str,
        conversation: str,
        author: Member,
        recipient_id: int | None,
        client_id: str | None,
        text: str,
    ) -> None:
        realm, key = self.rt.realms[author.realm], parse_key(conversation)
        if key.kind is KeyKind.DM and recipient_id is not None:
            recipient = self.rt.directory.by_id(recipient_id)
            if recipient is not None:
                message = ChatMessage(client_id, "chat", body=text)
                sender = f"{author.pseudonym}@{realm.people_domain}"
                await self.rt.send(realm.people_domain, st.build_message(sender, recipient.account, message))
        elif key.kind is KeyKind.ROOM:
            record = RoomRecord(0, stanza_id, author.id, author.pseudonym, client_id, text, self.rt.now())
            await self.member_rooms.post_record(key.room, record)

    async def _member_command(self, guide: Member, member: Member, command: GuideCommand) -> str:
        language, verb = self.realm.language, command.verb
        guides = self.desk.guides
        name = member.pseudonym
        if verb is Verb.WARN:
            await self._notify(member, "notice.warned", reason=command.text)
        elif verb is Verb.MUTE:
            until = self.rt.now() + parse_duration(command.arguments["duration"])
            await self.rt.sanctions.mute(member, until, command.text, guide.pseudonym)
            await self._notify(member, "notice.muted", until=time.strftime("%H:%M UTC", time.gmtime(until)),
                               reason=command.text)  # fmt: skip
        elif verb is Verb.UNMUTE:
            await self.rt.sanctions.unmute(member)
            await self._notify(member, "notice.unmuted")
        elif verb is Verb.SUSPEND:
            await self.rt.store.set_status(member.realm, name, Status.SUSPENDED)
            await self.rt.refresh_directory()
            await self._notify(member, "notice.suspended", reason=command.text)
        elif verb in (Verb.WATCH, Verb.UNWATCH):
            on = verb is Verb.WATCH
            await self.rt.sanctions.watch(member, command.text, guide.pseudonym, on)
        elif verb is Verb.NOTE:
            await guides.add_note(member.id, guide.pseudonym, command.text)
        elif verb is Verb.ACTIVITY:  # reading a member's texts is audited too
            await self._audit(guide.pseudonym, "member.activity", name, {})
            return await self._activity(member)
        await self._audit(guide.pseudonym, f"member.{verb.value}", name, {"reason": command.text, **command.arguments})
        return i18n.text(language, f"watch.member_{verb.value}", name=name)

    async def _activity(self, member: Member) -> str:
        rows = await self.rt.store.recent_by_member(member.id, 10)
        notes = await self.desk.guides.notes(member.id, 3)
        lines = [i18n.text(self.realm.language, "watch.activity", name=member.pseudonym)]
        for row in rows:
            when = time.strftime("%m-%d %H:%M", time.gmtime(row.created_at))
            lines.append(
                f"{when} {row.conversation} [{row.verdict}] id {short_id(row.stanza_id)}: {row.original or row.body}"
            )
        lines += [f"note {time.strftime('%m-%d', time.gmtime(at))} {by}: {text}" for at, by, text in notes]
        return "\n".join(lines)

    async def reannounce(self, after: float) -> None:
        """Unclaimed high-severity entries are posted again in the queue room."""
        now = self.rt.now()
        due = due_for_reannouncement(await self.desk.guides.entries(self.realm.id), now, after)
        if due:
            await self.desk.guides.mark_announced([e.id for e in due], now)
            for entry in due:
                await self._post(queue_local(self.realm.id), None, self._entry_line(entry, again=True))

    async def queue_summary(self) -> list[QueueEntry]:
        return ranked(await self.desk.guides.entries(self.realm.id))


class WatchDomain:
    """Dispatches the watch domain's stanzas to the sender's (or the room's) realm."""

    def __init__(self, runtime: Runtime, domain: str, realms: dict[str, ShadowRooms]):
        self.rt = runtime
        self.domain = domain
        self.realms = realms
        runtime.review_listeners.append(self.mirror)

    def mirror(self, record: Reviewed) -> None:
        shadows = self.realms.get(record.realm)
        if shadows is not None:
            shadows.mirror(record)

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        target = st.split_jid(element.get("to"))
        local = target[0] if target else ""
        realm = local.split("-", 1)[0] if local else self._sender_realm(element)
        shadows = self.realms.get(realm or "")
        if shadows is None:
            if element.get("type") != "error":
                refusal = Refusal("forbidden", "error.guides_only", kind="auth", bilingual=True)
                reply = st.build_error(element, refusal.condition, refusal.kind, self.rt.texts(refusal, None))
                if reply is not None:
                    stream.send_nowait(reply)
            return
        shadows.handle(stream, element)

    def _sender_realm(self, element: ET.Element) -> str | None:
        sender = st.split_jid(element.get("from"))
        member = self.rt.directory.by_account(f"{sender[0]}@{sender[1]}") if sender else None
        return member.realm if member else None
