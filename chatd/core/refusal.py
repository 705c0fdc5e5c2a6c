"""A refusal: an XMPP error condition plus the key of the localized text that explains it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Refusal:
    condition: str  # RFC 6120 stanza error condition, e.g. "forbidden"
    text: str  # i18n key, e.g. "error.other_realm"
    kind: str = "cancel"  # error type: cancel, modify, auth, wait
    params: dict[str, str] = field(default_factory=dict)
    bilingual: bool = False  # the sender's language is unknown: say it in every language
