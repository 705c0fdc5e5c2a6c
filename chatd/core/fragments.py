"""Personal information sent in pieces: an author's recent texts in one conversation, checked together.

"my number is 613", "555", "0142 text me" pass one by one; joined, they are a phone number. The
window keeps each author's last few delivered texts per conversation for a short while and has
the policies read them joined, for personal information only, when the newest text and an earlier
one within reach carry a sign of a piece and the texts joined could hold a number, an email, a link
or a handle. Only the earlier texts within REACH characters of the newest are read: a piece that
crosses into the newest text begins there. When the newest text completes a piece of personal
information (a number begun earlier, or a handle announced earlier), the newest is redacted where it
takes part, and the earlier texts that take part are named for retraction. Pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

from policies import Action, Context, Finding, Label, Verdict
from policies.normalize import NUMBER_WORDS, WORD_RUN, number_word_runs
from policies.pii import PLATFORMS, may_hold_structured

# What members split on purpose: numbers, addresses and handles, not names or places.
PIECE_KINDS = frozenset(
    {"pii.phone", "pii.email", "pii.sin", "pii.postal_code", "pii.handle", "pii.address", "pii.url"}
)
# A text that can take part in such a piece: digits, email signs, platforms named, or number words that
# can join a number (normalize reads three in a row as digits): two in a row, or one at an edge of the text,
# where the number may go on in the text before or after.
PIECE_MARK = re.compile(r"\d|@|[._](?<=\w[._])(?=\w)")  # "." or "_" between word characters, sought first
PIECE_WORDS = frozenset(
    {"at", "arobase", "dot", "point", "pt", "com", "ca", "net", "org", "apt", "app", "unit", *PLATFORMS}
)
EDGE = re.compile(r"[\s,.-]*")
RULE = "no-personal-info"
# How far before the newest text a piece crossing into it may begin, its announcing words included (the
# detectors look at most 30 characters back): the earlier texts are read back until this many characters.
REACH = 100

Review = Callable[[str, Context], Verdict]


@dataclass(frozen=True, slots=True)
class Piece:
    """A delivered text: its archive id, the id recipients know it by, the text as delivered."""

    stanza_id: str
    client_id: str | None
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Completion:
    """The newest text completed a piece of personal information begun in earlier texts."""

    verdict: Verdict  # for the newest text: redacted where it takes part
    earlier: tuple[Piece, ...]  # the earlier texts that take part, to retract
    joined: str  # the texts as checked together, for the Wall Guides
    joined_verdict: Verdict  # its findings, on the joined text

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({f.kind for f in self.joined_verdict.findings}))


class FragmentWindow:
    """Each author's recent texts per conversation (key), bounded in time, count, length and keys."""

    def __init__(
        self,
        label: Label,
        seconds: float = 600.0,
        max_pieces: int = 8,
        max_chars: int = 80,
        max_keys: int = 20_000,
    ) -> None:
        self._label = label
        self.seconds = seconds
        self.max_pieces = max_pieces
        self.max_chars = max_chars
        self.max_keys = max_keys
        self._recent: OrderedDict[Hashable, list[tuple[Piece, bool]]] = OrderedDict()  # with its sign, read once

    def __len__(self) -> int:
        return len(self._recent)

    def add(self, key: Hashable, piece: Piece, verdict: Verdict, context: Context, review: Review) -> Completion | None:
        """The newest delivered text (piece, with its own verdict); a Completion when it completes a piece."""
        kept = [(p, sign) for p, sign in self._recent.pop(key, []) if piece.at - p.at <= self.seconds]
        kept = kept[-(self.max_pieces - 1) :]
        reached = self._within_reach(kept)
        own_sign = is_piece_sign(piece.text)
        signed = own_sign and any(sign for _, sign in reached)
        completion = self._check([p for p, _ in reached], piece, verdict, context, review) if signed else None
        if completion is None:
            self._keep(key, [*kept, (piece, own_sign)])
        return completion

    def _within_reach(self, kept: list[tuple[Piece, bool]]) -> list[tuple[Piece, bool]]:
        """The latest earlier texts, as many as reach REACH characters before the newest (at least one)."""
        length, start = 0, len(kept)
        while start > 0 and length < REACH:
            start -= 1
            length += len(self._clip(kept[start][0].text)) + 1
        return kept[start:]

    def _keep(self, key: Hashable, pieces: list[tuple[Piece, bool]]) -> None:
        self._recent[key] = pieces
        while len(self._recent) > self.max_keys:
            self._recent.popitem(last=False)

    def _check(
        self, earlier: list[Piece], piece: Piece, verdict: Verdict, context: Context, review: Review
    ) -> Completion | None:
        spans: list[tuple[int, int]] = []
        texts: list[str] = []
        position = 0
        for text in [*(self._clip(p.text) for p in earlier), piece.text]:
            spans.append((position, position + len(text)))
            texts.append(text)
            position += len(text) + 1
        joined = " ".join(texts)
        if not may_hold_structured(joined):  # no number, email, link or handle can be made of these texts
            return None
        newest = spans[-1][0]
        checked = review(joined, replace(context, recent_messages=0))
        if checked.action is Action.DELIVER:
            return None
        # the newest text alone had none of these (it would have been redacted): the earlier texts made them
        crossing = [f for f in checked.findings if f.kind in PIECE_KINDS and f.end > newest]
        if not crossing:
            return None
        taking_part = tuple(p for p, span in zip(earlier, spans, strict=False) if _touched(span, crossing))
        own = [_shifted(f, newest) for f in crossing]
        text = self._redact(piece.text, own, context.language)
        rules = tuple(dict.fromkeys((*verdict.rules, *(f.rule for f in own))))
        newest_verdict = Verdict(Action.REDACT, text, (*verdict.findings, *own), verdict.alerts, rules)
        joined_verdict = Verdict(Action.REDACT, checked.text, tuple(crossing), (), (RULE,))
        return Completion(newest_verdict, taking_part, joined, joined_verdict)

    def _clip(self, text: str) -> str:
        """A long text takes part with its beginning and its end only."""
        if len(text) <= self.max_chars:
            return text
        half = self.max_chars // 2
        return f"{text[:half]} ~ {text[-half:]}"

    def _redact(self, text: str, findings: list[Finding], language: str) -> str:
        pieces: list[str] = []
        position = 0
        for finding in sorted(findings, key=lambda f: f.start):
            if finding.start < position:
                position = max(position, finding.end)
                continue
            pieces += [text[position : finding.start], self._label(finding.kind, language)]
            position = finding.end
        pieces.append(text[position:])
        return "".join(pieces)


def is_piece_sign(text: str) -> bool:
    """Whether the text can take part in a piece of personal information (PIECE_MARK, PIECE_WORDS, number words)."""
    if PIECE_MARK.search(text):
        return True
    lower = text.lower()
    words = WORD_RUN.findall(lower)
    if not PIECE_WORDS.isdisjoint(words):
        return True
    if NUMBER_WORDS.isdisjoint(words):  # the runs are made of these alone
        return False
    return any(
        count >= 2 or EDGE.fullmatch(lower, 0, start) or EDGE.fullmatch(lower, end)
        for count, start, end in number_word_runs(lower)
    )


def _touched(span: tuple[int, int], findings: list[Finding]) -> bool:
    return any(f.start < span[1] and span[0] < f.end for f in findings)


def _shifted(finding: Finding, offset: int) -> Finding:
    """A finding on the joined text, as the part of it in the text that starts at offset."""
    start = max(finding.start, offset) - offset
    return replace(finding, start=start, end=finding.end - offset, rule=finding.rule or RULE)
