"""The Wall Guides' desk: what happens after every review, in one place.

Alerts and held texts become triage-queue entries that say why (the constructs and details that
fired, in the realm's language), each member's recent texts are scored together (one alert for
signals spread over several messages), watched members' texts raise low-severity entries, a
high-severity risk sends the author crisis resources, events go on the bus, and shadow rooms
mirror the record (see chatd.xmpp.watch).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from chatd import i18n
from chatd.bus import Bus
from chatd.core import keys
from chatd.core.crisis import CrisisFollowUp
from chatd.core.guides import QueueEntry
from chatd.core.keys import KeyKind, parse_key
from chatd.core.model import Directory, Member, Realm
from chatd.core.moderation import Moderation
from chatd.core.resources import ResourceLibrary
from chatd.core.shadow import Reviewed, short_id
from chatd.core.window import RecentTexts, is_risk
from chatd.events import AlertRaised, ReportFiled, message_event
from chatd.peers import CRISIS, WINDOW, Peers
from chatd.ports import Clock, Counters, Send
from chatd.sanctions import Sanctions
from chatd.serial import OrderedThread, SerialQueues
from chatd.store import STORE_ERRORS, ArchivedMessage
from chatd.store.guides import GuideStore
from chatd.xmpp import stanza as st
from policies import Alert, Conversation, Field

log = logging.getLogger("chatd.desk")

CRISIS_SEVERITY = 3
HELD_SEVERITY = 2
WATCHED_SEVERITY = 1
GUIDE_SEVERITY = 2  # a member asked for a Wall Guide
REPORT_SEVERITY = 2
WELCOME_SEVERITY = 1  # a new member, for a personal welcome

EntryListener = Callable[[QueueEntry], None]

READING_BACKLOG = 200  # texts waiting at a realm's desk beyond which windows are read by wording alone
READ_AHEAD = 32  # windows waiting to be read whose meanings are encoded together at most (_read_ahead)
WINDOW_KINDS = frozenset({"message", "correction", "private", "guide"})  # texts scored together
CONVERSATIONS = {
    KeyKind.DM: Conversation.DIRECT,
    KeyKind.ROOM: Conversation.ROOM,
    KeyKind.ROOM_PRIVATE: Conversation.ROOM_PRIVATE,
    KeyKind.GUIDE: Conversation.GUIDE,
}


def why(signals: Sequence[str], language: str) -> str:
    """What fired, in the guides' language: "means: firearm; time: tonight" (raw ids where a name is missing)."""
    grouped: dict[str, list[str]] = {}
    for signal in signals:
        construct, _, detail = signal.partition(":")
        details = grouped.setdefault(construct, [])
        if detail and detail not in details:
            details.append(detail)
    parts = []
    for construct, details in grouped.items():
        name = _name(language, f"risk.construct.{construct}", construct)
        if details:
            named = ", ".join(_name(language, f"risk.detail.{d}", d) for d in details)
            parts.append(i18n.text(language, "watch.signal", construct=name, details=named))
        else:
            parts.append(name)
    return i18n.text(language, "watch.signal_separator").join(parts)


def _name(language: str, key: str, raw: str) -> str:
    return i18n.text(language, key) if key in i18n.catalog(language) else raw


@dataclass(frozen=True)
class DeskParts:
    """What the desk uses to tell: the bus, sending, the clock, the directory, resources, counters and the
    other instances."""

    bus: Bus
    send: Send
    clock: Clock
    directory: Directory
    resources: ResourceLibrary
    counters: Counters
    peers: Peers


