"""Messages in rooms: groupchat, subjects, private messages, invitations; each member text through the pipeline."""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import replace
from xml.sax.saxutils import escape, quoteattr

from chatd import i18n
from chatd.core import rooms as core
from chatd.core.direct import find_recipient
from chatd.core.fragments import Piece
from chatd.core.message import ChatMessage, check_message, quote_end_after
from chatd.core.model import Member
from chatd.core.refusal import Refusal, Refused, allowed, checked
from chatd.core.rooms import Room
from chatd.ids import new_stanza_id
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.payloads import (
    attrs,
    child,
    refs_of,
)
from chatd.xmpp.muc.references import ReferencesMixin
from chatd.xmpp.ns import (
    NS_CONFERENCE,
    NS_MUC_USER,
)
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field

log = logging.getLogger("chatd.rooms")


class MessagesMixin(ReferencesMixin):
    def _on_message(self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str) -> None:
        x = child(element, NS_MUC_USER, "x")
        invites = x.findall(f"{{{NS_MUC_USER}}}invite") if x is not None else []
        message = st.parse_message(element)
        limit = self.config.limits.max_body_chars

        def serve(job: Callable[[], Awaitable[None]]) -> None:
            self._serve(stream, element, member, local, job)

        if invites and not nick:
            serve(lambda: self._on_invite(stream, element, member, local, invites))
        elif message.type == "groupchat" and not nick:
            texts = message.carries_body or bool(message.reactions)
            if texts and not self.limiter.allow(member.account, time.monotonic()):
                raise Refused(Refusal("policy-violation", "error.too_fast", kind="wait"))
            subject = st.client_child(element, "subject")
            if subject is None:
                checked(core.check_groupchat(message, limit))
            body = message.body if message.carries_body else None
            if self.resent.seen(member.account, st.origin_id(element), message.id, body):
                serve(lambda: self._acknowledge_resend(stream, element, member, local))
            elif subject is not None:
                serve(lambda: self._on_subject(stream, element, member, local, subject.text or ""))
            else:
                serve(lambda: self._on_groupchat(stream, element, member, local, message))
        elif nick and message.type in ("chat", "normal"):
            checked(check_message(message, limit))
            if not self.resent.seen(member.account, st.origin_id(element), message.id, message.body):
                serve(lambda: self._on_private(stream, element, member, local, nick, message))
        elif element.get("type") != "groupchat":  # declines, voice requests and the like are not served
            raise Refused(Refusal("bad-request", "error.wrong_type"))

    async def _on_groupchat(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, message: ChatMessage
    ) -> None:
        """A hook (MucService): a member's groupchat text, through the pipeline to every occupant."""
        room, occupant = self._joined(stream, element, member, local)
        if message.retracts is not None:
            await self._retract_own(stream, member, room, occupant, message)
            return
        if message.is_reaction:
            await self._react(stream, element, member, room, occupant, message)
            return
        if message.body is None:  # chat states and markers: passed on, not kept
            tail = self._state_tail(room, occupant, message)
            if tail:
                await self._fanout(stream, room, b"<message to=", tail, skip=occupant)
            return
        field = Field.CORRECTION if message.replaces else Field.BODY
        kind = "correction" if message.replaces else "message"
        body, message = message.body, await self._with_reply(room, message)
        event = self._event(room, member, body, field, kind, None, element.get("id"), message.reply_to)
        event = replace(event, quote_end=message.quote_end, refs=refs_of(message))

        async def deliver(text: str, stanza_id: str) -> None:
            record = RoomRecord(0, stanza_id, member.id, member.pseudonym, message.id, text, self.clock())
            quote_end = quote_end_after(body, message.quote_end, text)
            extra = st.carried(replace(message, chat_state=None, marker=None, quote_end=quote_end))
            tail = self._message_tail(room, record, extra=extra)
            self.counters.delivered += await self._fanout(stream, room, b"<message to=", tail, author=member)
            if kind == "message":
                await self._after_post(room, member)

        async def retract(piece: Piece, fallback: str) -> None:  # for every occupant (XEP-0425)
            await self._announce_retraction(room, piece.stanza_id, fallback)

        await self.executor.submit(event, self._reply(stream, element, room, member, deliver, retract))

    async def _after_post(self, room: Room, member: Member) -> None:
        """A hook: a member's text was delivered to the room (members' rooms welcome a first post)."""

    async def _acknowledge_resend(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str
    ) -> None:
        """A resent room message: its sender gets the archived copy again (the reflection), nobody else."""
        room, client_id = self.rooms.get(local), element.get("id")
        found = await self.store.reported_message(room.key, client_id) if room and client_id else None
        if room is None or found is None or found.sender_id != member.id or found.body is None:
            return
        record = RoomRecord(
            0, found.stanza_id, member.id, member.pseudonym, client_id, found.body, found.created_at,
            refs=found.refs, quote_end=found.quote_end,
        )  # fmt: skip
        sender = quoteattr(element.get("from", "")).encode()
        await self._send(stream, [self._addressed(b"<message to=", sender, self._message_tail(room, record))])

    async def _on_subject(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, text: str
    ) -> None:
        room, occupant = self._joined(stream, element, member, local)
        refusal = core.may_set_subject(room, occupant)
        if refusal is None and len(text) > self.config.limits.max_body_chars:
            refusal = Refusal(
                "not-acceptable",
                "error.too_long",
                kind="modify",
                params={"limit": str(self.config.limits.max_body_chars)},
            )
        checked(refusal)

        async def deliver(subject: str, stanza_id: str) -> None:
            await self.store.rooms.set_subject(room.realm, room.local, subject, occupant.nick)
            room.subject, room.subject_nick = subject, occupant.nick
            self._changed(room)
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
        room, occupant = self._joined(stream, element, member, local)
        recipient = room.by_nick(nick)
        if recipient is None:
            raise Refused(Refusal("item-not-found", "error.room_unknown_occupant", params={"name": nick}))
        allowed(find_recipient(member, self.realm, recipient.nick, self.directory))  # blocks both ways

        async def send(delivered: ChatMessage) -> None:
            await self._private(stream, room, occupant.nick, recipient, delivered)

        async def deliver(text: str, stanza_id: str) -> None:
            await send(message.with_body(text))

        async def retract(piece: Piece, fallback: str) -> None:  # for the recipient's clients (XEP-0424)
            if piece.client_id is not None:
                await self._retract_private(stream, room, member, recipient, piece.client_id, fallback, None)

        conversation = self._private_key(room, member, recipient.member)
        if message.retracts is not None:  # the author's own message (XEP-0424); the original kept for the guides
            found = await self.executor.retract_own(self.realm, conversation, message.retracts, member)
            if found is not None and found.client_id is not None:
                fallback = i18n.text(self.realm.language, "room.retracted_fallback", name=member.pseudonym)
                await self._retract_private(stream, room, member, recipient, found.client_id, fallback, message.id)
            return
        if message.is_reaction:  # XEP-0444: emoji only, reviewed, to a message of these two's private messages
            react = self._reply(stream, element, room, member, lambda text, _: send(replace(message, body=None)))
            await self.private_refs.react(
                member, recipient.member, conversation, message, react, Conversation.ROOM_PRIVATE
            )
            return
        if message.body is None:  # chat states and markers: passed on, not reviewed
            await send(message)
            return
        event = self._event(room, member, message.body, Field.BODY, "private", recipient.member, element.get("id"))
        await self.executor.submit(event, self._reply(stream, element, room, member, deliver, retract))

    async def _retract_private(
        self, stream: ComponentStream, room: Room, member: Member, recipient: core.Occupant, client_id: str,
        fallback: str, stanza_id: str | None,
    ) -> None:  # fmt: skip
        """A private message taken back from the recipient's clients (XEP-0424), from the author in the room."""
        present = room.occupants.get(recipient.member.id)
        if present is None:
            return
        sender, private = self._jid(room, member.pseudonym), f"<x xmlns='{NS_MUC_USER}'/>"
        copies = [
            st.build_retraction(sender, client, client_id, fallback, stanza_id or new_stanza_id(), private).encode()
            for client in present.sessions
        ]
        await self._send(stream, copies)

    async def _on_invite(
        self, stream: ComponentStream, element: ET.Element, member: Member, local: str, invites: list[ET.Element]
    ) -> None:
        """A hook (MucService): a member invites members of the realm, a reason through the pipeline."""
        room = self.rooms.get(local)
        if room is None or not room.visible_to(member):
            raise Refused(Refusal("item-not-found", "error.room_not_found", params={"name": local}))
        checked(core.may_invite(room, member))
        for invite in invites:
            await self._invite(stream, element, room, member, invite)

    async def _invite(
        self, stream: ComponentStream, element: ET.Element, room: Room, member: Member, invite: ET.Element
    ) -> None:
        target = st.split_jid(invite.get("to"))
        if target is None or target[1] != self.realm.people_domain:
            raise Refused(Refusal("jid-malformed", "error.room_invite_pseudonym", kind="modify"))
        invitee = allowed(find_recipient(member, self.realm, target[0], self.directory))
        reason_element = child(invite, NS_MUC_USER, "reason")
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
            await self.store.rooms.set_member(room.realm, room.local, invitee.id, True)
            room.members.add(invitee.id)
            self._changed(room)
        inviter = f"{member.pseudonym}@{self.realm.people_domain}"
        room_jid = self._jid(room)
        language = self.realm.language
        key = "room.invite_reason" if reason else "room.invite"
        body = i18n.text(language, key, inviter=member.pseudonym, room=room.name, jid=room_jid, reason=reason)
        reason_xml = f"<reason>{escape(reason)}</reason>" if reason else ""
        await stream.send(
            f"<message{attrs(from_=room_jid, to=invitee.account, id=new_stanza_id())}><body>{escape(body)}</body>"
            f"<x xmlns='{NS_MUC_USER}'><invite{attrs(from_=inviter)}>{reason_xml}</invite></x>"
            f"<x xmlns='{NS_CONFERENCE}'{attrs(jid=room_jid, reason=reason or None)}/></message>"
        )
        self.counters.delivered += 1
