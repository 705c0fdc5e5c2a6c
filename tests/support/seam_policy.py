"""A keyword policy that exercises every verdict, for testing the moderation seam's wiring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies import Action, Alert, Context, Finding, Label, Verdict

SECRET = "SECRET-CODE"
# all three in one member's recent texts raise one window alert; with RISKME a single text raises it too
WINDOW_CUES = {"CUE-MEANS": "means:firearm", "CUE-TIME": "time:tonight", "CUE-INTENT": "intent"}


def cue_alerts(text: str) -> tuple[Alert, ...]:
    if all(cue in text for cue in WINDOW_CUES):
        return (Alert("risk.means", 3, tuple(WINDOW_CUES.values())),)
    return ()


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
        if "RISKME" in text:
            return Verdict(Action.DELIVER, text, alerts=cue_alerts(text))
        return Verdict(Action.DELIVER, text)

    def assess_recent(self, texts: Sequence[str], context: Context) -> tuple[Alert, ...]:
        return cue_alerts(" ".join(texts))


def make(settings: dict[str, Any], label: Label) -> KeywordPolicy:
    return KeywordPolicy(label)
