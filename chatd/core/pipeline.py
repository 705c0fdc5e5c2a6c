"""The path of a member's text, once: event + state (+ verdict) -> Outcome, a list of effects.

Every place a member's text enters (one-on-one, rooms, subjects, status texts, invitation
reasons, group names, corrections, Ask a Wall Guide, reports, bot posts, selfhelp@) builds a TextEvent
and calls `submit`. Without a verdict, `submit` says whether the text needs one (review by
the policies and the external hook is the executor's I/O); with it, it lists what happens:

    [Report, Notice]                                   a "!report <reason>"
    [Refuse]                                           a muted author
    [Archive?, Review, Deliver | Hold | Reject, Notice?]   after review
    [Deliver, PrivateAlert?]                           a private text (selfhelp@): kept as written, risk only

The executor (chatd.executor) carries the effects out in this order: archive before deliver.
A delivered text that completes personal information begun in the author's earlier texts
(chatd.core.fragments) is redacted where it takes part; after its delivery the earlier texts are
retracted, the guides see them joined, and the author is told why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from chatd.core.commands import report_reason
from chatd.core.fragments import Completion, Piece
from chatd.core.message import quote_end_after
from chatd.core.model import Member, Realm, Role
from chatd.core.refusal import Refusal
from chatd.core.shadow import Reviewed
from chatd.core.window import is_risk
from policies import Action, Conversation, Field, Verdict

THREAD_QUIET_SECONDS = 1800  # an Ask-a-Wall-Guide thread quiet this long gets "a guide will answer" again


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    stanza_id: str
    conversation: str
    sender_id: int
    recipient_id: int | None
    client_id: str | None
    body: str | None  # what recipients got; None when nothing was delivered
    original: str | None  # the author's text when it differs from the body
    verdict: str
    findings: Sequence[dict[str, object]]
    created_at: float
    unsent: bool = False  # to be confirmed as taken by the XMPP server (one-on-one messages)
    refs: str | None = None  # what the message points at, as its translator shows it again (room replies, reactions)
    quote_end: int = 0  # a reply's quote: the body's first quote_end characters


def archive_record(
    stanza_id: str,
    conversation: str,
    sender_id: int,
    text: str,
    now: float,
    verdict: Verdict | None = None,
    recipient_id: int | None = None,
    client_id: str | None = None,
    unsent: bool = False,
    refs: str | None = None,
    quote_end: int = 0,
) -> ArchivedMessage:
    """The one way to build an archive record; without a verdict the text is delivered as written.

    Unsent: the relay marks it sent once the XMPP server has taken it (chatd.recovery sends it again if not).
    Refs and quote_end (of the text as written) are kept so that the archive can show the message again."""
    body = text if verdict is None else (verdict.text if verdict.delivers else None)
    return ArchivedMessage(
        stanza_id=stanza_id,
        conversation=conversation,
        sender_id=sender_id,
        recipient_id=recipient_id,
        client_id=client_id,
        body=body,
        original=text if body != text else None,
        verdict=verdict.action.value if verdict is not None else Action.DELIVER.value,
        findings=[f.as_dict() for f in verdict.findings] if verdict is not None else [],
        created_at=now,
        unsent=unsent,
        refs=refs,
        quote_end=quote_end_after(text, quote_end, body) if body is not None else 0,
    )


class Rule(StrEnum):
    """How a verdict turns into delivery, by what the text is."""

    NORMAL = "normal"  # reject: refused; hold: the author is told; redact: delivered and the author told
    VERBATIM = "verbatim"  # an address (a new group's name): delivered as written, or refused
    QUIET = "quiet"  # a presence status text: delivered when it may be, else dropped; nobody is told
    TO_GUIDES = "to_guides"  # Ask a Wall Guide: never delivered to members; mutes do not apply
    PRIVATE = "private"  # a member's own (a journal entry): kept as written, reviewed for risk alerts only


PRIVATE_KINDS = frozenset({"journal", "goal", "selfhelp"})  # texts to selfhelp@: nobody else reads them


ARCHIVED_KINDS = frozenset({"message", "correction", "private", "guide"})
# kept in rooms only: a client catching up from the room's archive (MAM) sees them; in a chat, the server's own
# archive of the account keeps them
ROOM_ARCHIVED_KINDS = frozenset({"reaction"})
ROOM_PLACES = frozenset({Conversation.ROOM, Conversation.GROUP})


@dataclass(frozen=True, slots=True)
class TextEvent:
    """A member's text entering the service: who wrote what, where, to whom."""

    author: Member
    realm: Realm
    text: str
    field: Field
    place: Conversation
    conversation: str  # the conversation key: archive, shadow room, queue entries
    kind: str  # what guides see: message, correction, subject, invite, private, config, guide
    recipient: Member | None = None
    client_id: str | None = None
    target: str = ""  # what the author's notices name: the recipient's pseudonym, the room's name
    reply_to: str | None = None  # XEP-0461: the message this one answers (a report names it)
    verbatim: bool = False  # the text is an address or emoji: delivered as written or refused
    quote_end: int = 0  # XEP-0461: the text's first quote_end characters quote the answered message
    refs: str | None = None  # what the text points at, kept with it (chatd.store: messages.refs)

    @property
    def rule(self) -> Rule:
        if self.kind in PRIVATE_KINDS:
            return Rule.PRIVATE
        if self.place is Conversation.GUIDE:
            return Rule.TO_GUIDES
        if self.field is Field.STATUS:
            return Rule.QUIET
        return Rule.VERBATIM if self.verbatim else Rule.NORMAL

    @property
    def archived(self) -> bool:
        return self.kind in ARCHIVED_KINDS or (self.kind in ROOM_ARCHIVED_KINDS and self.place in ROOM_PLACES)

    @property
    def in_pieces_window(self) -> bool:
        """Members' messages (not corrections, not bots' posts) are checked with their recent ones."""
        return self.field is Field.BODY and self.kind in ("message", "private") and self.author.role is not Role.BOT


