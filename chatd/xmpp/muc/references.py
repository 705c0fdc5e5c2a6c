"""Room messages that point at another one: replies (XEP-0461), reactions (XEP-0444), retractions by their
author (XEP-0424) and removals by a group's owner (XEP-0425). Their texts go through the pipeline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from xml.sax.saxutils import escape

from chatd import i18n
from chatd.core import retraction
from chatd.core.message import ChatMessage
from chatd.core.model import Member
from chatd.core.pipeline import archive_record
from chatd.core.refusal import Refusal, Refused, checked
from chatd.core.rooms import Occupant, Room, is_guide
from chatd.ids import new_stanza_id
from chatd.store import ArchivedMessage
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.base import MucBase
from chatd.xmpp.muc.payloads import attrs, child, kept_refs, refs_of
from chatd.xmpp.ns import (
    NS_FALLBACK,
    NS_FASTEN,
    NS_HINTS,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_OCCUPANT_ID,
    NS_RETRACT,
    NS_RETRACT_0,
    NS_SID,
)
from chatd.xmpp.stream import ComponentStream
from policies import Field


class ReferencesMixin(MucBase):
    async def _found(self, room: Room, message_id: str) -> ArchivedMessage | None:
        """A message of this room by the id occupants know it by (its stanza-id, or its author's id)."""
        return await self.store.reported_message(room.key, message_id)

    async def _with_reply(self, room: Room, message: ChatMessage) -> ChatMessage:
        """The reply's reference as occupants know it: the answered message's stanza-id and author in the room."""
        if message.reply_to is None:
            return message
        found = await self._found(room, message.reply_to)
        if found is None:  # not in this room's archive: kept only if it names someone in this room
            author = st.split_jid(message.reply_author)
            keep = author is not None and f"{author[0]}@{author[1]}" == self._jid(room)
            return message if keep else replace(message, reply_author=None)
        author_member = self.directory.by_id(found.sender_id)
        nick = author_member.pseudonym if author_member is not None else self.config.watch.guide_name
        return replace(message, reply_to=found.stanza_id, reply_author=self._jid(room, nick))

    # reactions

    async def _react(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, occupant: Occupant,
        message: ChatMessage,
    ) -> None:  # fmt: skip
        """XEP-0444: only emoji, to a message of this room; the emoji go through the pipeline and are archived
        (a client catching up from MAM sees them), the reacted message named by its stanza-id."""
        assert message.reactions_to is not None
        found = await self._found(room, message.reactions_to)
        if found is None or found.body is None or is_reaction(found):
            raise Refused(Refusal("item-not-found", "error.reaction_unknown_message"))
        refs = refs_of(replace(message, reactions_to=found.stanza_id))

        async def deliver(text: str, stanza_id: str) -> None:
            record = RoomRecord(0, stanza_id, member.id, member.pseudonym, message.id, text, self.clock(), refs=refs)
            tail = self._message_tail(room, record)
            self.counters.delivered += await self._fanout(stream, room, b"<message to=", tail, author=member)

        reply = self._reply(stream, element, room, member, deliver)
        if not message.reactions:  # all reactions taken back: no text to review
            kept = archive_record(new_stanza_id(), room.key, member.id, "", self.clock(), client_id=message.id,
                                  refs=refs)  # fmt: skip
            await self.executor.keep(kept, reply)
            return
        event = self._event(room, member, " ".join(message.reactions), Field.BODY, "reaction", None, message.id)
        await self.executor.submit(replace(event, verbatim=True, refs=refs), reply)

    async def _reaction_removed(self, room: Room, found: ArchivedMessage) -> None:
        """A reaction removed (by the Wall Guides or the group's owner): besides the retraction of its message,
        the reactor's reactions as none, for the clients that keep reactions apart from messages."""
        author = self.directory.by_id(found.sender_id)
        if author is None:
            return
        record = RoomRecord(0, new_stanza_id(), author.id, author.pseudonym, None, "", self.clock(), refs=found.refs)
        await self._fanout(self.streams[self.domain], room, b"<message to=", self._message_tail(room, record))

    # retraction by the author (XEP-0424)

    async def _retract_own(
        self, stream: ComponentStream, member: Member, room: Room, occupant: Occupant, message: ChatMessage
    ) -> None:
        """The author's own message taken back: a tombstone for occupants, the original kept for the guides."""
        assert message.retracts is not None
        found = await self.executor.retract_own(self.realm, room.key, message.retracts, member)
        if found is None:
            return
        fallback = escape(i18n.text(self.realm.language, "room.retracted_fallback", name=member.pseudonym))
        tail = (
            f"{attrs(from_=self._jid(room, occupant.nick), type='groupchat', id=message.id or new_stanza_id())}>"
            f"<retract{attrs(xmlns=NS_RETRACT, id=found.stanza_id)}/>"
            f"<apply-to{attrs(xmlns=NS_FASTEN, id=found.stanza_id)}><retract xmlns='{NS_RETRACT_0}'/></apply-to>"
            f"<fallback{attrs(xmlns=NS_FALLBACK, for_=NS_RETRACT)}/><body>{fallback}</body><store xmlns='{NS_HINTS}'/>"
            f"<stanza-id{attrs(xmlns=NS_SID, id=new_stanza_id(), by=self._jid(room))}/>"
            f"<occupant-id{attrs(xmlns=NS_OCCUPANT_ID, id=occupant.occupant_id)}/></message>"
        )
        await self._fanout(stream, room, b"<message to=", tail)

    # removal by the group's owner (XEP-0425)

    async def _on_moderate(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        """<moderate id=...><retract/><reason/></moderate> (or the :0 form in <apply-to>); the reason is a text."""
        request = moderation_request(query)
        if request is None or element.get("type") != "set":
            raise Refused(Refusal("bad-request", "error.moderate_malformed", kind="modify"))
        stanza_id, reason = request
        found = await self._found(room, stanza_id)
        checked(retraction.may_moderate(room, member, found))
        assert found is not None
        if found.verdict in retraction.TAKEN_BACK:
            stream.send_nowait(st.build_iq_result(element))
            return
        guide = is_guide(member)  # the Wall Guides are never shown by pseudonym
        by = None if guide else self._jid(room, member.pseudonym)

        async def remove(text: str, _: str) -> None:
            await self.store.moderate(found.stanza_id, "", removed_by=None if guide else member.id)
            author = self.directory.by_id(found.sender_id)
            reviewed = retraction.taken_back(self.realm, found, member, author, self.clock(), "moderated")
            shown = f"{reviewed.original}\n— {text}" if text else reviewed.original
            self.reviewed(replace(reviewed, original=shown))
            await self._announce_retraction(room, found.stanza_id, text, by)
            if is_reaction(found):
                await self._reaction_removed(room, found)
            stream.send_nowait(st.build_iq_result(element))

        if not reason:
            await remove("", "")
            return
        event = replace(self._event(room, member, reason, Field.BODY, "moderation"), verbatim=True)
        await self.executor.submit(event, self._reply(stream, element, room, member, remove))


def is_reaction(found: ArchivedMessage) -> bool:
    kept = kept_refs(found.refs, found.quote_end, found.body)
    return kept is not None and kept.is_reaction


def moderation_request(query: ET.Element) -> tuple[str, str] | None:
    """(stanza id, reason) of a XEP-0425 request, in its current or its older (fastened) form; None if malformed."""
    current = query.tag == f"{{{NS_MODERATE}}}moderate"
    moderate = query if current else child(query, NS_MODERATE_0, "moderate")
    stanza_id, retract_ns = query.get("id"), NS_RETRACT if current else NS_RETRACT_0
    if moderate is None or not stanza_id or child(moderate, retract_ns, "retract") is None:
        return None
    reason = child(moderate, NS_MODERATE if current else NS_MODERATE_0, "reason")
    return stanza_id, (reason.text or "").strip() if reason is not None else ""
