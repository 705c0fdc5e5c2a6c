"""The moderation hook's seam: every member-authored text passes review() before delivery."""

from __future__ import annotations

from chatd.core.model import Member, Realm
from policies import Action, Context, Conversation, Field, Policy, Verdict

PROBATION_SECONDS = 7 * 24 * 3600


class Moderation:
    def __init__(self, policy: Policy, probation_seconds: float = PROBATION_SECONDS):
        self.policy = policy
        self.probation_seconds = probation_seconds
        self.failures = 0  # policy errors; each one held the text

    def review(
        self,
        text: str,
        author: Member,
        realm: Realm,
        field: Field,
        conversation: Conversation,
        now: float,
        recent_messages: int = 0,
        watched: bool = False,
    ) -> Verdict:
        context = Context(
            realm=realm.id,
            language=realm.language,
            field=field,
            conversation=conversation,
            author_role=author.role.value,
            new_member=now - author.joined_at < self.probation_seconds,
            watched=watched,
            recent_messages=recent_messages,
        )
        try:
            return self.policy.review(text, context)
        except Exception:  # a broken policy must never let text through unchecked
            self.failures += 1
            return Verdict(Action.HOLD, text, rules=("review-error",))