@dataclass(frozen=True, slots=True)
class State:
    """What is known about the author and the conversation when the text arrives."""

    muted_until: float | None = None  # a mute still running
    watched: bool = False
    recent_messages: int = 0  # the author's messages in the flood window
    last_in_conversation: float | None = None  # when the conversation last had a text (Ask a Wall Guide)


# effects, in the order the executor carries them out


@dataclass(frozen=True, slots=True)
class Archive:
    record: ArchivedMessage


@dataclass(frozen=True, slots=True)
class Review:
    """The reviewed text for the shadow room and the Wall Guides' desk, whatever the verdict."""

    record: Reviewed


@dataclass(frozen=True, slots=True)
class Deliver:
    text: str
    stanza_id: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Nothing is delivered; a Wall Guide decides (the desk files it from the review)."""

    stanza_id: str


@dataclass(frozen=True, slots=True)
class Reject:
    verdict: Verdict  # the refusal names the house rules that applied


@dataclass(frozen=True, slots=True)
class Refuse:
    refusal: Refusal


@dataclass(frozen=True, slots=True)
class Notice:
    """A private word to the author; with a verdict, what was removed and which house rules apply."""

    key: str
    params: dict[str, str] = field(default_factory=dict)
    verdict: Verdict | None = None


@dataclass(frozen=True, slots=True)
class Retract:
    """An earlier piece taken back from its recipients (the archive keeps it for the guides, as a tombstone)."""

    piece: Piece


@dataclass(frozen=True, slots=True)
class Report:
    """A member's report to the Wall Guides: of the message replied to, or of the quoted text."""

    conversation: str
    reason: str
    reply_to: str | None = None
    quote: str = ""


@dataclass(frozen=True, slots=True)
class PrivateAlert:
    """A private text's risk alerts for the Wall Guides' queue, the text inside them (never a shadow room)."""

    record: Reviewed


Effect = Archive | Review | Deliver | Hold | Reject | Refuse | Notice | Retract | Report | PrivateAlert


@dataclass(frozen=True, slots=True)
class Outcome:
    effects: tuple[Effect, ...] = ()
    needs_verdict: bool = False  # the text must be reviewed: call submit again with the verdict
    verdict: Verdict | None = None

    @property
    def delivered(self) -> str | None:
        return next((e.text for e in self.effects if isinstance(e, Deliver)), None)


NEEDS_VERDICT = Outcome(needs_verdict=True)


def muted(until: float) -> Refusal:
    return Refusal("policy-violation", "error.muted", kind="wait", params={"until": clock_time(until)})


