"""One-on-one messages that point at another one: replies (XEP-0461), reactions (XEP-0444) and retractions by
their author (XEP-0424). Both sides know a message by the id its author's client gave it (the relay keeps it);
addresses are translated so that each side sees pseudonyms, and its own account for its own messages."""

from __future__ import annotations

from dataclasses import replace

from chatd import i18n
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal, Refused
from chatd.executor import Executor, Reply
from chatd.ids import new_stanza_id
from chatd.ports import Counters
from chatd.store import ArchivedMessage, Store
from chatd.xmpp import stanza as st
from chatd.xmpp.stream import ComponentStream
from policies import Conversation, Field


class DirectReferences:
    def __init__(self, realm: Realm, executor: Executor, store: Store, counters: Counters):
        self.store = store
        self.counters = counters
        self.realm = realm
        self.executor = executor

    def _address(self, member: Member) -> str:
        return f"{member.pseudonym}@{self.realm.people_domain}"

    async def _found(self, conversation: str, message_id: str) -> ArchivedMessage | None:
        return await self.store.reported_message(conversation, message_id)

    async def with_reply(
        self, sender: Member, recipient: Member, conversation: str, message: ChatMessage
    ) -> ChatMessage:
        """The reply's author address as the recipient knows it: their own account, or the sender's pseudonym."""
        if message.reply_to is None:
            return message
        found = await self._found(conversation, message.reply_to)
        author_id = found.sender_id if found is not None else None
        if author_id is None:  # not archived: told by the address the sender's client wrote
            written = st.split_jid(message.reply_author)
            bare = f"{written[0]}@{written[1]}" if written is not None else ""
            author_id = {self._address(recipient): recipient.id, sender.account: sender.id}.get(bare)
        author = {recipient.id: recipient.account, sender.id: self._address(sender)}.get(author_id or -1)
        return replace(message, reply_author=author)

    async def react(
        self, sender: Member, recipient: Member, conversation: str, message: ChatMessage, reply: Reply,
        place: Conversation = Conversation.DIRECT,
    ) -> None:  # fmt: skip
        """XEP-0444: only emoji, to a message of this chat (or of a room's private messages: place); the emoji go
        through the pipeline."""
        assert message.reactions_to is not None
        found = await self._found(conversation, message.reactions_to)
        if found is None or found.body is None:
            raise Refused(Refusal("item-not-found", "error.reaction_unknown_message"))
        if not message.reactions:  # all reactions taken back: no text
            await reply.deliver("", "")
            return
        text = " ".join(message.reactions)
        event = TextEvent(
            sender, self.realm, text, Field.BODY, place, conversation, "reaction",
            recipient=recipient, target=recipient.pseudonym, verbatim=True,
        )  # fmt: skip
        await self.executor.submit(event, reply)

    async def retract(
        self, stream: ComponentStream, sender: Member, recipient: Member, conversation: str, message: ChatMessage
    ) -> None:
        """XEP-0424: the author's own message taken back from the recipient; the original kept for the guides."""
        assert message.retracts is not None
        found = await self.executor.retract_own(self.realm, conversation, message.retracts, sender)
        if found is None or found.client_id is None:  # nothing to tell, or no id to name it by
            return
        fallback = i18n.text(self.realm.language, "room.retracted_fallback", name=sender.pseudonym)
        retracted = st.build_retraction(self._address(sender), recipient.account, found.client_id, fallback,
                                        message.id or new_stanza_id())  # fmt: skip
        await stream.send(retracted)
        self.counters.stanzas_out += 1
