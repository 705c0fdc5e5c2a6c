"""A realm's people domain: pseudonym JIDs, one-on-one relay, the wallguide@ address."""

from __future__ import annotations

import logging
import secrets
import time
import xml.etree.ElementTree as ET

from chatd import failpoints, i18n
from chatd.core.commands import Command, parse_command, report_reason
from chatd.core.direct import admit, conversation_key, find_recipient
from chatd.core.fragments import Completion, Piece
from chatd.core.message import ChatMessage, check_message
from chatd.core.model import Member, Realm
from chatd.core.refusal import Refusal
from chatd.core.shadow import Reviewed
from chatd.notices import pieces_params, redaction_params, rejection
from chatd.runtime import Runtime
from chatd.store import ArchivedMessage, StoreError
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import associated_data
from chatd.xmpp import adhoc
from chatd.xmpp import stanza as st
from chatd.xmpp.stream import ComponentStream
from policies import Action, Conversation, Field, Verdict

log = logging.getLogger("chatd.people")

GUIDE = "wallguide"
RESOURCES = "resources"
THREAD_QUIET_SECONDS = 1800  # a guide thread quiet this long gets the "a guide will answer" note again
SERVICES = (GUIDE, RESOURCES)
PSEUDONYM_FEATURES = [
    st.NS_DISCO_INFO,
    st.NS_CHATSTATES,
    st.NS_RECEIPTS,
    st.NS_CORRECT,
    st.NS_MARKERS,
    st.NS_PING,
]


def muted_refusal(rt: Runtime, member: Member) -> Refusal | None:
    """A muted member's texts are refused until the mute ends."""
    until = rt.muted_until(member)
    if until is None:
        return None
    return Refusal(
        "policy-violation", "error.muted", kind="wait", params={"until": time.strftime("%H:%M UTC", time.gmtime(until))}
    )


def new_stanza_id() -> str:
    return f"{time.time_ns():x}-{secrets.token_hex(4)}"


