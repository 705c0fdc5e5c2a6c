"""Wall Guides' side, sans-IO: moderator commands, the triage queue's order, mutes and durations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from chatd.core.model import Member, Role


class Verb(StrEnum):
    HELP = "help"
    CLAIM = "claim"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    EMERGENCY = "emergency"  # a member's last login address: Senior Clinicians, by `chatd vault emergency` only
    REMOVE = "remove"
    EDIT = "edit"
    APPROVE = "approve"
    REJECT = "reject"
    WARN = "warn"
    MUTE = "mute"
    UNMUTE = "unmute"
    SUSPEND = "suspend"
    WATCH = "watch"
    UNWATCH = "unwatch"
    NOTE = "note"
    ACTIVITY = "activity"
    POST = "post"
    HELPFUL = "helpful"
    NOT_HELPFUL = "nothelpful"


# verb -> (argument names, whether the rest of the line is free text)
SYNTAX: dict[Verb, tuple[tuple[str, ...], bool]] = {
    Verb.HELP: ((), False),
    Verb.CLAIM: (("entry",), False),
    Verb.RESOLVE: (("entry",), True),
    Verb.ESCALATE: (("entry",), True),
    Verb.EMERGENCY: (("member",), True),
    Verb.REMOVE: (("message",), True),
    Verb.EDIT: (("message",), True),  # "!edit ID new text -- why"
    Verb.APPROVE: (("message",), True),  # optional edited text: "!approve ID new text -- why"
    Verb.REJECT: (("message",), True),
    Verb.WARN: (("member",), True),
    Verb.MUTE: (("member", "duration"), True),
    Verb.UNMUTE: (("member",), False),
    Verb.SUSPEND: (("member",), True),
    Verb.WATCH: (("member",), True),
    Verb.UNWATCH: (("member",), False),
    Verb.NOTE: (("member",), True),
    Verb.ACTIVITY: (("member",), False),
    Verb.POST: ((), True),
    Verb.HELPFUL: (("entry",), True),  # an optional note
    Verb.NOT_HELPFUL: (("entry",), True),
}
NEEDS_TEXT = frozenset({Verb.RESOLVE, Verb.ESCALATE, Verb.REMOVE, Verb.EDIT, Verb.REJECT, Verb.WARN,
                        Verb.MUTE, Verb.SUSPEND, Verb.NOTE, Verb.POST})  # fmt: skip


@dataclass(frozen=True, slots=True)
class GuideCommand:
    verb: Verb
    arguments: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the free text: a reason, a note, a post, an edited message
    reason: str = ""  # for edit and approve: the part after " -- "


class CommandProblem(ValueError):
    """The command cannot be run as typed; the message says how to type it."""


def usage(verb: Verb) -> str:
    names, free = SYNTAX[verb]
    parts = [f"!{verb.value}", *(f"<{n}>" for n in names)]
    if verb in (Verb.EDIT, Verb.APPROVE):
        parts.append("[new text -- reason]" if verb is Verb.APPROVE else "<new text> -- <reason>")
    elif free:
        parts.append("<text>" if verb is Verb.POST else "<reason>" if verb in NEEDS_TEXT else "[note]")
    return " ".join(parts)


def parse_guide_command(line: str) -> GuideCommand | None:
    """A command if the line starts with "!", else None (plain text). Raises CommandProblem."""
    line = line.strip()
    if not line.startswith("!"):
        return None
    word, _, rest = line[1:].partition(" ")
    try:
        verb = Verb(word.lower())
    except ValueError as exc:
        raise CommandProblem(f"unknown command !{word}; send !help") from exc
    names, free = SYNTAX[verb]
    tokens = rest.split(None, len(names)) if names else [rest] if rest else []
    if len(tokens) < len(names):
        raise CommandProblem(f"usage: {usage(verb)}")
    arguments = {n: (t if n == "message" else t.lower()) for n, t in zip(names, tokens, strict=False)}
    text = tokens[len(names)].strip() if free and len(tokens) > len(names) else ""
    if not free and len(tokens) > len(names):
        raise CommandProblem(f"usage: {usage(verb)}")
    reason = ""
    if verb in (Verb.EDIT, Verb.APPROVE) and text:
        text, _, reason = (part.strip() for part in text.partition(" -- "))
        if verb is Verb.EDIT and (not text or not reason):
            raise CommandProblem(f"usage: {usage(verb)}")
    if verb in NEEDS_TEXT and not text:
        raise CommandProblem(f"usage: {usage(verb)}")
    if "duration" in arguments:
        parse_duration(arguments["duration"])
    return GuideCommand(verb, arguments, text, reason)


QUEUE_STATUS = {Verb.CLAIM: "claimed", Verb.RESOLVE: "resolved", Verb.ESCALATE: "escalated"}


@dataclass(frozen=True, slots=True)
class MessageChange:
    """What !remove and !edit do to a delivered message."""

    removing: bool
    text: str  # the corrected text ("" when removing)
    reason: str


def message_change(command: GuideCommand) -> MessageChange:
    removing = command.verb is Verb.REMOVE
    return MessageChange(removing, "" if removing else command.text, command.text if removing else command.reason)


def approval(command: GuideCommand, original: str | None) -> tuple[str, bool]:
    """The text an approved held message is delivered with, and whether the guide edited it."""
    text = command.text or original or ""
    return text, bool(command.text) and command.text != original


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in "30m", "2h", "3d" (5 seconds to 30 days)."""
    match = re.fullmatch(r"(\d{1,7})([smhd])", text.strip().lower())
    if not match:
        raise CommandProblem(f"duration {text!r}: use minutes, hours or days, e.g. 30m, 2h, 3d")
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    if not 5 <= seconds <= 30 * 86400:
        raise CommandProblem("a duration is between 5 seconds and 30 days")
    return seconds


