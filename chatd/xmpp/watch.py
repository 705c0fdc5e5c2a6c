"""The watch domain: Wall Guides' shadow rooms, the triage queue, and their commands.

Each conversation (one-on-one chat, topic room or group, Ask-a-Wall-Guide thread) has a shadow
room, `<realm>-dm-<a>-<b>`, `<realm>-room-<local>`, `<realm>-guide-<member>`, and each realm a
queue, `<realm>-queue`. Only Wall Guides and Senior Clinicians of that realm may join. Shadow
rooms are MUC rooms on the dispatcher members' rooms use too (chatd/xmpp/muc/service.py), whose
messages chatd writes: every reviewed text with its verdict and original. Guides type commands
(`!help`) in them; what a guide writes in an Ask-a-Wall-Guide shadow reaches the member from
wallguide@. What differs from members' rooms is given through the dispatcher's hooks (listed on
MucService): who may join (guides of the realm), which rooms exist (shadows of existing
conversations, made on first use; others refused), what a groupchat text does (commands, replies
to a member, talk among guides), no invitations, the service's disco and ad-hoc commands.
"""

from __future__ import annotations

import hashlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatd import i18n
from chatd.core import keys
from chatd.core.guides import (
    CommandProblem,
    GuideCommand,
    QueueEntry,
    Verb,
    due_for_reannouncement,
    is_guide_of,
    parse_guide_command,
    ranked,
)
from chatd.core.keys import KeyKind, parse_key
from chatd.core.message import ChatMessage
from chatd.core.model import Directory, Member, Realm
from chatd.core.pipeline import archive_record
from chatd.core.refusal import Refusal, Refused
from chatd.core.rooms import Room, RoomKind
from chatd.core.shadow import Reviewed, ShadowAddress, parse_shadow, queue_local, shadow_local, short_id
from chatd.desk import Desk
from chatd.guide_actions import GuideActions, PostLine
from chatd.ids import new_stanza_id
from chatd.peers import LINE
from chatd.ports import Languages
from chatd.store.rooms import RoomRecord
from chatd.xmpp import adhoc
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.service import MucService
from chatd.xmpp.ns import NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING
from chatd.xmpp.ports import MucPorts
from chatd.xmpp.rooms import RoomsDomain
from chatd.xmpp.stream import ComponentStream
from policies import Action

TAKEN_BACK_KINDS = ("retracted", "moderated")  # chatd.core.retraction

log = logging.getLogger("chatd.watch")


@dataclass(slots=True)
class ShadowRoom(Room):
    """A room whose archive is the shadow's own ("watch:<local>"), apart from any member's room."""

    @property
    def key(self) -> str:
        return str(keys.watch(self.local))


