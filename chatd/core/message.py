"""A chat message as chatd sees it, independent of any XMPP library."""

from __future__ import annotations

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

    @property
    def has_content(self) -> bool:
        return (
            self.body is not None
            or self.chat_state is not None
            or self.receipt_for is not None
            or self.marker is not None
        )

    def with_body(self, body: str) -> ChatMessage:
        return replace(self, body=body)


def check_message(message: ChatMessage, max_body_chars: int) -> Refusal | None:
    """Stanza-level rules that hold for every conversation."""
    if message.encrypted or (message.body or "").startswith("?OTR"):
        return Refusal("not-acceptable", "error.encrypted")
    if message.type not in ("chat", "normal"):
        return Refusal("bad-request", "error.wrong_type")
    if message.body is not None:
        if not message.body.strip():
            return Refusal("not-acceptable", "error.empty_body", kind="modify")
        if len(message.body) > max_body_chars:
            return Refusal("not-acceptable", "error.too_long", kind="modify", params={"limit": str(max_body_chars)})
    elif not message.has_content:
        return Refusal("bad-request", "error.nothing_to_deliver", kind="modify")
    return None
