"""A realm's people domain: pseudonym JIDs, one-on-one relay, the wallguide@ address."""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import replace

from chatd import failpoints, i18n
from chatd.core.crisis import CrisisFollowUp
from chatd.core.direct import admit_sender, conversation_key, find_recipient
from chatd.core.fragments import Piece
from chatd.core.message import ChatMessage, check_message, quote_end_after
from chatd.core.model import Member, Realm, Role
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal, Refused, allowed, answered, checked
from chatd.core.search import Searches
from chatd.follows import Follows
from chatd.ids import new_stanza_id
from chatd.ports import FileReport
from chatd.sanctions import Sanctions
from chatd.vault.seal import Sealer
from chatd.xmpp import discovery
from chatd.xmpp import stanza as st
from chatd.xmpp.direct_refs import DirectReferences
from chatd.xmpp.ns import (
    NS_CHATSTATES,
    NS_COMMANDS,
    NS_CORRECT,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_MARKERS,
    NS_PING,
    NS_RECEIPTS,
)
from chatd.xmpp.ports import DomainPorts
from chatd.xmpp.selfhelp import SelfHelpBot
from chatd.xmpp.services import GUIDE, RESOURCES, SELFHELP, SERVICES, ServiceAddresses
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field

log = logging.getLogger("chatd.people")

PSEUDONYM_FEATURES = [
    NS_DISCO_INFO,
    NS_CHATSTATES,
    NS_RECEIPTS,
    NS_CORRECT,
    NS_MARKERS,
    NS_PING,
]


