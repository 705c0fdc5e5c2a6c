"""The one executor of the pipeline (chatd.core.pipeline): review, then the effects, in order.

Archive before deliver: a text is in the store before anyone gets it; when the archive
fails, nothing is delivered and the author is told. The translator that submitted the
text supplies its outlets (Reply): how to deliver, refuse and tell the author.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatd import i18n
from chatd.core import retraction
from chatd.core.fragments import Completion, FragmentWindow, Piece
from chatd.core.model import Member, Realm
from chatd.core.moderation import Moderation
from chatd.core.pipeline import (
    Archive,
    Deliver,
    Hold,
    Notice,
    Outcome,
    PrivateAlert,
    Refuse,
    Reject,
    Report,
    Retract,
    Review,
    Rule,
    State,
    TextEvent,
    submit,
)
from chatd.core.ratelimit import RateLimiter
from chatd.core.refusal import Refusal, checked
from chatd.core.shadow import Reviewed
from chatd.hook import ExternalHook
from chatd.ids import new_stanza_id
from chatd.metrics import Metrics
from chatd.notices import redaction_params, rejection
from chatd.ports import Clock, Counters, FileReport
from chatd.sanctions import Sanctions
from chatd.store import ArchivedMessage, Store, StoreError
from policies import Field, Verdict

log = logging.getLogger("chatd.executor")

NOT_ARCHIVED = Refusal("internal-server-error", "error.not_delivered", kind="wait")


async def _nothing(text: str, stanza_id: str) -> None:
    return None


async def _keep(piece: Piece, fallback: str) -> None:
    return None


def _accepted() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Reply:
    """A translator's outlets for one text: delivery (text, stanza id), refusals, words to the author, and
    taking back an earlier piece from its recipients (the piece, the text older clients show instead), and
    what to do when the archive failed (the text was not accepted: a resend of it is new)."""

    refuse: Callable[[Refusal], None]
    notice: Callable[[str], Awaitable[None]]
    deliver: Callable[[str, str], Awaitable[None]] = _nothing
    retract: Callable[[Piece, str], Awaitable[None]] = _keep
    unarchived: Callable[[], None] = _accepted


class Reviewer:
    """The one moderation entry point: the policies, then the external hook if configured; counted."""

    def __init__(
        self,
        moderation: Moderation,
        hook: ExternalHook | None,
        counters: Counters,
        metrics: Metrics | None,
        clock: Clock,
    ):
        self.moderation = moderation
        self.hook = hook
        self.counters = counters
        self.metrics = metrics
        self.clock = clock

    async def review(self, event: TextEvent, state: State) -> Verdict:
        started = time.perf_counter()
        context = self.moderation.context(
            event.author, event.realm, event.field, event.place, self.clock(), state.recent_messages, state.watched
        )
        verdict = self.moderation.check(event.text, context)
        if self.hook is not None:
            verdict = await self.hook.consult(event.text, context, event.author.pseudonym, verdict)
        if self.metrics is not None:
            self.metrics.moderation_seconds.observe(time.perf_counter() - started)
        verdicts = self.counters.verdicts
        for category in {f.category for f in verdict.findings} or {"none"}:
            key = (verdict.action.value, category)
            verdicts[key] = verdicts.get(key, 0) + 1
        return verdict


class Executor:
    def __init__(
        self,
        store: Store,
        sanctions: Sanctions,
        limiter: RateLimiter,
        reviewer: Reviewer,
        reviewed: Callable[[Reviewed], None],
        file_report: FileReport,
        clock: Clock,
        fragments: FragmentWindow,
        private_alert: Callable[[Reviewed], Awaitable[None]] | None = None,
    ):
        self.store = store
        self.sanctions = sanctions
        self.limiter = limiter
        self.reviewer = reviewer
        self.reviewed = reviewed  # the desk and the shadow rooms listen
        self.file_report = file_report
        self.clock = clock
        self.fragments = fragments  # each author's recent texts per conversation (personal information in pieces)
        self.private_alert = private_alert  # the desk files a private text's risk alerts (never mirrored)

    async def submit(self, event: TextEvent, reply: Reply) -> Outcome:
        """A member's text, start to end: decided by the core, carried out here."""
        state = await self.state(event)
        outcome = submit(event, state, self.clock())
        if outcome.needs_verdict:
            verdict = await self.reviewer.review(event, state)
            stanza_id = new_stanza_id()
            pieces = self.join_pieces(event, state, verdict, stanza_id)
            outcome = submit(event, state, self.clock(), verdict, stanza_id, pieces)
        await self.execute(event, outcome, reply)
        return outcome

    async def state(self, event: TextEvent) -> State:
        author = event.author
        last = None
        if event.rule is Rule.TO_GUIDES:
            earlier = await self.store.conversation(event.conversation, limit=1)
            last = earlier[-1].created_at if earlier else None
        return State(
            muted_until=self.sanctions.muted_until(author),
            watched=self.sanctions.is_watched(author),
            recent_messages=self.limiter.recent(author.account, time.monotonic()),
            last_in_conversation=last,
        )

    def join_pieces(self, event: TextEvent, state: State, verdict: Verdict, stanza_id: str) -> Completion | None:
        """The author's recent texts in this conversation, checked again together (chatd/core/fragments.py)."""
        if not verdict.delivers or not event.in_pieces_window:
            return None
        now, moderation = self.clock(), self.reviewer.moderation
        context = moderation.context(event.author, event.realm, Field.BODY, event.place, now, watched=state.watched)
        piece = Piece(stanza_id, event.client_id, verdict.text, now)
        return self.fragments.add(
            (event.conversation, event.author.id), piece, verdict, context, moderation.check_personal_information
        )

    async def execute(self, event: TextEvent, outcome: Outcome, reply: Reply) -> None:
        language = event.realm.language
        for effect in outcome.effects:
            if isinstance(effect, Archive):
                if not await self._archived(effect.record, reply):
                    return
            elif isinstance(effect, Review):
                self.reviewed(effect.record)
            elif isinstance(effect, Deliver):
                await reply.deliver(effect.text, effect.stanza_id)
            elif isinstance(effect, Reject):
                reply.refuse(rejection(effect.verdict, language))
            elif isinstance(effect, Refuse):
                reply.refuse(effect.refusal)
            elif isinstance(effect, Notice):
                params = dict(effect.params)
                if effect.verdict is not None:
                    params.update(redaction_params(effect.verdict, language))
                await reply.notice(i18n.text(language, effect.key, **params))
            elif isinstance(effect, Retract):
                await self.store.moderate(effect.piece.stanza_id, "")  # a tombstone; the original stays for guides
                await reply.retract(effect.piece, i18n.text(language, "notice.pieces_fallback"))
            elif isinstance(effect, Report):
                await self._report(event, effect)
            elif isinstance(effect, PrivateAlert):
                if self.private_alert is not None:
                    await self.private_alert(effect.record)
            elif isinstance(effect, Hold):
                log.info("a text was held for review")

    async def _archived(self, record: ArchivedMessage, reply: Reply) -> bool:
        """In the store; else the author is refused (nothing is delivered) and False."""
        try:
            await self.store.archive(record)
        except StoreError:
            log.error("archive failed; a text was not delivered")
            reply.unarchived()
            reply.refuse(NOT_ARCHIVED)
            return False
        return True

    async def keep(self, record: ArchivedMessage, reply: Reply) -> None:
        """What has no text to review (all of a member's reactions taken back): archived, then delivered."""
        if await self._archived(record, reply):
            await reply.deliver(record.body or "", record.stanza_id)

    async def retract_own(
        self, realm: Realm, conversation: str, message_id: str, author: Member
    ) -> ArchivedMessage | None:
        """XEP-0424: the author's own message taken back (a Refused when it may not be); the archive keeps the
        original and the guides see it. The message when its recipients must be told, else None."""
        found = await self.store.reported_message(conversation, message_id)
        checked(retraction.may_retract(found, author))
        assert found is not None
        if found.verdict in retraction.TAKEN_BACK:
            return None
        await self.store.retract(found.stanza_id)
        self.reviewed(retraction.taken_back(realm, found, author, author, self.clock()))
        return found if found.body is not None else None  # a held text was never delivered

    async def _report(self, event: TextEvent, report: Report) -> None:
        conversation, reported = report.conversation, None
        if report.reply_to:
            reported = await self.store.reported_message(conversation, report.reply_to)
        elif report.quote:
            reported = await self.store.quoted_message(event.author.id, report.quote[:80])
            conversation = reported.conversation if reported else conversation
        await self.file_report(event.author, conversation, reported, report.reason)
