"""The Wall Guides' desk: what happens after every review, in one place.

Alerts and held texts become triage-queue entries, watched members' texts raise low-severity
entries, a high-severity risk sends the author crisis resources, events go on the bus, and
shadow rooms mirror the record (see chatd.xmpp.watch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from chatd import i18n
from chatd.core.guides import QueueEntry
from chatd.core.model import Member
from chatd.core.shadow import Reviewed, short_id
from chatd.events import AlertRaised, ReportFiled, message_event
from chatd.runtime import Runtime
from chatd.store import ArchivedMessage
from chatd.store.guides import GuideStore
from chatd.xmpp import stanza as st

log = logging.getLogger("chatd.desk")

CRISIS_SEVERITY = 3
HELD_SEVERITY = 2
WATCHED_SEVERITY = 1
GUIDE_SEVERITY = 2  # a member asked for a Wall Guide
REPORT_SEVERITY = 2

EntryListener = Callable[[QueueEntry], None]


class Desk:
    def __init__(self, runtime: Runtime):
        self.rt = runtime
        self.guides = GuideStore(runtime.store.db)
        self.entry_listeners: list[EntryListener] = []  # the watch domain announces entries in the queue room
        runtime.review_listeners.append(self.reviewed)
        runtime.file_report = self.file_report

    def reviewed(self, record: Reviewed) -> None:
        self._publish(record)
        self.rt.queues.submit(f"desk:{record.realm}", lambda: self._file(record))

    def _publish(self, record: Reviewed) -> None:
        verdict = record.verdict
        if record.stanza_id is not None and record.kind in ("message", "correction", "private", "guide"):
            recipient = record.recipient.pseudonym if record.recipient else record.conversation
            self.rt.bus.publish(
                message_event(verdict.action.value)(
                    realm=record.realm,
                    conversation=record.conversation,
                    stanza_id=record.stanza_id,
                    sender=record.author.pseudonym,
                    recipient=recipient,
                    kinds=sorted({f.kind for f in verdict.findings}),
                )
            )
        for alert in verdict.alerts:
            self.rt.bus.publish(
                AlertRaised(
                    realm=record.realm,
                    conversation=record.conversation,
                    member=record.author.pseudonym,
                    kind=alert.kind,
                    severity=alert.severity,
                )
            )

    async def _file(self, record: Reviewed) -> None:
        who = record.author.pseudonym
        ref = f" ({short_id(record.stanza_id)})" if record.stanza_id else ""
        for alert in record.verdict.alerts:
            await self.add_entry(
                record.realm, "alert", alert.severity, record.conversation, f"{alert.kind} · {who}{ref}"
            )
        if record.verdict.action.value == "hold":
            kinds = ", ".join(sorted({f.kind for f in record.verdict.findings})) or "review"
            await self.add_entry(record.realm, "held", HELD_SEVERITY, record.conversation, f"{kinds} · {who}{ref}")
        elif record.kind == "guide" and not record.verdict.alerts:
            if not await self._open_entry(record.realm, "guide", record.conversation):  # one entry per open thread
                await self.add_entry(record.realm, "guide", GUIDE_SEVERITY, record.conversation, f"{who}{ref}")
        elif record.author.id in self.rt.watched and not record.verdict.alerts:
            await self.add_entry(record.realm, "watched", WATCHED_SEVERITY, record.conversation, f"{who}{ref}")
        if any(a.severity >= CRISIS_SEVERITY and a.kind.startswith("risk.") for a in record.verdict.alerts):
            await self.send_crisis_resources(record.author)

    async def file_report(
        self, reporter: Member, conversation: str, reported: ArchivedMessage | None, reason: str
    ) -> None:
        """A member's report: a queue entry with the reported message's id, never shown to that message's author."""
        author = self.rt.directory.by_id(reported.sender_id) if reported else None
        target = f"{author.pseudonym} ({short_id(reported.stanza_id)})" if author and reported else "?"
        summary = f"{reporter.pseudonym} → {target}: {reason[:200] or '-'}"
        await self.add_entry(reporter.realm, "report", REPORT_SEVERITY, conversation, summary)
        self.rt.bus.publish(
            ReportFiled(
                realm=reporter.realm, conversation=conversation, stanza_id=reported.stanza_id if reported else ""
            )
        )

    async def _open_entry(self, realm: str, kind: str, conversation: str) -> bool:
        entries = await self.guides.entries(realm)
        return any(e.kind == kind and e.conversation == conversation and e.status != "resolved" for e in entries)

    async def add_entry(self, realm: str, kind: str, severity: int, conversation: str, summary: str) -> QueueEntry:
        entry = await self.guides.add_entry(realm, kind, severity, conversation, summary)
        for listener in self.entry_listeners:
            listener(entry)
        return entry

    async def send_crisis_resources(self, member: Member) -> None:
        realm = self.rt.realms[member.realm]
        language = realm.language
        lines = self.rt.resources.for_topic("crisis", language)
        intro, outro = i18n.text(language, "resources.crisis_intro"), i18n.text(language, "resources.crisis_outro")
        body = "\n".join([intro, *lines, outro])
        await self.rt.send(realm.people_domain, st.build_chat(f"resources@{realm.people_domain}", member.account, body))
