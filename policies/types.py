"""Plain data shared by the moderation policies and chatd's core (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Action(str, Enum):
    """What happens to a piece of member-authored text, mildest first."""

    DELIVER = "deliver"
    REDACT = "redact"
    HOLD = "hold"
    REJECT = "reject"


class Field(str, Enum):
    """Where the text came from."""

    BODY = "body"
    CORRECTION = "correction"
    SUBJECT = "subject"
    STATUS = "status"
    INVITE_REASON = "invite_reason"
    GROUP_NAME = "group_name"
    GROUP_DESCRIPTION = "group_description"
    PSEUDONYM = "pseudonym"


class Conversation(str, Enum):
    DIRECT = "direct"
    ROOM = "room"
    GROUP = "group"
    ROOM_PRIVATE = "room_private"
    GUIDE = "guide"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Context:
    """What a policy may know about the text besides the text itself."""

    realm: str
    language: str  # "en" or "fr"
    field: Field = Field.BODY
    conversation: Conversation = Conversation.DIRECT
    author_role: str = "member"
    new_member: bool = False
    watched: bool = False
    recent_messages: int = 0  # the author's messages in the flood window, before this one


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # dotted: "pii.email", "risk.suicide_active", "house.link"
    severity: int  # 0 info, 1 low, 2 medium, 3 high
    start: int  # span in the ORIGINAL text, end exclusive
    end: int
    rule: str = ""  # house-rule id quoted in the notice to the author

    @property
    def category(self) -> str:
        return self.kind.split(".", 1)[0]

    def as_dict(self) -> dict[str, object]:
        """For the archive and the external hook (JSON)."""
        return {"kind": self.kind, "severity": self.severity, "start": self.start, "end": self.end, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    severity: int
    # risk: what fired, each "construct" or "construct:detail", e.g. ("means:firearm", "time:tonight")
    signals: tuple[str, ...] = ()
    # a severe risk alert whose text the model reads after delivery: it stands unless the reading doubts it
    # (PolicyEngine.confirmed); never blocks or changes delivery, which risk does not
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    text: str  # what recipients get: the original, or the redacted text
    findings: tuple[Finding, ...] = ()
    alerts: tuple[Alert, ...] = ()
    rules: tuple[str, ...] = ()  # house-rule ids that applied, for the notice

    @property
    def delivers(self) -> bool:
        return self.action in (Action.DELIVER, Action.REDACT)


# placeholder text for a redacted span: (finding kind, language) -> "[email removed]"
Label = Callable[[str, str], str]


class Policy(Protocol):
    """A set of policies behind one call: text and context in, verdict out."""

    def review(self, text: str, context: Context) -> Verdict: ...


def deliver_unchanged(text: str) -> Verdict:
    return Verdict(Action.DELIVER, text)
