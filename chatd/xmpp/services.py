"""The people domain's service addresses: wallguide@ (commands, Ask a Wall Guide, reports, !share) and
resources@ (the resource library; a person reads what it cannot answer). A part of PeopleDomain."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

from chatd import i18n
from chatd.core import keys
from chatd.core import tags as tags_core
from chatd.core.commands import Command, parse_command
from chatd.core.crisis import CrisisFollowUp
from chatd.core.direct import conversation_key
from chatd.core.fragments import Piece
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm
from chatd.core.pipeline import TextEvent, archive_record
from chatd.core.refusal import Refusal, Refused
from chatd.core.search import Scope, Searches
from chatd.core.shadow import Reviewed
from chatd.executor import Reply
from chatd.follows import Follows, tag_labels, tags_text, topic_rooms
from chatd.ids import new_stanza_id
from chatd.ports import FileReport
from chatd.sanctions import Sanctions
from chatd.search import search_page
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import Sealer, associated_data
from chatd.xmpp import adhoc
from chatd.xmpp import stanza as st
from chatd.xmpp.ns import (
    NS_COMMANDS,
    NS_DISCO_ITEMS,
)
from chatd.xmpp.ports import Translator
from chatd.xmpp.stream import ComponentStream
from policies import Action, Conversation, Field, Verdict

log = logging.getLogger("chatd.people")

GUIDE = "wallguide"
RESOURCES = "resources"
SELFHELP = "selfhelp"  # chatd/xmpp/selfhelp.py
SERVICES = (GUIDE, RESOURCES, SELFHELP)


class ServiceAddresses(Translator):
    """wallguide@ and resources@, and the outlets for texts sent to the people domain."""

    realm: Realm
    domain: str
    sanctions: Sanctions
    crisis: CrisisFollowUp
    sealer: Sealer | None
    report: FileReport
    searches: Searches  # each member's last search, for "!search more"
    follows: Follows

    def _reply(
        self,
        stream: ComponentStream,
        element: ET.Element | None,
        member: Member,
        deliver: Callable[[str, str], Awaitable[None]] | None = None,
        retract: Callable[[Piece, str], Awaitable[None]] | None = None,
        unarchived: Callable[[], None] | None = None,
    ) -> Reply:
        """The outlets for a member's text sent to this domain: errors to the stanza, notices from wallguide@,
        and what to do when the archive failed."""

        def refuse(refusal: Refusal) -> None:
            if element is not None:  # Ask a Wall Guide is never refused (the guides read it)
                raise Refused(refusal)

        async def notice(text: str) -> None:
            await self._say(stream, member, text)

        outlets: dict[str, Any] = {"deliver": deliver, "retract": retract, "unarchived": unarchived}
        return Reply(refuse, notice, **{name: outlet for name, outlet in outlets.items() if outlet is not None})

    async def _notice(self, stream: ComponentStream, member: Member, key: str, **params: str) -> None:
        await self._say(stream, member, i18n.text(self.languages.of(member), key, **params))

    async def _say(self, stream: ComponentStream, member: Member, body: str) -> None:
        await stream.send(st.build_chat(self.realm.guide_jid, member.account, body))
        self.counters.stanzas_out += 1

    # resources@: the resource library by topic; crisis resources after a high-severity risk

    async def _to_resources(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        if not message.carries_body or message.body is None:
            return
        language = self.languages.of(member)
        library = self.resources
        topic = library.topic_of(message.body)
        if topic is not None:
            title = i18n.text(language, "resources.intro", topic=i18n.text(language, f"resources.topic.{topic}"))
            await self._from_resources(stream, member, "\n".join([title, *library.for_topic(topic, language)]))
        if self.crisis.to_guide(member.id, topic is not None, self.clock()):  # a person reads it
            await self._ask_guide(stream, member, message)
            names = ", ".join(i18n.text(language, f"resources.topic.{t}") for t in library.topics)
            body = i18n.text(language, "resources.to_guide", address=self.realm.guide_jid, topics=names)
            await self._from_resources(stream, member, body)
        else:
            self._answered(stream, member, message)

    async def _from_resources(self, stream: ComponentStream, member: Member, body: str) -> None:
        await stream.send(st.build_chat(f"{RESOURCES}@{self.domain}", member.account, body))
        self.counters.stanzas_out += 1

    # wallguide@: commands (Ask a Wall Guide threads build on this address)

    async def _to_guide(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        if not message.carries_body or message.body is None:
            return
        command = parse_command(message.body)
        if command is None or command.name == "report":  # Ask a Wall Guide (or a report quoting a message)
            await self._ask_guide(stream, member, message)
            return
        if command.name == "share":
            await self._share(stream, member, command.argument)
        elif command.name == "search":
            await self._search(stream, member, command.argument)
        else:
            key, params = await self._run_command(member, command)
            await self._notice(stream, member, key, **params)
        self._answered(stream, member, message)

    @staticmethod
    def _answered(stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        """Answered and not archived: the journal records it, so a restart does not answer it again (chatd.recovery)."""
        if stream.handled is not None and message.id:
            stream.handled(member.account, message.id)

    async def _ask_guide(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        """The text opens or continues the member's thread with the guides on duty."""
        assert message.body is not None
        event = TextEvent(
            member,
            self.realm,
            message.body,
            Field.BODY,
            Conversation.GUIDE,
            str(keys.guide(member.id)),
            "guide",
            client_id=message.id,
        )
        await self.executor.submit(event, self._reply(stream, None, member))

    async def _share(self, stream: ComponentStream, member: Member, details: str) -> None:
        """ "!share <details>": contact details for the guides, sealed at once; only a Senior Clinician opens them."""
        if self.sealer is None or not details:
            await self._notice(
                stream, member, "notice.share_unavailable" if self.sealer is None else "notice.share_how"
            )
            return
        now = self.clock()
        sealed = self.sealer.seal({"shared": details}, associated_data(member.realm, member.pseudonym, "shared"))
        await RegistrationStore(self.store.db).add_shared(
            member.id, member.realm, member.pseudonym, self.realm.language, sealed, now
        )
        line = i18n.text(self.realm.language, "watch.shared", name=member.pseudonym)
        stanza_id, conversation = new_stanza_id(), str(keys.guide(member.id))
        await self.store.archive(archive_record(stanza_id, conversation, member.id, line, now))
        verdict = Verdict(Action.DELIVER, line)
        self.reviewed(Reviewed(self.realm.id, conversation, "guide", member, None, line, verdict, stanza_id, now))
        await self._notice(stream, member, "notice.shared")

    async def _search(self, stream: ComponentStream, member: Member, words: str) -> None:
        """ "!search WORDS" (then "!search more"): texts the member may read, newest first, as they saw them."""
        scope = Scope(self.realm.id, member.id)
        language, guide_name = self.languages.of(member), self.config.watch.guide_name
        page = await search_page(self.store.search, self.searches, member.id, words, scope, self.directory,
                                 language, guide_name)  # fmt: skip
        await self._say(stream, member, page.text)

    async def _run_command(self, member: Member, command: Command) -> tuple[str, dict[str, str]]:
        if command.name == "unknown":
            return "command.unknown", {"name": command.argument}
        if command.name == "help":
            return "command.help", {"encryption": i18n.text(self.languages.of(member), "help.encryption")}
        if command.name == "rooms":
            return self._rooms_directory(member, command.argument)
        if command.name in ("follow", "unfollow", "following"):
            return await self.follows.command(member, command)
        if command.name == "blocks":
            names = [m.pseudonym for m in self.directory.blocked_by(member)]
            return ("command.blocks_list", {"names": ", ".join(names)}) if names else ("command.blocks_none", {})
        if not command.argument:
            return "command.needs_name", {}
        other = self.directory.by_pseudonym(self.realm.id, command.argument)
        if other is None or other.id == member.id:
            return "error.unknown_pseudonym", {"name": command.argument}
        blocking = command.name == "block"
        if not blocking and not self.directory.has_blocked(member, other):
            return "command.not_blocked", {"name": other.pseudonym}
        await self.sanctions.block(member, other, blocking)
        return ("command.blocked" if blocking else "command.unblocked"), {"name": other.pseudonym}

    def _rooms_directory(self, member: Member, query: str) -> tuple[str, dict[str, str]]:
        """ "!rooms [tag or words]": the realm's topic rooms (never private groups) the words find, with join links."""
        language = self.languages.of(member)
        listed = topic_rooms(self.config, self.realm.id)
        tags = tags_text(language, listed)
        found = tags_core.matching(listed, query, tag_labels(listed))
        if not found:
            return "command.rooms_none", {"query": query, "tags": tags}
        lines = []
        for room in found:
            names = ", ".join(i18n.tag_name(language, t) for t in room.tags)
            about = f" — {room.description}" if room.description else ""
            shown = f" ({names})" if names else ""
            lines.append(f"• {room.name}{about}{shown}: xmpp:{room.local}@{self.realm.rooms_domain}?join")
        if not tags_core.query_words(query):
            return "command.rooms_all", {"rooms": "\n".join(lines), "tags": tags}
        return "command.rooms_found", {"query": query, "rooms": "\n".join(lines)}

    def _report_command(self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element) -> bool:
        """XEP-0050 on wallguide@: the "report" command (whom, why). True when the iq was about commands."""
        language = self.realm.language
        if query.tag == f"{{{NS_DISCO_ITEMS}}}query" and query.get("node") == NS_COMMANDS:
            name = i18n.text(language, "adhoc.report")
            stream.send_nowait(
                st.build_iq_result(element, adhoc.command_items(self.realm.guide_jid, [("report", name)]))
            )
            return True
        if query.tag != f"{{{NS_COMMANDS}}}command":
            return False
        values = adhoc.submitted(query)
        if values is None:
            fields = [
                ("who", i18n.text(language, "adhoc.report_who"), True),
                ("reason", i18n.text(language, "adhoc.report_reason"), False),
            ]
            form = adhoc.form_payload("report", i18n.text(language, "adhoc.report"), fields)
            stream.send_nowait(st.build_iq_result(element, form))
            return True
        self.queues.submit(member.account, lambda: self._report_by_form(stream, element, member, query, values))
        return True

    async def _report_by_form(
        self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element, values: dict[str, str]
    ) -> None:
        language = self.realm.language
        target = self.directory.by_pseudonym(self.realm.id, values.get("who", "").lower())
        session = query.get("sessionid", "")
        if target is None:
            note = i18n.text(language, "error.unknown_pseudonym", name=values.get("who", ""))
            stream.send_nowait(st.build_iq_result(element, adhoc.completed_payload("report", session, note, True)))
            return
        reported = await self.store.latest_between(target.id, member.id)
        await self.report(member, conversation_key(member, target), reported, values.get("reason", ""))
        note = i18n.text(language, "notice.report_received")
        stream.send_nowait(st.build_iq_result(element, adhoc.completed_payload("report", session, note)))
