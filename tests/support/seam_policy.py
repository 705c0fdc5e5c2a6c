"""A keyword policy that exercises every verdict, for testing the moderation seam's wiring."""

from __future__ import annotations

from typing import Any

from policies import Action, Context, Finding, Label, Verdict

SECRET = "SECRET-CODE"


class KeywordPolicy:
    def __init__(self, label: Label):
        self.label = label

    def review(self, text: str, context: Context) -> Verdict:
        if "REJECTME" in text:
            return Verdict(Action.REJECT, text, rules=("respect",))
        if "HOLDME" in text:
            return Verdict(Action.HOLD, text, rules=("no-links",))
        if "CRASHME" in text:
            raise RuntimeError("policy failure on purpose")
        start = text.find(SECRET)
        if start >= 0:
            finding = Finding("pii.email", 2, start, start + len(SECRET), rule="no-personal-info")
            redacted = text.replace(SECRET, self.label("pii.email", context.language))
            return Verdict(Action.REDACT, redacted, findings=(finding,), rules=("no-personal-info",))
        return Verdict(Action.DELIVER, text)


def make(settings: dict[str, Any], label: Label) -> KeywordPolicy:
    return KeywordPolicy(label)