class Desk:
    """Files alerts, reports and Ask-a-Wall-Guide threads in the guides' queue, after every review."""

    def __init__(
        self,
        guides: GuideStore,
        moderation: Moderation,
        realms: Mapping[str, Realm],
        queues: SerialQueues,
        sanctions: Sanctions,
        crisis: CrisisFollowUp,
        recent: RecentTexts,
        parts: DeskParts,
    ):
        self.guides = guides
        self.moderation = moderation
        self.realms = realms
        self.queues = queues
        self.sanctions = sanctions
        self.crisis = crisis
        self.recent = recent  # memory only
        self.bus, self.send, self.now = parts.bus, parts.send, parts.clock
        self.directory, self.resources, self.counters = parts.directory, parts.resources, parts.counters
        self.peers = parts.peers  # the member's texts and crisis resources, to and from other instances
        self.peers.listen(WINDOW, self._remember)
        self.peers.listen(CRISIS, self._crisis_elsewhere)
        self.entry_listeners: list[EntryListener] = []  # the watch domain announces entries in the queue room
        # the window's reading (a sentence encoder, milliseconds per text) runs off the event loop, in order
        self._reader = OrderedThread("risk-reading")
        # texts whose windows wait to be read and were not read ahead yet (_ahead), in arrival order, by id
        self._unread: dict[int, Reviewed] = {}
        self._reader.submit(moderation.warm)  # the encoder (~2 s) loads at start, not on a member's text

    def reviewed(self, record: Reviewed) -> None:
        self._message_event(record)
        if record.kind in WINDOW_KINDS:
            self._unread[id(record)] = record
        self.queues.submit(f"desk:{record.realm}", lambda: self._file(record))

    def _message_event(self, record: Reviewed) -> None:
        verdict = record.verdict
        if not self.bus.heard:
            return
        if record.stanza_id is not None and record.kind in ("message", "correction", "private", "guide"):
            recipient = record.recipient.pseudonym if record.recipient else record.conversation
            self.bus.publish(
                message_event(verdict.action.value)(
                    realm=record.realm,
                    conversation=record.conversation,
                    stanza_id=record.stanza_id,
                    sender=record.author.pseudonym,
                    recipient=recipient,
                    kinds=sorted({f.kind for f in verdict.findings}),
                )
            )

    def _alert_event(self, record: Reviewed, alert: Alert) -> None:
        """An alert on the bus: who, where, what kind, how severe (never the text)."""
        self.bus.publish(
            AlertRaised(
                realm=record.realm,
                conversation=record.conversation,
                member=record.author.pseudonym,
                kind=alert.kind,
                severity=alert.severity,
            )
        )

    def _confirmed(self, record: Reviewed) -> Reviewed:
        """The record with its severe risk alerts confirmed by the reading of its text (a message body's
        alert waits for it: PolicyEngine.confirmed)."""
        if not any(alert.unconfirmed for alert in record.verdict.alerts):
            return record
        language = self.realms[record.realm].language
        return replace(record, verdict=self.moderation.confirmed(record.verdict, record.original, language))

    async def _file(self, record: Reviewed) -> None:
        record = self._confirmed(record)
        for alert in record.verdict.alerts:
            self._alert_event(record, alert)
        who = record.author.pseudonym
        ref = f" ({short_id(record.stanza_id)})" if record.stanza_id else ""
        for alert in record.verdict.alerts:
            await self._add_alert(record, alert, f"{alert.kind} · {who}{ref}")
        score = self._score_recent(record)
        ahead = self._ahead(record)
        recent = await self._reader.run(partial(self._timed, score, ahead)) if score else None
        if recent is not None:
            await self._add_alert(record, recent, f"{recent.kind} · {who}{ref} · {self._together(record)}")
            self._alert_event(record, recent)
        alerts = (*record.verdict.alerts, recent) if recent else record.verdict.alerts
        if score:
            alerted = max((a.severity for a in alerts if is_risk(a)), default=0)
            self.peers.tell(
                WINDOW, {"member": record.author.id, "text": record.original, "at": record.at, "alerted": alerted}
            )
        if record.verdict.action.value == "hold":
            kinds = ", ".join(sorted({f.kind for f in record.verdict.findings})) or "review"
            await self.add_entry(record.realm, "held", HELD_SEVERITY, record.conversation, f"{kinds} · {who}{ref}")
        elif record.kind == "guide" and not alerts:
            # one entry per open thread; after crisis resources, with the crisis alert's severity
            severity = max(GUIDE_SEVERITY, self.crisis.severity(record.author.id, self.now()) or 0)
            if not await self._open_entry(record.realm, "guide", record.conversation, severity):
                await self.add_entry(record.realm, "guide", severity, record.conversation, f"{who}{ref}")
        elif self.sanctions.is_watched(record.author) and not alerts:
            await self.add_entry(record.realm, "watched", WATCHED_SEVERITY, record.conversation, f"{who}{ref}")
        crisis = [a.severity for a in alerts if a.severity >= CRISIS_SEVERITY and is_risk(a)]
        if crisis:
            await self.send_crisis_resources(record.author, max(crisis))

    def _score_recent(self, record: Reviewed) -> Callable[[], Alert | None] | None:
        """The author's recent texts scored together: an alert only beyond what they raised already."""
        if record.kind not in WINDOW_KINDS:
            return None
        realm = self.realms[record.realm]
        conversation = CONVERSATIONS.get(parse_key(record.conversation).kind, Conversation.NONE)
        watched = self.sanctions.is_watched(record.author)
        context = self.moderation.context(record.author, realm, Field.BODY, conversation, record.at, 0, watched)
        alerted = max((a.severity for a in record.verdict.alerts if is_risk(a)), default=0)
        quick = self.queues.waiting(f"desk:{record.realm}") > READING_BACKLOG  # never let readings stall reads
        if quick:
            self.counters.quick_readings += 1
        assess = partial(self.moderation.assess_recent, context=context, quick=quick)
        return partial(self.recent.add, record.author.id, record.original, record.at, alerted, assess)

    def _remember(self, news: dict[str, Any]) -> None:
        """A member's text reviewed on another instance joins their window here, in the readings' order."""
        member, text, at, alerted = int(news["member"]), str(news["text"]), float(news["at"]), int(news["alerted"])
        self._reader.submit(partial(self.recent.remember, member, text, at, alerted))

    def _crisis_elsewhere(self, news: dict[str, Any]) -> None:
        """Crisis resources sent by another instance: the member's next words to the bots reach a person here too."""
        self.crisis.resources_sent(int(news["member"]), int(news["severity"]), float(news["at"]))

    def _ahead(self, record: Reviewed) -> list[Reviewed]:
        """The texts to read ahead with this one's window: when its turn comes and it was not read ahead yet,
        it and the texts waiting behind it (up to READ_AHEAD): their windows' meanings are encoded together,
        without waiting for anything that has not arrived. None when the realm's readings are quick."""
        if id(record) not in self._unread:
            return []
        keys = list(itertools.islice(self._unread, READ_AHEAD))
        ahead = [self._unread.pop(key) for key in keys if key != id(record)]
        ahead.insert(0, self._unread.pop(id(record)))  # its own window first: its turn has come
        return [] if self.queues.waiting(f"desk:{record.realm}") > READING_BACKLOG else ahead

    def _read_ahead(self, records: Sequence[Reviewed]) -> None:
        """The meanings the windows of these texts could ask for, in one encoder call (on the reader's thread:
        the windows are as the texts before them left them). Only a speed-up: a guess that misses (a member's
        text read ahead with another realm's) is read when its window is."""
        windows = self.recent.upcoming([(record.author.id, record.original, record.at) for record in records])
        languages = [self.realms[record.realm].language for record in records]
        self.counters.read_ahead += self.moderation.read_ahead(list(zip(windows, languages, strict=True)))

    def _timed(self, score: Callable[[], Alert | None], ahead: Sequence[Reviewed] = ()) -> Alert | None:
        """A reading on the reader's thread, after its read ahead, its CPU time counted (/healthz:
        reading_cpu_seconds)."""
        started = time.thread_time()
        try:
            if len(ahead) > 1:
                self._read_ahead(ahead)
            return score()
        finally:
            self.counters.reading_seconds += time.thread_time() - started

    def _together(self, record: Reviewed) -> str:
        count = str(self.recent.count(record.author.id))
        return i18n.text(self.realms[record.realm].language, "watch.recent_texts", count=count)

    async def _add_alert(self, record: Reviewed, alert: Alert, summary: str) -> None:
        """A queue entry that says why; it keeps what fired (or the alert's kind) for the guides' feedback."""
        if alert.signals:
            summary += f" · {why(alert.signals, self.realms[record.realm].language)}"
        kept = alert.signals or (alert.kind,)
        await self.add_entry(record.realm, "alert", alert.severity, record.conversation, summary, kept)

    async def file_private(self, record: Reviewed) -> None:
        """A private text's risk alerts (a journal entry, a check-in answer a flag rule names): queue entries on
        the member's Ask-a-Wall-Guide thread (where a guide can answer), the text inside them and nowhere else."""
        record = self._confirmed(record)
        language = self.realms[record.realm].language
        who = record.author.pseudonym
        inside = i18n.text(language, f"watch.private.{record.kind}", text=record.original)
        for alert in record.verdict.alerts:
            summary = f"{alert.kind} · {who}"
            if alert.signals:
                summary += f" · {why(alert.signals, language)}"
            kept = alert.signals or (alert.kind,)
            await self.add_entry(
                record.realm, "alert", alert.severity, record.conversation, f"{summary}\n{inside}", kept
            )
            self._alert_event(record, alert)
        crisis = [a.severity for a in record.verdict.alerts if a.severity >= CRISIS_SEVERITY]
        if crisis:
            await self.send_crisis_resources(record.author, max(crisis))

    async def file_report(
        self, reporter: Member, conversation: str, reported: ArchivedMessage | None, reason: str
    ) -> None:
        """A member's report: a queue entry with the reported message's id, never shown to that message's author."""
        author = self.directory.by_id(reported.sender_id) if reported else None
        target = f"{author.pseudonym} ({short_id(reported.stanza_id)})" if author and reported else "?"
        summary = f"{reporter.pseudonym} → {target}: {reason[:200] or '-'}"
        await self.add_entry(reporter.realm, "report", REPORT_SEVERITY, conversation, summary)
        self.bus.publish(
            ReportFiled(
                realm=reporter.realm, conversation=conversation, stanza_id=reported.stanza_id if reported else ""
            )
        )

    async def file_welcome(self, member: Member) -> None:
        """A new member's first login: an entry in the realm's queue, on their Ask-a-Wall-Guide thread."""
        await self.add_entry(member.realm, "welcome", WELCOME_SEVERITY, str(keys.guide(member.id)), member.pseudonym)

    async def _open_entry(self, realm: str, kind: str, conversation: str, severity: int) -> bool:
        """An unresolved entry of this kind for the conversation, at least as severe."""
        entries = await self.guides.entries(realm)
        return any(
            e.kind == kind and e.conversation == conversation and e.status != "resolved" and e.severity >= severity
            for e in entries
        )

    async def add_entry(
        self, realm: str, kind: str, severity: int, conversation: str, summary: str, signals: tuple[str, ...] = ()
    ) -> QueueEntry:
        entry = await self.guides.add_entry(realm, kind, severity, conversation, summary, signals)
        for listener in self.entry_listeners:
            listener(entry)
        return entry

    async def send_crisis_resources(self, member: Member, severity: int) -> None:
        """From wallguide@, the address that reaches a person, naming it; the member's next words go there."""
        realm = self.realms[member.realm]
        language = realm.language
        lines = self.resources.for_topic("crisis", language)
        intro = i18n.text(language, "resources.crisis_intro")
        outro = i18n.text(language, "resources.crisis_outro", address=realm.guide_jid)
        body = "\n".join([intro, *lines, outro])
        sent_at, kept = self.crisis.resources_sent(member.id, severity, self.now())
        self.peers.tell(CRISIS, {"member": member.id, "severity": severity, "at": sent_at})
        await self.send(realm.people_domain, st.build_chat(realm.guide_jid, member.account, body))
        try:  # kept for a restart and for instances started later; the follow-up above holds it meanwhile
            await self.guides.crisis_sent(member.id, sent_at, kept)
        except STORE_ERRORS as exc:
            log.error("crisis follow-up not stored: %s", type(exc).__name__)

    async def load_crisis_follow_ups(self) -> None:
        """At start: the members who got crisis resources within the follow-up's window, from the store."""
        since = self.now() - self.crisis.window
        for member_id, sent_at, severity in await self.guides.crisis_followups(since):
            self.crisis.resources_sent(member_id, severity, sent_at)
