"""Domain events: one pydantic type per event; ids and pseudonyms, never accounts or registration data."""

from __future__ import annotations

import re
import time
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatd.ids import new_event_id


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str] = "event"

    id: str = Field(default_factory=new_event_id)
    at: float = Field(default_factory=time.time)
    realm: str

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()  # MessageHeld -> message_held

    @property
    def subject(self) -> str:
        return f"chatd.{self.realm}.{self.name}"


class MessageEvent(Event):
    conversation: str
    stanza_id: str
    sender: str  # pseudonym
    recipient: str  # pseudonym, or the room's address
    kinds: list[str] = []  # finding kinds, no text


class MessageDelivered(MessageEvent):
    pass


class MessageRedacted(MessageEvent):
    pass


class MessageHeld(MessageEvent):
    pass


class MessageRejected(MessageEvent):
    pass


class AlertRaised(Event):
    conversation: str
    member: str  # pseudonym
    kind: str
    severity: int


class ReportFiled(Event):
    conversation: str
    stanza_id: str
    reason_kinds: list[str] = []


class ModeratorAction(Event):
    action: str
    target: str  # pseudonym or stanza id
    conversation: str = ""


class MemberJoined(Event):
    room: str
    member: str


class MemberLeft(Event):
    room: str
    member: str


EVENT_TYPES: tuple[type[Event], ...] = (
    MessageDelivered,
    MessageRedacted,
    MessageHeld,
    MessageRejected,
    AlertRaised,
    ReportFiled,
    ModeratorAction,
    MemberJoined,
    MemberLeft,
)


def message_event(action: str) -> type[MessageEvent]:
    """The event type for a moderation verdict's action (deliver, redact, hold, reject)."""
    return {
        "deliver": MessageDelivered,
        "redact": MessageRedacted,
        "hold": MessageHeld,
        "reject": MessageRejected,
    }[action]
