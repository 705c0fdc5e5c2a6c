"""The moderation seam's pure part: context and policy check; Runtime.moderate is the one entry point."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from chatd.core.model import Member, Realm
from policies import Action, Alert, Context, Conversation, Field, Finding, Policy, Verdict

PROBATION_SECONDS = 7 * 24 * 3600


class Moderation:
    def __init__(self, policy: Policy, probation_seconds: float = PROBATION_SECONDS):
        self.policy = policy
        self.probation_seconds = probation_seconds
        self.failures = 0  # policy errors (a review that fails holds its text)

    def context(
        self,
        author: Member,
        realm: Realm,
        field: Field,
        conversation: Conversation,
        now: float,
        recent_messages: int = 0,
        watched: bool = False,
    ) -> Context:
        return Context(
            realm=realm.id,
            language=realm.language,
            field=field,
            conversation=conversation,
            author_role=author.role.value,
            new_member=now - author.joined_at < self.probation_seconds,
            watched=watched,
            recent_messages=recent_messages,
        )

    def check(self, text: str, context: Context) -> Verdict:
        return self._checked(self.policy.review, text, context)

    def check_personal_information(self, text: str, context: Context) -> Verdict:
        """The policy's verdict on the text's personal information alone (an author's recent texts joined,
        chatd/core/fragments.py); the whole review from a policy without that narrower pass."""
        review = getattr(self.policy, "review_personal_information", None) or self.policy.review
        return self._checked(review, text, context)

    def _checked(self, review: Callable[[str, Context], Verdict], text: str, context: Context) -> Verdict:
        try:
            return review(text, context)
        except Exception:  # a broken policy must never let text through unchecked
            self.failures += 1
            return Verdict(Action.HOLD, text, rules=("review-error",))

    def confirmed(self, verdict: Verdict, text: str, language: str) -> Verdict:
        """The verdict after delivery, its severe risk alerts confirmed or doubted by the policy's reading of the
        text (PolicyEngine.confirmed); an alert the reading could not check stands."""
        confirm = getattr(self.policy, "confirmed", None)
        if confirm is not None:
            try:
                return confirm(verdict, text, language)  # type: ignore[no-any-return]
            except Exception:
                self.failures += 1
        alerts = tuple(replace(alert, unconfirmed=False) for alert in verdict.alerts)
        return replace(verdict, alerts=alerts)

    def assess_recent(self, texts: Sequence[str], context: Context, quick: bool = False) -> tuple[Alert, ...]:
        """The risk alerts an author's recent texts (oldest first) raise together; none from a policy without it.

        quick: the policy's cheap reading (when readings fall behind), where it has one."""
        assess = getattr(self.policy, "assess_recent", None)
        if assess is None:
            return ()
        try:
            return tuple(assess(texts, context, quick=True) if quick else assess(texts, context))
        except Exception:  # each text was already reviewed on its own; count the failure
            self.failures += 1
            return ()

    def warm(self) -> None:
        """Loads what the policy's readings would load on first use (PolicyEngine.warm), where it can."""
        warm = getattr(self.policy, "warm", None)
        if warm is None:
            return
        try:
            warm()
        except Exception:  # only a head start: the first reading that needs it loads it
            self.failures += 1

    def read_ahead(self, windows: Sequence[tuple[Sequence[str], str]]) -> int:
        """Encodes together what the readings of windows about to be read (texts, language) could ask for, where
        the policy can (PolicyEngine.read_ahead): the same answers, for less; how many texts it encoded."""
        read_ahead = getattr(self.policy, "read_ahead", None)
        if read_ahead is None:
            return 0
        try:
            return int(read_ahead(windows))
        except Exception:  # only a speed-up: each window is still read in full
            self.failures += 1
            return 0


STRICTNESS = (Action.DELIVER, Action.REDACT, Action.HOLD, Action.REJECT)


def stricter(a: Action, b: Action) -> Action:
    return a if STRICTNESS.index(a) >= STRICTNESS.index(b) else b


def apply_external(
    local: Verdict,
    original: str,
    action: Action | None,
    text: str | None,
    findings: tuple[Finding, ...] = (),
    alerts: tuple[Alert, ...] = (),
) -> Verdict:
    """The verdict after an external hook answered: it may change the action and add findings.

    A redaction needs the text to deliver: the hook's own, or the local redaction; without
    either the text is held rather than delivered unredacted.
    """
    final = action or local.action
    rules = local.rules if final is local.action else (*local.rules, "external-review")
    delivered = original
    if final is Action.REDACT:
        chosen = text if text is not None else (local.text if local.action is Action.REDACT else None)
        if chosen is None:
            final = Action.HOLD
        else:
            delivered = chosen
    return Verdict(final, delivered, local.findings + findings, local.alerts + alerts, rules)


def external_failed(local: Verdict, original: str, fail_action: Action) -> Verdict:
    """The verdict when the external hook timed out or failed: the fail action, never milder than local."""
    final = stricter(local.action, fail_action)
    text = local.text if final is local.action else original
    return Verdict(final, text, local.findings, local.alerts, (*local.rules, "review-error"))