class PeopleDomain:
    def __init__(self, runtime: Runtime, realm: Realm):
        self.rt = runtime
        self.realm = realm
        self.domain = realm.people_domain

    # entry point: one raw stanza, in arrival order, synchronous

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        rt = self.rt
        rt.counters.stanzas_in += 1
        kind = st.local_name(element.tag)
        sender = st.split_jid(element.get("from"))
        target = st.split_jid(element.get("to"))
        if sender is None or element.get("type") == "error":
            rt.counters.dropped += 1
            return
        if target is None or target[1] != self.domain:
            self._refuse(stream, element, Refusal("jid-malformed", "error.malformed", kind="modify"), None)
            return
        account = f"{sender[0]}@{sender[1]}"
        member_or_refusal = (
            admit(account, self.realm, rt.directory)
            if sender[1] == rt.config.server.members_host and sender[0]
            else Refusal("forbidden", "error.not_member", kind="auth", bilingual=True)
        )
        if isinstance(member_or_refusal, Refusal):
            if kind != "presence" or element.get("type") in ("subscribe", "probe"):
                self._refuse(stream, element, member_or_refusal, None)
            return
        member = member_or_refusal
        if st.size(element) > rt.config.limits.max_stanza_bytes:
            self._refuse(stream, element, Refusal("policy-violation", "error.too_large", kind="modify"), member)
            return
        if kind == "message":
            self._on_message(stream, element, member, target[0])
        elif kind == "iq":
            self._on_iq(stream, element, member, target[0])
        elif kind == "presence":
            self._on_presence(stream, element, target[0])

    # messages

    def _on_message(self, stream: ComponentStream, element: ET.Element, member: Member, local: str) -> None:
        rt = self.rt
        if not rt.limiter.allow(member.account, time.monotonic()):
            self._refuse(stream, element, Refusal("policy-violation", "error.too_fast", kind="wait"), member)
            return
        message = st.parse_message(element)
        refusal = check_message(message, rt.config.limits.max_body_chars)
        if refusal is None and not local:
            refusal = Refusal("service-unavailable", "error.unavailable")
        if refusal is not None:
            self._refuse(stream, element, refusal, member)
            return
        if rt.is_resend(member.account, st.origin_id(element), message.id, message.body):
            return  # the first copy was archived and delivered; the server acknowledged this one
        if local == GUIDE:
            rt.queues.submit(member.account, lambda: self._to_guide(stream, member, message))
        elif local == RESOURCES:
            rt.queues.submit(member.account, lambda: self._to_resources(stream, member, message))
        else:
            rt.queues.submit(member.account, lambda: self._relay(stream, element, member, local, message))

    async def _relay(
        self, stream: ComponentStream, element: ET.Element, sender: Member, pseudonym: str, message: ChatMessage
    ) -> None:
        rt = self.rt
        recipient = find_recipient(sender, self.realm, pseudonym, rt.directory)
        if isinstance(recipient, Refusal):
            self._refuse(stream, element, recipient, sender)
            return
        verdict: Verdict | None = None
        pieces: Completion | None = None
        stanza_id: str | None = None  # the archive's id: the server's confirmation marks it sent
        reason = report_reason(message.body) if message.body is not None else None
        if reason is not None:
            await self._report(stream, sender, conversation_key(sender, recipient), message.reply_to, reason)
            return
        if message.body is not None:
            muted = muted_refusal(rt, sender)
            if muted is not None:
                self._refuse(stream, element, muted, sender)
                return
            verdict = await rt.moderate(
                message.body,
                sender,
                self.realm,
                Field.CORRECTION if message.replaces else Field.BODY,
                Conversation.DIRECT,
                recent_messages=rt.limiter.recent(sender.account, time.monotonic()),
                watched=sender.id in rt.watched,
            )
            stanza_id = new_stanza_id()
            conversation = conversation_key(sender, recipient)
            if verdict.delivers and not message.replaces:
                piece = Piece(stanza_id, message.id, verdict.text, rt.now())
                pieces = rt.join_pieces(conversation, sender, Conversation.DIRECT, piece, verdict)
                verdict = pieces.verdict if pieces else verdict
            try:
                await self._archive(stanza_id, sender, recipient, message, verdict)
            except StoreError:
                log.error("archive failed; a message was not delivered")
                rt.release_resend(sender.account, st.origin_id(element), message.id, message.body)
                self._refuse(
                    stream, element, Refusal("internal-server-error", "error.not_delivered", kind="wait"), sender
                )
                return
            kind = "correction" if message.replaces else "message"
            rt.reviewed(
                Reviewed(
                    self.realm.id, conversation, kind, sender, recipient, message.body, verdict, stanza_id, rt.now()
                )
            )
            if verdict.action is Action.REJECT:
                self._refuse(stream, element, rejection(verdict, self.rt.language_of(sender)), sender)
                return
            if verdict.action is Action.HOLD:
                await self._notice(stream, sender, "notice.held", target=pseudonym)
                return
            message = message.with_body(verdict.text)
        failpoints.hit("before_send")
        await stream.send(st.build_message(f"{sender.pseudonym}@{self.domain}", recipient.account, message), stanza_id)
        rt.counters.stanzas_out += 1
        rt.counters.delivered += 1
        if pieces is not None:
            await self._take_back_pieces(stream, sender, recipient, stanza_id, pieces)
        if verdict is not None and verdict.action is Action.REDACT:
            await self._notice_redacted(stream, sender, pseudonym, verdict)

    async def _take_back_pieces(
        self, stream: ComponentStream, sender: Member, recipient: Member, stanza_id: str, pieces: Completion
    ) -> None:
        """The earlier pieces are retracted (XEP-0424; the archive keeps them for the guides), the author is told
        why, and the guides see the pieces joined."""
        rt = self.rt
        language = rt.language_of(sender)
        fallback = i18n.text(language, "notice.pieces_fallback")
        for piece in pieces.earlier:
            await rt.store.moderate(piece.stanza_id, "")
            if piece.client_id is not None:
                sent_as = f"{sender.pseudonym}@{self.domain}"
                await stream.send(
                    st.build_retraction(sent_as, recipient.account, piece.client_id, fallback, new_stanza_id())
                )
        conversation = conversation_key(sender, recipient)
        joined = Reviewed(
            self.realm.id, conversation, "pieces", sender, recipient, pieces.joined, pieces.joined_verdict,
            stanza_id, rt.now(),
        )  # fmt: skip
        rt.reviewed(joined)
        await self._notice(stream, sender, "notice.pieces_removed", target=recipient.pseudonym,
                           **pieces_params(pieces, language))  # fmt: skip

    async def _archive(
        self, stanza_id: str, sender: Member, recipient: Member, message: ChatMessage, verdict: Verdict
    ) -> None:
        delivered = verdict.text if verdict.delivers else None
        await self.rt.store.archive(
            ArchivedMessage(
                stanza_id=stanza_id,
                conversation=conversation_key(sender, recipient),
                sender_id=sender.id,
                recipient_id=recipient.id,
                client_id=message.id,
                body=delivered,
                original=message.body if delivered != message.body else None,
                verdict=verdict.action.value,
                findings=[f.as_dict() for f in verdict.findings],
                created_at=self.rt.now(),
                unsent=verdict.delivers,
            )
        )

    async def _notice_redacted(self, stream: ComponentStream, member: Member, target: str, verdict: Verdict) -> None:
        params = redaction_params(verdict, self.rt.language_of(member))
        await self._notice(stream, member, "notice.redacted", target=target, **params)

    async def _notice(self, stream: ComponentStream, member: Member, key: str, **params: str) -> None:
        body = i18n.text(self.rt.language_of(member), key, **params)
        await stream.send(st.build_chat(self.realm.guide_jid, member.account, body))
        self.rt.counters.stanzas_out += 1

    # resources@: the resource library by topic; crisis resources after a high-severity risk

    async def _to_resources(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        if message.body is None:
            return
        language = self.rt.language_of(member)
        library = self.rt.resources
        topic = library.topic_of(message.body)
        if topic is not None:
            title = i18n.text(language, "resources.intro", topic=i18n.text(language, f"resources.topic.{topic}"))
            await self._from_resources(stream, member, "\n".join([title, *library.for_topic(topic, language)]))
        if self.rt.crisis.to_guide(member.id, topic is not None, self.rt.now()):  # a person reads it
            await self._ask_guide(stream, member, message.body, message.id)
            names = ", ".join(i18n.text(language, f"resources.topic.{t}") for t in library.topics)
            body = i18n.text(language, "resources.to_guide", address=self.realm.guide_jid, topics=names)
            await self._from_resources(stream, member, body)

    async def _from_resources(self, stream: ComponentStream, member: Member, body: str) -> None:
        await stream.send(st.build_chat(f"{RESOURCES}@{self.domain}", member.account, body))
        self.rt.counters.stanzas_out += 1

    # wallguide@: commands (Ask a Wall Guide threads build on this address)

    async def _to_guide(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        if message.body is None:
            return
        own_line = next((line for line in message.body.splitlines() if not line.startswith(">")), "")
        reason = report_reason(own_line)
        if reason is not None:
            await self._report_quoted(stream, member, message.body, reason)
            return
        command = parse_command(message.body)
        if command is None:
            await self._ask_guide(stream, member, message.body, message.id)
            return
        if command.name == "share":
            await self._share(stream, member, command.argument)
            return
        await self._reply(stream, member, *await self._run_command(member, command))

    async def _ask_guide(self, stream: ComponentStream, member: Member, text: str, client_id: str | None) -> None:
        """Ask a Wall Guide: the text opens or continues the member's thread with the guides on duty."""
        rt = self.rt
        conversation = f"guide:{member.id}"
        earlier = await rt.store.conversation(conversation, limit=1)
        verdict = await rt.moderate(
            text, member, self.realm, Field.BODY, Conversation.GUIDE, watched=member.id in rt.watched
        )
        stanza_id = new_stanza_id()
        findings = [f.as_dict() for f in verdict.findings]
        await rt.store.archive(
            ArchivedMessage(
                stanza_id,
                conversation,
                member.id,
                None,
                client_id,
                text,
                None,
                verdict.action.value,
                findings,
                rt.now(),
            )
        )
        rt.reviewed(Reviewed(self.realm.id, conversation, "guide", member, None, text, verdict, stanza_id, rt.now()))
        if not earlier or rt.now() - earlier[-1].created_at > THREAD_QUIET_SECONDS:
            await self._notice(stream, member, "notice.guide_received")

    async def _share(self, stream: ComponentStream, member: Member, details: str) -> None:
        """ "!share <details>": contact details for the guides, sealed at once; only a Senior Clinician opens them."""
        rt = self.rt
        if rt.sealer is None or not details:
            await self._notice(stream, member, "notice.share_unavailable" if rt.sealer is None else "notice.share_how")
            return
        now = rt.now()
        sealed = rt.sealer.seal({"shared": details}, associated_data(member.realm, member.pseudonym, "shared"))
        await RegistrationStore(rt.store.db).add_shared(
            member.id, member.realm, member.pseudonym, self.realm.language, sealed, now
        )
        line = i18n.text(self.realm.language, "watch.shared", name=member.pseudonym)
        verdict = Verdict(Action.DELIVER, line)
        stanza_id = new_stanza_id()
        conversation = f"guide:{member.id}"
        await rt.store.archive(
            ArchivedMessage(stanza_id, conversation, member.id, None, None, line, None, "deliver", [], now)
        )
        rt.reviewed(Reviewed(self.realm.id, conversation, "guide", member, None, line, verdict, stanza_id, now))
        await self._notice(stream, member, "notice.shared")

    async def _report(
        self, stream: ComponentStream, reporter: Member, conversation: str, reply_id: str | None, reason: str
    ) -> None:
        """A report (a reply with "!report <reason>") goes to the Wall Guides only; the reporter is thanked."""
        reported = await self.rt.store.reported_message(conversation, reply_id) if reply_id else None
        if self.rt.file_report is not None:
            await self.rt.file_report(reporter, conversation, reported, reason)
        await self._notice(stream, reporter, "notice.report_received")

    async def _report_quoted(self, stream: ComponentStream, reporter: Member, text: str, reason: str) -> None:
        """ "!report" to wallguide@ quoting a message ("> ..." lines) that the member received."""
        quote = " ".join(line[1:].strip() for line in text.splitlines() if line.startswith(">")).strip()
        reported = await self.rt.store.quoted_message(reporter.id, quote[:80]) if quote else None
        conversation = reported.conversation if reported else f"guide:{reporter.id}"
        if self.rt.file_report is not None:
            await self.rt.file_report(reporter, conversation, reported, reason)
        await self._notice(stream, reporter, "notice.report_received")

    async def _run_command(self, member: Member, command: Command) -> tuple[str, dict[str, str]]:
        rt = self.rt
        if command.name == "unknown":
            return "command.unknown", {"name": command.argument}
        if command.name == "help":
            return "command.help", {}
        if command.name == "blocks":
            names = [m.pseudonym for m in rt.directory.blocked_by(member)]
            return ("command.blocks_list", {"names": ", ".join(names)}) if names else ("command.blocks_none", {})
        if not command.argument:
            return "command.needs_name", {}
        other = rt.directory.by_pseudonym(self.realm.id, command.argument)
        if other is None or other.id == member.id:
            return "error.unknown_pseudonym", {"name": command.argument}
        blocking = command.name == "block"
        if not blocking and not rt.directory.has_blocked(member, other):
            return "command.not_blocked", {"name": other.pseudonym}
        await rt.store.set_block(member.id, other.id, blocking)
        rt.directory.set_block(member, other, blocking)
        return ("command.blocked" if blocking else "command.unblocked"), {"name": other.pseudonym}

    async def _reply(self, stream: ComponentStream, member: Member, key: str, params: dict[str, str]) -> None:
        await self._notice(stream, member, key, **params)

    # iq: disco and ping

    def _on_iq(self, stream: ComponentStream, element: ET.Element, member: Member, local: str) -> None:
        if element.get("type") not in ("get", "set"):
            return
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        exists = not local or local in SERVICES or self._pseudonym_exists(local)
        if not exists:
            self._refuse(
                stream, element, Refusal("item-not-found", "error.unknown_pseudonym", params={"name": local}), member
            )
            return
        if local == GUIDE and query is not None and self._report_command(stream, element, member, query):
            return
        if element.get("type") == "get" and ns == st.NS_PING:
            reply = st.build_iq_result(element)
        elif element.get("type") == "get" and ns == st.NS_DISCO_INFO and query is not None and not query.get("node"):
            reply = st.build_iq_result(element, self._disco_info(local))
        elif element.get("type") == "get" and ns == st.NS_DISCO_ITEMS and not local:
            reply = st.build_iq_result(
                element,
                st.disco_items(
                    [
                        (self.realm.guide_jid, self.rt.config.watch.guide_name),
                        (f"{RESOURCES}@{self.domain}", "Resources"),
                        (self.realm.rooms_domain, "Rooms"),
                    ]
                ),
            )
        elif element.get("type") == "get" and ns == st.NS_DISCO_ITEMS:
            reply = st.build_iq_result(element, st.disco_items([]))
        else:
            self._refuse(stream, element, Refusal("service-unavailable", "error.unavailable"), member)
            return
        stream.send_nowait(reply)

    def _report_command(self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element) -> bool:
        """XEP-0050 on wallguide@: the "report" command (whom, why). True when the iq was about commands."""
        language = self.realm.language
        if query.tag == f"{{{st.NS_DISCO_ITEMS}}}query" and query.get("node") == adhoc.NS_COMMANDS:
            name = i18n.text(language, "adhoc.report")
            stream.send_nowait(
                st.build_iq_result(element, adhoc.command_items(self.realm.guide_jid, [("report", name)]))
            )
            return True
        if query.tag != f"{{{adhoc.NS_COMMANDS}}}command":
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
        self.rt.queues.submit(member.account, lambda: self._report_by_form(stream, element, member, query, values))
        return True

    async def _report_by_form(
        self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element, values: dict[str, str]
    ) -> None:
        language = self.realm.language
        target = self.rt.directory.by_pseudonym(self.realm.id, values.get("who", "").lower())
        session = query.get("sessionid", "")
        if target is None:
            note = i18n.text(language, "error.unknown_pseudonym", name=values.get("who", ""))
            stream.send_nowait(st.build_iq_result(element, adhoc.completed_payload("report", session, note, True)))
            return
        reported = await self.rt.store.latest_between(target.id, member.id)
        if self.rt.file_report is not None:
            await self.rt.file_report(member, conversation_key(member, target), reported, values.get("reason", ""))
        note = i18n.text(language, "notice.report_received")
        stream.send_nowait(st.build_iq_result(element, adhoc.completed_payload("report", session, note)))

    def _pseudonym_exists(self, local: str) -> bool:
        found = self.rt.directory.by_pseudonym(self.realm.id, local)
        return found is not None and found.active

    def _disco_info(self, local: str) -> str:
        language = self.realm.language
        if not local:
            name = i18n.text(language, "service.name")
            return st.disco_info([("component", "generic", name)], [st.NS_DISCO_INFO, st.NS_DISCO_ITEMS, st.NS_PING])
        if local == GUIDE:
            guide = self.rt.config.watch.guide_name
            return st.disco_info([("client", "bot", guide)], [*PSEUDONYM_FEATURES, adhoc.NS_COMMANDS])
        if local == RESOURCES:
            return st.disco_info([("client", "bot", "Resources")], PSEUDONYM_FEATURES)
        return st.disco_info([("account", "registered", local)], PSEUDONYM_FEATURES)

    # presence: subscriptions to pseudonyms are approved; presence is never relayed

    def _on_presence(self, stream: ComponentStream, element: ET.Element, local: str) -> None:
        if element.get("type") != "subscribe" or not local:
            return
        if local not in SERVICES and not self._pseudonym_exists(local):
            return
        requester = st.split_jid(element.get("from"))
        if requester is not None:
            stream.send_nowait(
                st.build_presence(f"{local}@{self.domain}", f"{requester[0]}@{requester[1]}", "subscribed")
            )

    # errors

    def _refuse(self, stream: ComponentStream, element: ET.Element, refusal: Refusal, member: Member | None) -> None:
        self.rt.counters.refused += 1
        reply = st.build_error(element, refusal.condition, refusal.kind, self.rt.texts(refusal, member))
        if reply is not None:
            stream.send_nowait(reply)
