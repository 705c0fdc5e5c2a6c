"""A chat message as chatd sees it, independent of any XMPP library."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from chatd.core.refusal import Refusal

CHAT_STATES = frozenset({"active", "composing", "paused", "inactive", "gone"})
MARKERS = frozenset({"received", "displayed", "acknowledged"})
# Namespaces of end-to-end encryption: moderation cannot read these, so they are refused.
ENCRYPTION_NAMESPACES = frozenset(
    {
        "eu.siacs.conversations.axolotl",  # OMEMO (legacy)
        "urn:xmpp:omemo:1",
        "urn:xmpp:omemo:2",
        "jabber:x:encrypted",  # legacy OpenPGP (XEP-0027)
        "urn:xmpp:openpgp:0",  # OX (XEP-0373)
        "urn:xmpp:eme:0",  # explicit encryption marker (XEP-0380)
    }
)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str | None
    type: str  # chat, normal, groupchat, headline
    body: str | None = None
    thread: str | None = None
    chat_state: str | None = None
    receipt_request: bool = False
    receipt_for: str | None = None
    marker: tuple[str, str] | None = None  # (name, message id)
    replaces: str | None = None  # XEP-0308: id of the corrected message
    reply_to: str | None = None  # XEP-0461: id of the message this one answers
    encrypted: bool = False
    markable: bool = False  # XEP-0333: the sender wants read markers
    reply_author: str | None = None  # XEP-0461: the address of the answered message's author, as the sender wrote it
    quote_end: int = 0  # XEP-0461 fallback: the body's first quote_end characters quote the answered message
    reactions_to: str | None = None  # XEP-0444: id of the message reacted to
    reactions: tuple[str, ...] = ()  # the sender's reactions to it, all of them (none: taken back)
    retracts: str | None = None  # XEP-0424: id of the sender's own message taken back
    invites_to: str | None = None  # XEP-0249: the room a direct invitation names (its address only)
    malformed: str | None = None  # the i18n key saying which payload is malformed

    @property
    def is_reaction(self) -> bool:
        return self.reactions_to is not None

    @property
    def carries_body(self) -> bool:
        """A body that is the member's text: not the fallback of a reaction or a retraction."""
        return self.body is not None and not self.is_reaction and self.retracts is None

    @property
    def has_content(self) -> bool:
        return (
            self.body is not None
            or self.is_reaction
            or self.retracts is not None
            or self.chat_state is not None
            or self.receipt_for is not None
            or self.marker is not None
            or self.invites_to is not None
        )

    def with_body(self, body: str) -> ChatMessage:
        return replace(self, body=body)


def check_message(message: ChatMessage, max_body_chars: int) -> Refusal | None:
    """Stanza-level rules that hold for every conversation."""
    if message.encrypted or (message.body or "").startswith("?OTR"):
        return Refusal("not-acceptable", "error.encrypted")
    if message.type not in ("chat", "normal"):
        return Refusal("bad-request", "error.wrong_type")
    if message.malformed is not None:
        return Refusal("bad-request", message.malformed, kind="modify")
    if message.is_reaction:
        return check_reactions(message.reactions)
    if message.carries_body and message.body is not None:
        if not message.body.strip():
            return Refusal("not-acceptable", "error.empty_body", kind="modify")
        if len(message.body) > max_body_chars:
            return Refusal("not-acceptable", "error.too_long", kind="modify", params={"limit": str(max_body_chars)})
    elif not message.has_content:
        return Refusal("bad-request", "error.nothing_to_deliver", kind="modify")
    return None


MAX_REACTIONS = 10  # per member and message
MAX_REACTION_CHARS = 16  # code points of one emoji (flags, families and skin tones take several)
EMOJI_JOINERS = frozenset({0x200D, 0xFE0F, 0xFE0E, 0x20E3})  # zero-width joiner, variation selectors, keycap


def is_emoji(text: str) -> bool:
    """One emoji (or an emoji sequence): symbols, with joiners, skin tones, tags and keycaps only."""
    if not text or len(text) > MAX_REACTION_CHARS:
        return False
    symbols = 0
    for index, char in enumerate(text):
        if _emoji_symbol(char, text[index + 1 : index + 2]):
            symbols += 1
        elif not (ord(char) in EMOJI_JOINERS or 0xE0020 <= ord(char) <= 0xE007F):  # joiners, flag tags
            return False
    return symbols > 0


def _emoji_symbol(char: str, following: str) -> bool:
    """Symbols (regional indicators too), skin tones, ‼ ⁉ and arrows, and the key of a keycap (1️⃣)."""
    point, category = ord(char), unicodedata.category(char)
    if category == "So" or 0x1F3FB <= point <= 0x1F3FF or point in (0x203C, 0x2049):
        return True
    if category == "Sm" and 0x2190 <= point <= 0x21FF:
        return True
    return char in "0123456789#*" and following in ("\u20e3", "\ufe0f")


def check_reactions(reactions: tuple[str, ...]) -> Refusal | None:
    """XEP-0444: only emoji, a few per message."""
    if len(reactions) > MAX_REACTIONS:
        return Refusal("not-acceptable", "error.reaction_too_many", kind="modify", params={"limit": str(MAX_REACTIONS)})
    if not all(is_emoji(r) for r in reactions):
        return Refusal("not-acceptable", "error.reaction_not_emoji", kind="modify")
    return None


def quote_end_after(original: str, quote_end: int, delivered: str) -> int:
    """Where a reply's quote ends in the delivered text (redaction may change lengths); 0 when it cannot be told.

    A quote of whole lines keeps its line count: redaction labels never contain line breaks.
    """
    if quote_end == 0 or delivered == original:
        return quote_end
    quote = original[:quote_end]
    if not quote.endswith("\n"):
        return 0
    position = 0
    for _ in range(quote.count("\n")):
        position = delivered.find("\n", position) + 1
        if position == 0:
            return 0
    return position