class PeopleDomain(ServiceAddresses):
    def __init__(
        self,
        realm: Realm,
        ports: DomainPorts,
        *,
        sanctions: Sanctions,
        crisis: CrisisFollowUp,
        sealer: Sealer | None,
        report: FileReport,
        new_member: Callable[[Member], Awaitable[None]],
        follows: Follows,
        selfhelp: SelfHelpBot | None = None,
    ):
        super().__init__(ports)
        self.realm = realm
        self.domain = realm.people_domain
        self.sanctions = sanctions
        self.crisis = crisis
        self.sealer = sealer
        self.report = report
        self.new_member = new_member
        self.searches = Searches()
        self.follows = follows
        self.selfhelp = selfhelp
        self.references = DirectReferences(realm, self.executor, self.store, self.counters)

    # entry point: one raw stanza, in arrival order, synchronous

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        self.counters.stanzas_in += 1
        kind, sender, target = st.addresses(element)
        if sender is None or element.get("type") == "error":
            self.counters.dropped += 1
            return
        if target is None or target[1] != self.domain:
            self._refuse(stream, element, Refusal("jid-malformed", "error.malformed", kind="modify"), None)
            return
        if discovery.is_services_request(element, self.config.server.members_host):
            uploads = self.config.uploads.domain if self.config.uploads else ""
            answer = discovery.services_answer(element, self.realm, self.directory, self.config.watch.domain, uploads)
            stream.send_nowait(answer)
            self._welcome_on_login(stream, element)
            return
        member = admit_sender(sender, self.config.server.members_host, self.realm, self.directory)
        if isinstance(member, Refusal):
            if kind != "presence" or element.get("type") in ("subscribe", "probe"):
                self._refuse(stream, element, member, None)
            return
        try:
            self._dispatch(stream, element, member, kind, target[0])
        except Refused as refused:
            self._refuse(stream, element, refused.refusal, member)

    def _dispatch(self, stream: ComponentStream, element: ET.Element, member: Member, kind: str, local: str) -> None:
        """An admitted member's stanza to what serves it (a refusal raised there answers it)."""
        self.follows.seen(member)  # a digest that waited has reached the member
        if st.size(element) > self.config.limits.max_stanza_bytes:
            raise Refused(Refusal("policy-violation", "error.too_large", kind="modify"))
        if kind == "message":
            self._on_message(stream, element, member, local)
        elif kind == "iq":
            self._on_iq(stream, element, member, local)
        elif kind == "presence":
            self._on_presence(stream, element, local)

    def _serve(
        self, stream: ComponentStream, element: ET.Element, member: Member, job: Callable[[], Awaitable[None]]
    ) -> None:
        """A stanza's work in the sender's queue (in arrival order): a Refused raised there answers the stanza."""
        job = answered(job, lambda refusal: self._refuse(stream, element, refusal, member))
        self.queues.submit(member.account, job)

    # messages

    def _on_message(self, stream: ComponentStream, element: ET.Element, member: Member, local: str) -> None:
        if not self.limiter.allow(member.account, time.monotonic()):
            raise Refused(Refusal("policy-violation", "error.too_fast", kind="wait"))
        message = st.parse_message(element)
        checked(check_message(message, self.config.limits.max_body_chars))
        if not local:
            raise Refused(Refusal("service-unavailable", "error.unavailable"))
        if self.resent.seen(member.account, st.origin_id(element), message.id, message.body):
            return  # the first copy was archived and delivered; the server acknowledged this one
        if local == GUIDE:
            self._serve(stream, element, member, lambda: self._to_guide(stream, member, message))
        elif local == RESOURCES:
            self._serve(stream, element, member, lambda: self._to_resources(stream, member, message))
        elif local == SELFHELP and self.selfhelp is not None:
            bot = self.selfhelp
            self._serve(stream, element, member, lambda: bot.handle(stream, member, message))
        else:
            self._serve(stream, element, member, lambda: self._relay(stream, element, member, local, message))

    async def _relay(
        self, stream: ComponentStream, element: ET.Element, sender: Member, pseudonym: str, message: ChatMessage
    ) -> None:
        recipient = allowed(find_recipient(sender, self.realm, pseudonym, self.directory))

        async def send(delivered: ChatMessage, stanza_id: str | None = None) -> None:
            # with the archive's id, the server's confirmation marks the archived copy sent (chatd.recovery)
            failpoints.hit("before_send")
            built = st.build_message(f"{sender.pseudonym}@{self.domain}", recipient.account, delivered)
            await stream.send(built, stanza_id)
            self.counters.stanzas_out += 1
            self.counters.delivered += 1

        async def deliver(text: str, stanza_id: str) -> None:
            if text == message.body:  # as written (most texts): the message as it came
                await send(message, stanza_id)
                return
            quote_end = quote_end_after(message.body or "", message.quote_end, text)
            await send(replace(message, body=text, quote_end=quote_end), stanza_id)

        async def retract(piece: Piece, fallback: str) -> None:  # XEP-0424, from the author's pseudonym
            if piece.client_id is not None:
                sent_as = f"{sender.pseudonym}@{self.domain}"
                retraction = st.build_retraction(sent_as, recipient.account, piece.client_id, fallback, new_stanza_id())
                await stream.send(retraction)

        conversation, refs = conversation_key(sender, recipient), self.references
        if message.retracts is not None:
            await refs.retract(stream, sender, recipient, conversation, message)
            return
        if message.is_reaction:
            react = self._reply(stream, element, sender, lambda text, _: send(replace(message, body=None)))
            await refs.react(sender, recipient, conversation, message, react)
            return
        room = st.split_jid(message.invites_to) if message.invites_to is not None else None
        if message.invites_to is not None and (room is None or room[1] != self.realm.rooms_domain):
            raise Refused(Refusal("item-not-found", "error.room_not_found", params={"name": message.invites_to}))
        if message.body is None:  # chat states, receipts, markers, direct invitations: passed on, not reviewed
            await send(message)
            return
        body, message = message.body, await refs.with_reply(sender, recipient, conversation, message)
        event = TextEvent(
            sender,
            self.realm,
            body,
            Field.CORRECTION if message.replaces else Field.BODY,
            Conversation.DIRECT,
            conversation,
            "correction" if message.replaces else "message",
            recipient=recipient,
            client_id=message.id,
            target=pseudonym,
            reply_to=message.reply_to,
            quote_end=message.quote_end,
        )
        reply = self._reply(stream, element, sender, deliver, retract, self._release(element, sender, message))
        await self.executor.submit(event, reply)

    def _release(self, element: ET.Element, member: Member, message: ChatMessage) -> Callable[[], None]:
        """When the archive fails, the text was not accepted: the client may send it again."""
        return lambda: self.resent.release(member.account, st.origin_id(element), message.id, message.body)

    # iq: disco and ping

    def _on_iq(self, stream: ComponentStream, element: ET.Element, member: Member, local: str) -> None:
        if element.get("type") not in ("get", "set"):
            return
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        exists = not local or local in SERVICES or self._pseudonym_exists(local)
        if not exists:
            raise Refused(Refusal("item-not-found", "error.unknown_pseudonym", params={"name": local}))
        if local == GUIDE and query is not None and self._report_command(stream, element, member, query):
            return
        if local == SELFHELP and self.selfhelp is not None and query is not None:
            job = self.selfhelp.on_command(stream, element, member, query)
            if job is not None:
                self._serve(stream, element, member, job)
                return
        if local and discovery.is_profile_request(query):
            raise Refused(discovery.NOTHING_PUBLISHED)
        if element.get("type") == "get" and ns == NS_PING:
            reply = st.build_iq_result(element)
        elif element.get("type") == "get" and ns == NS_DISCO_INFO and query is not None and not query.get("node"):
            reply = st.build_iq_result(element, self._disco_info(local))
        elif element.get("type") == "get" and ns == NS_DISCO_ITEMS and not local:
            reply = st.build_iq_result(
                element,
                st.disco_items(
                    [
                        (self.realm.guide_jid, self.config.watch.guide_name),
                        (f"{RESOURCES}@{self.domain}", "Resources"),
                        (f"{SELFHELP}@{self.domain}", i18n.text(self.realm.language, "selfhelp.name")),
                        (self.realm.rooms_domain, "Rooms"),
                    ]
                ),
            )
        elif element.get("type") == "get" and ns == NS_DISCO_ITEMS:
            reply = st.build_iq_result(element, st.disco_items([]))
        else:
            raise Refused(Refusal("service-unavailable", "error.unavailable"))
        stream.send_nowait(reply)

    def _pseudonym_exists(self, local: str) -> bool:
        found = self.directory.by_pseudonym(self.realm.id, local)
        return found is not None and found.active

    def _disco_info(self, local: str) -> str:
        language = self.realm.language
        if not local:
            name = i18n.text(language, "service.name")
            return st.disco_info([("component", "generic", name)], [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING])
        if local == GUIDE:
            guide = self.config.watch.guide_name
            return st.disco_info([("client", "bot", guide)], [*PSEUDONYM_FEATURES, NS_COMMANDS])
        if local == RESOURCES:
            return st.disco_info([("client", "bot", "Resources")], PSEUDONYM_FEATURES)
        if local == SELFHELP:
            name = i18n.text(language, "selfhelp.name")
            return st.disco_info([("client", "bot", name)], [*PSEUDONYM_FEATURES, NS_COMMANDS])
        return st.disco_info([("account", "registered", local)], PSEUDONYM_FEATURES)

    # the welcome: a session's first service discovery (every client asks the server for its services at
    # login; Prosody asks each realm, mod_chatd_disco) is the member's login as chatd sees it

    def _welcome_on_login(self, stream: ComponentStream, element: ET.Element) -> None:
        query = st.payload(element)
        member = self.directory.by_account(query.get("account", "")) if query is not None else None
        if member is None or not member.active or member.realm != self.realm.id:
            return
        self.follows.seen(member)  # logged in: the server hands over what waited, a digest too
        if member.role is Role.MEMBER:
            self.queues.submit(member.account, lambda: self._welcome(stream, member))

    async def _welcome(self, stream: ComponentStream, member: Member) -> None:
        """Once per member (remembered in the store): the Wall Guides' welcome, and an entry in the guides' queue."""
        if not await self.store.claim_welcome(member.id, "", self.clock()):
            return
        language = self.languages.of(member)
        body = i18n.text(
            language,
            "welcome.message",
            name=member.pseudonym,
            rules="\n".join(f"• {rule}" for rule in i18n.house_rules(language)),
            rooms=self.realm.rooms_domain,
            guide=self.realm.guide_jid,
            crisis="\n".join(self.resources.for_topic("crisis", language)),
            encryption=i18n.text(language, "help.encryption"),
        )
        await self._say(stream, member, body)
        await self.new_member(member)

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
        self.counters.refused += 1
        st.refuse(stream, element, refusal, self.languages.texts(refusal, member))
