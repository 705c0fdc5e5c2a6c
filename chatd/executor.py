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
from chatd.core.pipeline import (
    Archive,
    Deliver,
    Hold,
    Notice,
    Outcome,
    Refuse,
    Reject,
    Report,
    Review,
    Rule,
    State,
    TextEvent,
    submit,
)
from chatd.core.refusal import Refusal
from chatd.core.shadow import Reviewed
from chatd.ids import new_stanza_id
from chatd.notices import redaction_params, rejection
from chatd.runtime import Runtime
from chatd.store import StoreError
from policies import Verdict

log = logging.getLogger("chatd.executor")

NOT_ARCHIVED = Refusal("internal-server-error", "error.not_delivered", kind="wait")


async def _nothing(text: str, stanza_id: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Reply:
    """A translator's outlets for one text: delivery (text, stanza id), refusals, words to the author."""

    refuse: Callable[[Refusal], None]
    notice: Callable[[str], Awaitable[None]]
    deliver: Callable[[str, str], Awaitable[None]] = _nothing


class Executor:
    def __init__(self, runtime: Runtime, reviewed: Callable[[Reviewed], None] | None = None):
        self.rt = runtime
        self.reviewed = runtime.reviewed if reviewed is None else reviewed  # shadow rooms do not mirror themselves

    async def submit(self, event: TextEvent, reply: Reply) -> Outcome:
        """A member's text, start to end: decided by the core, carried out here."""
        rt = self.rt
        state = await self.state(event)
        outcome = submit(event, state, rt.now())
        if outcome.needs_verdict:
            verdict = await self.moderate(event, state)
            outcome = submit(event, state, rt.now(), verdict, new_stanza_id())
        await self.execute(event, outcome, reply)
        return outcome

    async def state(self, event: TextEvent) -> State:
        rt, author = self.rt, event.author
        last = None
        if event.rule is Rule.TO_GUIDES:
            earlier = await rt.store.conversation(event.conversation, limit=1)
            last = earlier[-1].created_at if earlier else None
        return State(
            muted_until=rt.sanctions.muted_until(author),
            watched=rt.sanctions.is_watched(author),
            recent_messages=rt.limiter.recent(author.account, time.monotonic()),
            last_in_conversation=last,
        )

    async def moderate(self, event: TextEvent, state: State) -> Verdict:
        """The one moderation entry point: the policies, then the external hook if configured."""
        rt = self.rt
        started = time.perf_counter()
        context = rt.moderation.context(
            event.author, event.realm, event.field, event.place, rt.now(), state.recent_messages, state.watched
        )
        verdict = rt.moderation.check(event.text, context)
        if rt.hook is not None:
            verdict = await rt.hook.consult(event.text, context, event.author.pseudonym, verdict)
        if rt.metrics is not None:
            rt.metrics.moderation_seconds.observe(time.perf_counter() - started)
        verdicts = rt.counters.verdicts
        for category in {f.category for f in verdict.findings} or {"none"}:
            key = (verdict.action.value, category)
            verdicts[key] = verdicts.get(key, 0) + 1
        return verdict

    async def execute(self, event: TextEvent, outcome: Outcome, reply: Reply) -> None:
        rt = self.rt
        language = event.realm.language
        for effect in outcome.effects:
            if isinstance(effect, Archive):
                try:
                    await rt.store.archive(effect.record)
                except StoreError:
                    log.error("archive failed; a text was not delivered")
                    reply.refuse(NOT_ARCHIVED)
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
            elif isinstance(effect, Report):
                await self._report(event, effect)
            elif isinstance(effect, Hold):
                log.info("a text was held for review")

    async def _report(self, event: TextEvent, report: Report) -> None:
        store = self.rt.store
        conversation, reported = report.conversation, None
        if report.reply_to:
            reported = await store.reported_message(conversation, report.reply_to)
        elif report.quote:
            reported = await store.quoted_message(event.author.id, report.quote[:80])
            conversation = reported.conversation if reported else conversation
        if self.rt.file_report is not None:
            await self.rt.file_report(event.author, conversation, reported, report.reason)
