"""The Wall Guides' actions, decided and carried out in one place.

Three thin front-ends use it: text commands in shadow rooms and the queue (chatd.xmpp.watch),
XEP-0050 ad-hoc forms on the watch domain (same file), and NATS actions (chatd.actions).
The rules (who may act on what, what a command means) are in chatd.core.guides; this module
reads and writes the store, tells members, posts in shadow rooms, and writes the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from chatd import i18n
from chatd.bus import Bus
from chatd.core.guides import (
    QUEUE_STATUS,
    CommandProblem,
    GuideCommand,
    QueueEntry,
    Verb,
    approval,
    may_see_last_address,
    message_change,
    parse_duration,
)
from chatd.core.keys import KeyKind, parse_key
from chatd.core.message import ChatMessage
from chatd.core.model import Directory, Member, Realm, Status
from chatd.core.shadow import parse_shadow, queue_local, short_id
from chatd.desk import Desk
from chatd.events import ModeratorAction
from chatd.ids import new_stanza_id
from chatd.metrics import Metrics
from chatd.ports import Clock, HeldListener, Send
from chatd.sanctions import Sanctions
from chatd.store import Store
from chatd.store.audit import AuditLog
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.references import is_reaction
from chatd.xmpp.rooms import RoomsDomain

# posts a line in a shadow room or the queue: (room local, author or None for the desk, text)
PostLine = Callable[[str, Member | None, str], Awaitable[None]]


class GuideActions:
    """One realm's guide actions."""

    def __init__(
        self,
        realm: Realm,
        desk: Desk,
        rooms: RoomsDomain,
        audit: AuditLog,
        post_line: PostLine,
        *,
        store: Store,
        directory: Directory,
        realms: Mapping[str, Realm],
        sanctions: Sanctions,
        send: Send,
        bus: Bus,
        clock: Clock,
        refresh_directory: Callable[[], Awaitable[None]],
        metrics: Metrics | None = None,
        settled: HeldListener | None = None,
    ):
        self.store = store
        self.directory = directory
        self.realms = realms
        self.sanctions = sanctions
        self.send = send
        self.bus = bus
        self.clock = clock
        self.refresh_directory = refresh_directory
        self.metrics = metrics
        self.settled = settled  # what follows a guide's decision on a held text (its shared files)
        self.realm = realm
        self.desk = desk
        self.member_rooms = rooms
        self.audit = audit
        self.post_line = post_line

    async def to_member(self, member: Member, text: str) -> None:
        """A message to a member from wallguide@ (guides appear only by the guides' display name)."""
        realm = self.realms[member.realm]
        await self.send(realm.people_domain, st.build_chat(realm.guide_jid, member.account, text))

    async def _notify(self, member: Member, key: str, **params: str) -> None:
        language = self.realms[member.realm].language
        await self.to_member(member, i18n.text(language, key, **params))

    async def execute(self, where: str, guide: Member, command: GuideCommand) -> str:
        """Runs a guide's command typed (or submitted) in the shadow room or queue `where`; the answer."""
        verb, language = command.verb, self.realm.language
        if verb is Verb.HELP:
            return i18n.text(language, "watch.help")
        if verb in (Verb.CLAIM, Verb.RESOLVE, Verb.ESCALATE):
            return await self._queue_command(guide, command)
        if verb is Verb.EMERGENCY:
            await self._emergency(guide, self._target(command.arguments["member"]), command.text)
        if verb in (Verb.HELPFUL, Verb.NOT_HELPFUL):
            return await self._feedback(guide, command)
        if verb is Verb.POST:
            return await self._post_into(where, guide, command.text)
        if verb in (Verb.APPROVE, Verb.REJECT):
            return await self._decide_held(guide, command)
        if verb in (Verb.REMOVE, Verb.EDIT):
            change = message_change(command)
            return await self.moderate_message(
                guide.pseudonym, command.arguments["message"], change.removing, change.text, change.reason
            )
        member = self._target(command.arguments.get("member", ""))
        return await self._member_command(guide, member, command)

    async def _emergency(self, guide: Member, member: Member, reason: str) -> None:
        """The last login address is never shown in chat (chat is logged and archived): a Senior
        Clinician is pointed to `chatd vault emergency`; anyone else is refused, and that is audited."""
        if may_see_last_address(guide):
            raise CommandProblem(i18n.text(self.realm.language, "emergency.chat.use_command", member=member.pseudonym))
        detail = {"reason": " ".join(reason.split()), "outcome": "refused: not a Senior Clinician"}
        await self.audit.append(guide.pseudonym, "vault.emergency", member.realm, member.pseudonym, detail)
        raise CommandProblem(i18n.text(self.realm.language, "emergency.chat.refused"))

    def _target(self, pseudonym: str) -> Member:
        member = self.directory.by_pseudonym(self.realm.id, pseudonym)
        if member is None:
            raise CommandProblem(i18n.text(self.realm.language, "watch.no_member", name=pseudonym))
        return member

    async def _audit(self, actor: str, action: str, target: str, detail: dict[str, object]) -> None:
        await self.audit.append(actor, action, self.realm.id, target, detail)
        self.bus.publish(ModeratorAction(realm=self.realm.id, action=action, target=target))

    async def _entry(self, command: GuideCommand) -> QueueEntry:
        raw = command.arguments["entry"].lstrip("#")
        entry = await self.desk.guides.entry(self.realm.id, int(raw)) if raw.isdigit() else None
        if entry is None:
            raise CommandProblem(i18n.text(self.realm.language, "watch.no_entry", id=raw))
        return entry

    async def _queue_command(self, guide: Member, command: GuideCommand) -> str:
        language = self.realm.language
        entry = await self._entry(command)
        status = QUEUE_STATUS[command.verb]
        await self.desk.guides.set_status(self.realm.id, entry.id, status, guide.pseudonym)
        await self._audit(guide.pseudonym, f"queue.{status}", f"#{entry.id}", {"note": command.text})
        if command.verb is Verb.ESCALATE:
            line = i18n.text(language, "watch.escalated", id=str(entry.id), guide=guide.pseudonym, reason=command.text)
            await self.post_line(queue_local(self.realm.id), None, line)
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
        if self.metrics is not None:
            for construct in entry.constructs:
                self.metrics.alert_feedback.labels(self.realm.id, construct, answer).inc()
        detail = {"constructs": list(entry.constructs), "signals": list(entry.signals), "note": command.text}
        await self._audit(guide.pseudonym, f"alert.{answer}", f"#{entry.id}", detail)
        return i18n.text(language, f"watch.feedback_{answer}", id=str(entry.id))

    async def _post_into(self, where: str, guide: Member, text: str) -> str:
        """A Wall Guide's post into the conversation this shadow room mirrors."""
        address = parse_shadow(where)
        if address is None or address.kind == "queue":
            raise CommandProblem(i18n.text(self.realm.language, "watch.post_where"))
        if address.kind == "room":
            await self.member_rooms.post_as_guide(address.room, text)
        else:
            for member_id in address.member_ids:
                member = self.directory.by_id(member_id)
                if member is not None:
                    await self.to_member(member, text)
        await self.post_line(where, guide, i18n.text(self.realm.language, "watch.posted", text=text))
        await self._audit(guide.pseudonym, "conversation.post", address.conversation, {})
        return ""

    async def _decide_held(self, guide: Member, command: GuideCommand) -> str:
        language = self.realm.language
        held = await self.store.find_message(command.arguments["message"], ("hold",))
        if held is None:
            raise CommandProblem(i18n.text(language, "watch.no_held", id=command.arguments["message"]))
        author = self.directory.by_id(held.sender_id)
        if author is None or author.realm != self.realm.id:
            raise CommandProblem(i18n.text(language, "watch.no_held", id=command.arguments["message"]))
        if command.verb is Verb.REJECT:
            await self.store.settle_held(held.stanza_id, "rejected", None)
            if self.settled is not None:
                await self.settled(held.original or "", None)
            await self._notify(author, "notice.held_rejected", reason=command.text)
            await self._audit(guide.pseudonym, "held.reject", held.stanza_id, {"reason": command.text})
            return i18n.text(language, "watch.held_rejected", id=short_id(held.stanza_id))
        key = parse_key(held.conversation)
        if key.kind is KeyKind.ROOM_PRIVATE and not self.member_rooms.is_present(key.room, held.recipient_id):
            raise CommandProblem(i18n.text(language, "watch.held_recipient_gone", id=short_id(held.stanza_id)))
        text, edited = approval(command, held.original)
        await self.store.settle_held(held.stanza_id, "approved", text)
        if self.settled is not None:  # before delivery: the recipient may fetch a shared file at once
            await self.settled(held.original or "", text)
        await self._deliver_held(held.stanza_id, held.conversation, author, held.recipient_id, held.client_id, text)
        if edited:
            await self._notify(author, "notice.held_edited", reason=command.reason or "-")
        else:
            await self._notify(author, "notice.held_approved")
        await self._audit(guide.pseudonym, "held.approve", held.stanza_id, {"edited": edited, "reason": command.reason})
        return i18n.text(language, "watch.held_approved", id=short_id(held.stanza_id))

    async def moderate_message(self, actor: str, short: str, removing: bool, text: str, reason: str) -> str:
        """Removes or edits a delivered message: in its room (XEP-0425, XEP-0308) or one-on-one chat."""
        language = self.realm.language
        found = await self.store.find_message(short, ("deliver", "redact", "approved", "edited"))
        author = self.directory.by_id(found.sender_id) if found else None
        key = parse_key(found.conversation) if found is not None else None
        if key is None or author is None or author.realm != self.realm.id or key.kind is KeyKind.ROOM_PRIVATE:
            raise CommandProblem(i18n.text(language, "watch.no_message", id=short))
        assert found is not None
        if not removing and is_reaction(found):  # a reaction's emoji are removed, never rewritten
            raise CommandProblem(i18n.text(language, "watch.reaction_not_edited", id=short))
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
            await self.store.moderate(found.stanza_id, "" if removing else text)
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
        recipient = self.directory.by_id(recipient_id) if recipient_id is not None else None
        if recipient is None or client_id is None:
            return
        realm = self.realms[author.realm]
        sender = f"{author.pseudonym}@{realm.people_domain}"
        language = realm.language
        if removing:
            fallback = i18n.text(language, "room.removed_fallback", reason="-")
            stanza = st.build_retraction(sender, recipient.account, client_id, fallback, new_stanza_id())
        else:
            stanza = st.build_message(sender, recipient.account, ChatMessage(new_stanza_id(), "chat", body=text,
                                                                             replaces=client_id))  # fmt: skip
        await self.send(realm.people_domain, stanza)

    async def _deliver_held(
        self,
        stanza_id: str,
        conversation: str,
        author: Member,
        recipient_id: int | None,
        client_id: str | None,
        text: str,
    ) -> None:
        realm, key = self.realms[author.realm], parse_key(conversation)
        if key.kind is KeyKind.DM and recipient_id is not None:
            recipient = self.directory.by_id(recipient_id)
            if recipient is not None:
                message = ChatMessage(client_id, "chat", body=text)
                sender = f"{author.pseudonym}@{realm.people_domain}"
                await self.send(realm.people_domain, st.build_message(sender, recipient.account, message))
        elif key.kind is KeyKind.ROOM:
            record = RoomRecord(0, stanza_id, author.id, author.pseudonym, client_id, text, self.clock())
            await self.member_rooms.post_record(key.room, record)
        elif key.kind is KeyKind.ROOM_PRIVATE and recipient_id is not None:
            message = ChatMessage(client_id, "chat", body=text)
            await self.member_rooms.post_private(key.room, author, recipient_id, message)

    async def _member_command(self, guide: Member, member: Member, command: GuideCommand) -> str:
        language, verb = self.realm.language, command.verb
        guides = self.desk.guides
        name = member.pseudonym
        if verb is Verb.WARN:
            await self._notify(member, "notice.warned", reason=command.text)
        elif verb is Verb.MUTE:
            until = self.clock() + parse_duration(command.arguments["duration"])
            await self.sanctions.mute(member, until, command.text, guide.pseudonym)
            await self._notify(member, "notice.muted", until=time.strftime("%H:%M UTC", time.gmtime(until)),
                               reason=command.text)  # fmt: skip
        elif verb is Verb.UNMUTE:
            await self.sanctions.unmute(member)
            await self._notify(member, "notice.unmuted")
        elif verb is Verb.SUSPEND:
            await self.store.set_status(member.realm, name, Status.SUSPENDED)
            await self.refresh_directory()
            await self._notify(member, "notice.suspended", reason=command.text)
        elif verb in (Verb.WATCH, Verb.UNWATCH):
            on = verb is Verb.WATCH
            await self.sanctions.watch(member, command.text, guide.pseudonym, on)
        elif verb is Verb.NOTE:
            await guides.add_note(member.id, guide.pseudonym, command.text)
        elif verb is Verb.ACTIVITY:  # reading a member's texts is audited too
            await self._audit(guide.pseudonym, "member.activity", name, {})
            return await self._activity(member)
        await self._audit(guide.pseudonym, f"member.{verb.value}", name, {"reason": command.text, **command.arguments})
        return i18n.text(language, f"watch.member_{verb.value}", name=name)

    async def _activity(self, member: Member) -> str:
        rows = await self.store.recent_by_member(member.id, 10)
        notes = await self.desk.guides.notes(member.id, 3)
        lines = [i18n.text(self.realm.language, "watch.activity", name=member.pseudonym)]
        for row in rows:
            when = time.strftime("%m-%d %H:%M", time.gmtime(row.created_at))
            lines.append(
                f"{when} {row.conversation} [{row.verdict}] id {short_id(row.stanza_id)}: {row.original or row.body}"
            )
        lines += [f"note {time.strftime('%m-%d', time.gmtime(at))} {by}: {text}" for at, by, text in notes]
        return "\n".join(lines)