class ShadowRooms(MucService):
    """One realm's shadow rooms and queue, on the shared watch domain."""

    makes_groups = False
    searchable = False  # guides search with "!search" here: the lines of shadow rooms are not indexed
    service_name = "watch.service_name"
    service_features = (NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_MUC, NS_COMMANDS)

    def __init__(
        self,
        realm: Realm,
        domain: str,
        desk: Desk,
        rooms: RoomsDomain,
        ports: MucPorts,
        actions: Callable[[PostLine], GuideActions],
        previews: Callable[[str], list[str]] | None = None,
    ):
        super().__init__(realm, [], ports)  # ports.executor does not mirror again: guides' words are not
        self.domain = domain
        self.desk = desk
        self.member_rooms = rooms
        self.actions = actions(self._post)  # the guide actions post their answers here
        self.previews = previews  # links that show guides the files a text shares, while they wait for review

    async def load(self) -> None:
        """The shadow rooms that have lines already (so that guides find them after a restart)."""
        for conversation in await self.store.conversations_like(str(keys.watch(f"{self.realm.id}-"))):
            self.shadow(parse_key(conversation).room)

    def presence(self, realm: str, room: str, member: Member, joined: bool) -> None:
        """A presence listener: members entering and leaving a room show in its shadow."""
        if realm == self.realm.id:
            local = shadow_local(realm, str(keys.room(realm, room)))
            key = "watch.joined" if joined else "watch.left"
            line = i18n.text(self.realm.language, key, name=member.pseudonym)
            self._submit(local, lambda: self._post(local, None, line))

    # the dispatcher's hooks (MucService): guides of this realm only, shadows of existing conversations, no
    # invitations, ad-hoc commands at the service's address; groupchat texts further down

    def _admit(self, sender: tuple[str, str, str]) -> Member | Refusal:
        member = super()._admit(sender)
        if isinstance(member, Refusal):
            return member
        if not is_guide_of(member, self.realm.id):
            return Refusal("forbidden", "error.guides_only", kind="auth")
        return member

    def _room(self, local: str) -> Room | None:
        return self.shadow(local)

    def _on_service(self, stream: ComponentStream, element: ET.Element, member: Member) -> None:
        """Ad-hoc commands run in the queue room's order; the rest as on a rooms domain."""
        if self._is_adhoc(element):
            self._serve(
                stream, element, member, queue_local(self.realm.id), lambda: self._on_adhoc(stream, element, member)
            )
            return
        super()._on_service(stream, element, member)

    async def _on_invite(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, invites: list[ET.Element]
    ) -> None:
        """Nobody is invited into a shadow room: guides of the realm may simply join."""
        raise Refused(Refusal("not-allowed", "error.unavailable"))

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
            raise Refused(Refusal("item-not-found", "error.unavailable"))
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
            note = await self.actions.execute(queue_room.local, guide, command) or i18n.text(language, "watch.done")
            payload = adhoc.completed_payload(verb.value, session, note)
        except CommandProblem as problem:
            payload = adhoc.completed_payload(verb.value, session, str(problem), error=True)
        stream.send_nowait(st.build_iq_result(element, payload))

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
        directory = self.directory
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
        member = self.directory.by_id(member_id)
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
        if record.kind in TAKEN_BACK_KINDS:  # not a new text: what was taken back, and by whom
            head = i18n.text(language, f"watch.kind.{record.kind}")
        elif record.kind not in ("message", "guide"):
            head += f" · {i18n.text(language, f'watch.kind.{record.kind}')}"
        if record.recipient is not None and parse_key(record.conversation).kind is not KeyKind.DM:
            head += f" → {record.recipient.pseudonym}"
        if record.stanza_id:
            head += f" · id {short_id(record.stanza_id)}"
        lines = [f"[{head}]", record.original]
        if verdict.action is Action.REDACT:
            lines.append(i18n.text(language, "watch.delivered_as", text=verdict.text))
        if self.previews is not None:
            lines += [i18n.text(language, "watch.review_file", url=url) for url in self.previews(record.original)]
        return "\n".join(lines)

    async def _post(self, local: str, author: Member | None, body: str) -> None:
        room = self.shadow(local)
        if room is None:
            return
        stanza_id = new_stanza_id()
        sender_id = author.id if author else 0
        nick = author.pseudonym if author else self.config.watch.guide_name  # the desk writes as the guides
        at = self.clock()
        await self.store.archive(archive_record(stanza_id, room.key, sender_id, body, at))
        news = {"realm": self.realm.id, "room": local, "id": stanza_id, "sender": sender_id, "nick": nick}
        self.peers.tell(LINE, {**news, "body": body, "at": at})  # guides present on another instance's copy
        await self._show(room, RoomRecord(0, stanza_id, sender_id, nick, None, body, at))

    async def _show(self, room: Room, record: RoomRecord) -> None:
        """A line to the guides present in this instance's copy of the room (none: it waits in the archive)."""
        if room.occupants:
            await self._fanout(self.streams[self.domain], room, b"<message to=", self._message_tail(room, record))

    def show(self, news: dict[str, Any]) -> None:
        """A line another instance posted (and archived): shown here, in the room's order, if guides are here."""
        local = str(news["room"])
        record = RoomRecord(
            0, str(news["id"]), int(news["sender"]), str(news["nick"]), None, str(news["body"]), float(news["at"])
        )
        room = self.shadow(local)
        if room is not None and room.occupants:
            self._submit(local, lambda: self._show(room, record))

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

    # the groupchat hook: guides' words in shadow rooms are commands, replies to members, or talk among guides

    async def _on_groupchat(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, message: ChatMessage
    ) -> None:
        room, _ = self._joined(stream, element, member, local)
        if message.body is None:
            return
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
        member = self.directory.by_id(address.member_ids[0])
        if member is None:
            return
        await self.actions.to_member(member, text)
        record = archive_record(new_stanza_id(), address.conversation, guide.id, text, self.clock(), None, member.id)
        await self.store.archive(record)
        await self._post(room.local, guide, i18n.text(self.realm.language, "watch.sent_to_member", text=text))

    # commands

    async def _run(self, stream: ComponentStream, room: Room, guide: Member, command: GuideCommand, line: str) -> None:
        """A command's answer: to every guide in the room when it acted, to its author alone when it failed."""
        try:
            answer = await self.actions.execute(room.local, guide, command)
        except CommandProblem as problem:
            await self._tell(stream, room, guide, str(problem))
            return
        if command.verb in (Verb.HELP, Verb.ACTIVITY, Verb.SEARCH):  # members' texts: to the guide who asked
            await self._tell(stream, room, guide, answer)
        else:
            await self._post(room.local, guide, f"{line}\n→ {answer or i18n.text(self.realm.language, 'watch.done')}")

    async def reannounce(self, after: float) -> None:
        """Unclaimed high-severity entries are posted again in the queue room."""
        now = self.clock()
        due = due_for_reannouncement(await self.desk.guides.entries(self.realm.id), now, after)
        if due:
            await self.desk.guides.mark_announced([e.id for e in due], now)
            for entry in due:
                await self._post(queue_local(self.realm.id), None, self._entry_line(entry, again=True))

    async def queue_summary(self) -> list[QueueEntry]:
        return ranked(await self.desk.guides.entries(self.realm.id))


class WatchDomain:
    """Dispatches the watch domain's stanzas to the sender's (or the room's) realm."""

    def __init__(self, domain: str, realms: dict[str, ShadowRooms], directory: Directory, languages: Languages):
        self.domain = domain
        self.realms = realms
        self.directory = directory
        self.languages = languages

    def mirror(self, record: Reviewed) -> None:
        shadows = self.realms.get(record.realm)
        if shadows is not None:
            shadows.mirror(record)

    def show(self, news: dict[str, Any]) -> None:
        """A line another instance posted in one of this domain's rooms."""
        shadows = self.realms.get(str(news["realm"]))
        if shadows is not None:
            shadows.show(news)

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        target = st.split_jid(element.get("to"))
        local = target[0] if target else ""
        realm = local.split("-", 1)[0] if local else self._sender_realm(element)
        shadows = self.realms.get(realm or "")
        if shadows is None:
            refusal = Refusal("forbidden", "error.guides_only", kind="auth", bilingual=True)
            st.refuse(stream, element, refusal, self.languages.texts(refusal, None))
            return
        shadows.handle(stream, element)

    def _sender_realm(self, element: ET.Element) -> str | None:
        sender = st.split_jid(element.get("from"))
        member = self.directory.by_account(f"{sender[0]}@{sender[1]}") if sender else None
        return member.realm if member else None
