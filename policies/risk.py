"""Risk phrases (suicide, self-harm, abuse, violence, overdose) in English and French.

Phrases come from the bilingual lexicons risk_en.tsv and risk_fr.tsv and are matched as
whole words on the normalized text with leetspeak undone. Where risk phrases overlap, the
longest wins. An idiom ("killing time", "mort de rire", "en finir avec") silences every
risk phrase it overlaps that does not run past its end: "je veux en finir avec ce
dossier" is silent, "je veux en finir avec la vie" is not.

Negation: a phrase preceded in the same clause by a negation ("I'm not going to kill
myself", "je ne vais pas me tuer") still counts, one severity level lower but never
below 1: clinicians prefer recall, and a denial is worth a Wall Guide's glance. Phrases
that carry their own negation ("don't want to live anymore") keep their severity.
"""

from __future__ import annotations

import re

from policies.kinds import Hit
from policies.lexicon import WordHit, expand, longest_first, read_rows
from policies.normalize import Normalized

LEXICONS = ("risk_en.tsv", "risk_fr.tsv")
IDIOM = "idiom"
NEGATION = re.compile(
    r"\b(?:not|never|don't|dont|do not|won't|wont|wouldn't|wouldnt|would never|isn't|no way"
    r"|ain't|pas|jamais|point|aucunement)\b"
)
CLAUSE_BREAK = re.compile(r"[.;!?,]|\b(?:but|mais|and then|puis)\b")
NEGATION_WINDOW = 24  # characters before the phrase searched for a negation


class RiskDetector:
    """Matched by the engine's word matcher: entries are its phrases, find gets their hits."""

    def __init__(self, lexicons: tuple[str, ...] = LEXICONS) -> None:
        self.entries: list[tuple[str, tuple[str, int]]] = []
        for name in lexicons:
            for phrase, category, severity in read_rows(name):
                self.entries += [(form, (category, int(severity))) for form in expand(phrase)]

    def find(self, norm: Normalized, words: list[WordHit]) -> list[Hit]:
        """Risk findings from the hits of this detector's entries on the lower and leet text."""
        found = set(words)
        idioms = [(start, end) for start, end, (category, _) in found if category == IDIOM]
        risks = [hit for hit in found if hit[2][0] != IDIOM]
        hits: list[Hit] = []
        for start, end, (category, severity) in longest_first(risks):
            if any(start < i_end and i_start < end and end <= i_end for i_start, i_end in idioms):
                continue
            if _negated(norm.leet, start):
                severity = max(1, severity - 1)
            hits.append((f"risk.{category}", severity, start, end))
        return hits


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - NEGATION_WINDOW) : start]
    clause = CLAUSE_BREAK.split(before)[-1]
    return NEGATION.search(clause) is not None