def clock_time(seconds: float) -> str:
    """HH:MM UTC, the way notices name a time."""
    minutes = int(seconds // 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d} UTC"


def quoted(text: str) -> tuple[str, str]:
    """A text to wallguide@: its first own line and the quoted ("> ...") lines joined."""
    own = next((line for line in text.splitlines() if not line.startswith(">")), "")
    quote = " ".join(line[1:].strip() for line in text.splitlines() if line.startswith(">")).strip()
    return own, quote


def report_of(event: TextEvent) -> Report | None:
    """A "!report <reason>": as a reply in a chat or room, or quoting a message to wallguide@."""
    if event.place is Conversation.GUIDE:
        own, quote = quoted(event.text)
        reason = report_reason(own)
        return None if reason is None else Report(event.conversation, reason, quote=quote)
    if event.kind not in ("message", "correction"):
        return None
    reason = report_reason(event.text[event.quote_end :])
    return None if reason is None else Report(event.conversation, reason, reply_to=event.reply_to)


def submit(
    event: TextEvent,
    state: State,
    now: float,
    verdict: Verdict | None = None,
    stanza_id: str = "",
    pieces: Completion | None = None,
) -> Outcome:
    """What happens to a member's text; without a verdict, NEEDS_VERDICT unless it is settled before review.

    With pieces (the text completed personal information begun earlier), its verdict replaces the text's own.
    """
    report = report_of(event)
    if report is not None:  # never delivered, never reviewed as a text: the guides get the report
        return Outcome((report, Notice("notice.report_received")))
    free = (Rule.TO_GUIDES, Rule.PRIVATE)  # mutes stop what others would read
    if state.muted_until is not None and state.muted_until > now and event.rule not in free:
        return Outcome(() if event.rule is Rule.QUIET else (Refuse(muted(state.muted_until)),))
    if verdict is None:
        return NEEDS_VERDICT
    if pieces is not None:
        verdict = pieces.verdict
    if event.rule is Rule.PRIVATE:
        return Outcome(_private(event, now, verdict, stanza_id), verdict=verdict)
    return Outcome(_after_review(event, state, now, verdict, stanza_id, pieces), verdict=verdict)


def _after_review(
    event: TextEvent, state: State, now: float, verdict: Verdict, stanza_id: str, pieces: Completion | None
) -> tuple[Effect, ...]:
    author, recipient = event.author, event.recipient
    archived = event.archived
    effects: list[Effect] = []
    if archived:
        recipient_id = recipient.id if recipient is not None else None
        unsent = event.place is Conversation.DIRECT and verdict.delivers  # one-on-one: sent again after a crash
        record = archive_record(
            stanza_id, event.conversation, author.id, event.text, now, verdict, recipient_id, event.client_id, unsent,
            event.refs, event.quote_end,
        )  # fmt: skip
        effects.append(Archive(record))
    kept = stanza_id if archived else None  # guides act on archived texts by this id
    effects.append(
        Review(
            Reviewed(event.realm.id, event.conversation, event.kind, author, recipient, event.text, verdict, kept, now)
        )
    )
    rule, action = event.rule, verdict.action
    if rule is Rule.TO_GUIDES:
        last = state.last_in_conversation
        if last is None or now - last > THREAD_QUIET_SECONDS:
            effects.append(Notice("notice.guide_received"))
    elif rule is Rule.QUIET:
        if verdict.delivers:
            effects.append(Deliver(verdict.text, stanza_id))
    elif action is Action.REJECT or (rule is Rule.VERBATIM and action is not Action.DELIVER):
        effects.append(Reject(verdict))
    elif action is Action.HOLD:
        effects += [Hold(stanza_id), Notice("notice.held", {"target": event.target})]
    else:
        effects.append(Deliver(verdict.text, stanza_id))
        if pieces is not None:
            effects += _take_back(event, pieces, stanza_id, now)
        if action is Action.REDACT:
            effects.append(Notice("notice.redacted", {"target": event.target}, verdict))
    return tuple(effects)


def _private(event: TextEvent, now: float, verdict: Verdict, stanza_id: str) -> tuple[Effect, ...]:
    """Kept as written whatever the verdict (nothing is redacted, held or shown to anyone); its risk alerts
    reach the guides with the text, and nothing else about it does."""
    kept: tuple[Effect, ...] = (Deliver(event.text, stanza_id),)
    risks = tuple(a for a in verdict.alerts if is_risk(a))
    if not risks:
        return kept
    alerted = Verdict(Action.DELIVER, event.text, alerts=risks)
    record = Reviewed(
        event.realm.id, event.conversation, event.kind, event.author, None, event.text, alerted, None, now
    )
    return (*kept, PrivateAlert(record))


def _take_back(event: TextEvent, pieces: Completion, stanza_id: str, now: float) -> list[Effect]:
    """The earlier pieces retracted, the guides shown the texts joined, the author told why."""
    author, recipient = event.author, event.recipient
    joined = Reviewed(
        event.realm.id, event.conversation, "pieces", author, recipient, pieces.joined, pieces.joined_verdict,
        stanza_id, now,
    )  # fmt: skip
    target = recipient.pseudonym if recipient is not None else event.target
    count = str(len(pieces.earlier))
    notice = Notice("notice.pieces_removed", {"target": target, "count": count}, pieces.joined_verdict)
    return [*(Retract(piece) for piece in pieces.earlier), Review(joined), notice]
