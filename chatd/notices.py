"""What an author is told about a verdict, in the realm's language: one wording for chats and rooms."""

from __future__ import annotations

from chatd import i18n
from chatd.core.refusal import Refusal
from policies import Verdict


def rules_text(verdict: Verdict, language: str) -> str:
    return " ".join(i18n.text(language, f"rule.{rule}") for rule in verdict.rules) or "-"


def rejection(verdict: Verdict, language: str) -> Refusal:
    """The error a rejected text gets: the house rules that applied."""
    return Refusal("not-acceptable", "error.rejected", kind="modify", params={"rule": rules_text(verdict, language)})


def redaction_params(verdict: Verdict, language: str) -> dict[str, str]:
    """The "notice.redacted" parameters: what kinds were removed and which house rules apply."""
    kinds = ", ".join(sorted({i18n.label(f.kind, language) for f in verdict.findings}))
    return {"kinds": kinds, "rule": rules_text(verdict, language)}