def may_see_last_address(member: Member) -> bool:
    """A member's last login address and registration data: Senior Clinicians only, never Wall Guides."""
    return member.active and member.role is Role.SENIOR_CLINICIAN


def is_guide_of(member: Member, realm: str) -> bool:
    """Wall Guides and Senior Clinicians act only in their own realm."""
    return member.active and member.realm == realm and member.role in (Role.WALL_GUIDE, Role.SENIOR_CLINICIAN)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    id: int
    realm: str
    kind: str  # alert, held, report, guide, watched, welcome
    severity: int
    conversation: str
    summary: str  # no message text: kinds, pseudonyms, ids
    created_at: float
    status: str = "open"  # open, claimed, resolved, escalated
    claimed_by: str = ""
    announced_at: float = 0.0
    signals: tuple[str, ...] = ()  # alerts: what fired ("means:firearm", "intent"), or the alert's kind

    @property
    def short_id(self) -> str:
        return f"#{self.id}"

    @property
    def constructs(self) -> tuple[str, ...]:
        """The constructs that fired, once each ("means", "time"), for the guides' feedback counts."""
        return tuple(dict.fromkeys(signal.partition(":")[0] for signal in self.signals))


def ranked(entries: list[QueueEntry]) -> list[QueueEntry]:
    """Open work first, most severe first, oldest first within a severity."""
    order = {"open": 0, "escalated": 1, "claimed": 2, "resolved": 3}
    return sorted(entries, key=lambda e: (order.get(e.status, 4), -e.severity, e.created_at))


def due_for_reannouncement(
    entries: list[QueueEntry], now: float, after: float, min_severity: int = 3
) -> list[QueueEntry]:
    """Unclaimed high-severity entries whose last announcement is older than `after` seconds."""
    return [
        e for e in ranked(entries)
        if e.status == "open" and e.severity >= min_severity and now - (e.announced_at or e.created_at) >= after
    ]  # fmt: skip
