"""Risk cue phrases as the word matcher sees them, and their parts joined again in a text.

A lexicon phrase becomes its folded forms (policies/risk.py describes the notation). A
phrase with a " ... " gap, or with too many forms, is matched in parts that must follow
each other closely. Most parts are everyday words ("j'ai", "again", "my unit"): a text
finds about a hundred of them and completes about one phrase. So the matcher gets one
payload per key (Key: its whole cues, and the phrases whose designated part, the part
least shared with other phrases, it is a form of), each hit costs one step, and a phrase
is looked at only when its designated part is found: joined when all its parts are there.
Keys that stand for the same cues and parts (the inflections of one part) share one Key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from policies.lexicon import WordHit, expand, match_key, read_rows

GAP_WORDS = 5
MAX_FORMS = 200  # forms of one part before it is cut in two
SENTENCE_BREAK = re.compile(r"[.!?;\n]+|\s(?:but|mais|though|anyway|bref)\s")
WORD = re.compile(r"[\w']+")
LEMMA = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True, slots=True, eq=False)  # one object per cue: compared by identity
class Cue:
    signal: str  # "construct" or "construct:detail", or "!modifier"
    weight: float
    language: str
    words: int  # words in the phrase: one-word cues of the other language are ignored
    parts: int = 1  # for phrases in parts, how many
    phrase_id: int = 0
    gap: int = 0  # words allowed between two parts

    @property
    def construct(self) -> str:
        return self.signal.split(":", 1)[0]

    def counts_in(self, language: str) -> bool:
        return self.language == language or self.words >= 2


CueHit = tuple[int, int, Cue]


@dataclass(frozen=True, slots=True, eq=False)
class Key:
    """What one matcher key stands for ("i'm" and "i m" are one key)."""

    cues: tuple[Cue, ...]  # whole cues, in lexicon order
    one_word: bool  # some of them count only in their own language
    triggers: tuple[int, ...]  # the phrases (indexes in CueIndex.phrases) whose designated part it is a form of


@dataclass(frozen=True, slots=True)
class Phrase:
    cue: Cue  # signal, weight, language, words, parts and gap of the phrase
    parts: tuple[frozenset[Key], ...]  # the keys of each part's forms, in order
    others: tuple[frozenset[Key], ...]  # the parts but the designated one, smallest first (what a trigger checks)


@dataclass(eq=False)
class _Draft:  # a Key while the lexicons are read
    form: str
    cues: list[Cue] = field(default_factory=list)
    one_word: bool = False
    parts: list[tuple[int, int]] = field(default_factory=list)  # (phrase, part) it is a form of
    triggers: list[int] = field(default_factory=list)


class CueIndex:
    """The cue lexicons as matcher entries (one per key), and the cues of a text from its hits."""

    def __init__(self, lexicons: dict[str, str]) -> None:
        drafts: dict[str, _Draft] = {}  # by matcher key
        phrases: list[tuple[Cue, list[dict[_Draft, None]]]] = []  # in parts: the drafts of each part
        phrase_id = 0
        for language, name in lexicons.items():
            for row in read_rows(name):
                phrase, signal = row[0], row[1]
                weight = float(row[2]) if len(row) > 2 and row[2] else 0.0
                phrase_id += 1
                for gap, part_list in _parts(phrase, language):
                    cue = Cue(signal, weight, language, len(phrase.split()), len(part_list), phrase_id, gap)
                    phrase_id += 1
                    if len(part_list) > 1:
                        phrases.append((cue, [{_draft(drafts, form): None for form in forms} for forms in part_list]))
                        continue
                    for form in part_list[0]:
                        draft = _draft(drafts, form)
                        if not draft.cues or draft.cues[-1] is not cue:  # two forms, one key: "i'm", "i m"
                            draft.cues.append(cue)
                            draft.one_word |= cue.words < 2
        for index, (_, parts) in enumerate(phrases):
            for number, part in enumerate(parts):
                for draft in part:
                    draft.parts.append((index, number))
        designated = []
        for index, (_, parts) in enumerate(phrases):
            shared_by = [max((len(d.parts) for d in part), default=0) for part in parts]
            designated.append(shared_by.index(min(shared_by)))
            for draft in parts[designated[-1]]:
                draft.triggers.append(index)
        # keys that stand for the same cues and parts share one Key: a few thousand for 200,000 keys
        shared: dict[tuple[object, ...], Key] = {}
        keys: dict[_Draft, Key] = {}
        for draft in drafts.values():
            signature = (tuple(draft.cues), tuple(draft.triggers), *draft.parts)
            if signature not in shared:
                shared[signature] = Key(tuple(draft.cues), draft.one_word, tuple(draft.triggers))
            keys[draft] = shared[signature]
        self.entries = [(draft.form, key) for draft, key in keys.items()]
        self.phrases = []
        for (cue, parts), chosen in zip(phrases, designated, strict=True):
            sets = tuple(frozenset(keys[d] for d in part) for part in parts)
            others = sorted((part for number, part in enumerate(sets) if number != chosen), key=len)
            self.phrases.append(Phrase(cue, sets, tuple(others)))

    def cues(self, text: str, words: Sequence[WordHit], language: str) -> list[CueHit]:
        """The cues of the text's language found in it: whole cues in the matcher's order, then
        phrases joined from their parts in the order their first part was found.

        words: the matcher's hits of Key payloads, each once."""
        found: list[CueHit] = [
            (s, e, c) for s, e, w in words for c in w.cues if not w.one_word or c.counts_in(language)
        ]
        found = list(dict.fromkeys(found))  # one cue by two keys at one span (lower and leet views)
        at: dict[Key, list[tuple[int, int, int]]] = {}  # where each key was found: (index in words, start, end)
        for index, (start, end, key) in enumerate(words):
            at.setdefault(key, []).append((index, start, end))
        present = at.keys()
        triggered = {index for key in present for index in key.triggers}
        joined: list[tuple[int, int, CueHit]] = []
        for index in triggered:
            phrase = self.phrases[index]
            if not any(map(present.isdisjoint, phrase.others)) and phrase.cue.counts_in(language):
                spans = [sorted(hit for key in part.intersection(present) for hit in at[key]) for part in phrase.parts]
                whole = _join(text, phrase.cue, spans)
                if whole:
                    joined.append((min(part[0][0] for part in spans), index, whole))
        return found + [whole for _, _, whole in sorted(joined)]


def _draft(drafts: dict[str, _Draft], form: str) -> _Draft:
    key = match_key(form)
    draft = drafts.get(key)
    if draft is None:
        draft = drafts[key] = _Draft(form)
    return draft


def _join(text: str, cue: Cue, spans: Sequence[list[tuple[int, int, int]]]) -> CueHit | None:
    """The first whole phrase from its parts' spans: each part after the one before, close to it."""
    for _, first_start, first_end in spans[0]:
        end = first_end
        for index in range(1, cue.parts):
            following = next((e for _, s, e in spans[index] if s >= end and _close(text, end, s, cue.gap)), None)
            if following is None:
                break
            end = following
        else:
            return first_start, end, Cue(cue.signal, cue.weight, cue.language, cue.words, cue.parts)
    return None


def _close(text: str, end: int, start: int, gap: int) -> bool:
    between = text[end:start]
    return len(WORD.findall(between)) <= gap and SENTENCE_BREAK.search(between) is None


def _parts(phrase: str, language: str) -> list[tuple[int, list[set[str]]]]:
    """The phrase as parts to match: its " ... " pieces (GAP_WORDS apart), and pieces with many
    forms cut further at word boundaries into adjacent parts, so that forms are summed, not multiplied."""
    pieces = [piece.strip() for piece in phrase.split("...")]
    if len(pieces) > 1:
        return [(GAP_WORDS, [_forms(piece, language) for piece in pieces])]
    return [(0, [_forms(piece, language) for piece in _cut(phrase, language)])]


def _cut(phrase: str, language: str) -> list[str]:
    """Cuts a phrase whose forms are too many at the word boundary that balances the two halves best."""
    if _count(phrase, language) <= MAX_FORMS:
        return [phrase]
    best: tuple[int, int] | None = None
    depth = 0
    for index, char in enumerate(phrase):
        depth += (char == "{") - (char == "}")
        if char == " " and depth == 0 and not _elided(phrase[:index]):
            left, right = phrase[:index].strip(), phrase[index + 1 :].strip()
            if _may_be_empty(left) or _may_be_empty(right):  # a part must always match something
                continue
            cost = _count(left, language) + _count(right, language) + _common(left) + _common(right)
            if best is None or cost < best[0]:
                best = (cost, index)
    if best is None:
        return [phrase]
    return _cut(phrase[: best[1]].strip(), language) + _cut(phrase[best[1] + 1 :].strip(), language)


def _elided(before: str) -> bool:
    """Whether a phrase piece may end in an elision ("m'", "{me|m'}"), which joins the next word."""
    return before.endswith("'") or (
        before.endswith("}") and re.search(r"'[|}]", before[before.rfind("{") :]) is not None
    )


def _may_be_empty(piece: str) -> bool:
    """Whether every word of a piece is optional ("{demain|bientot|}")."""
    return any(not text.strip() for text in _alternatives(LEMMA.sub("x", piece)))


def _common(piece: str) -> int:
    """A cost for a part whose shortest form is a short, everyday word ("me", "he", "and")."""
    shortest = min((len(text) for text in _alternatives(LEMMA.sub("x" * 9, piece))), default=0)
    return 10_000 if shortest <= 3 else 0


def _count(phrase: str, language: str) -> int:
    return len(_alternatives(LEMMA.sub(lambda m: "{" + "|".join(_inflections(language, m.group(1))) + "}", phrase)))


def _forms(phrase: str, language: str) -> set[str]:
    """Folded forms of a phrase, with every inflection of each <lemma> (also inside {a|b})."""

    def inflect(match: re.Match[str]) -> str:
        forms = "|".join(sorted(_inflections(language, match.group(1))))
        inside = phrase.count("{", 0, match.start()) > phrase.count("}", 0, match.start())
        return forms if inside else "{" + forms + "}"

    texts = _alternatives(LEMMA.sub(inflect, phrase))
    return {form for text in texts for form in expand(re.sub(r"'\s+", "'", text))}  # "m' a" is "m'a"


def _alternatives(phrase: str) -> list[str]:
    """Every text a phrase with {a|b} alternatives stands for; braces may nest."""
    start = phrase.find("{")
    if start < 0:
        return [phrase]
    depth, cut, options = 0, start + 1, []
    for index in range(start, len(phrase)):
        char = phrase[index]
        depth += (char == "{") - (char == "}")
        if depth == 1 and char == "|":
            options.append(phrase[cut:index])
            cut = index + 1
        elif depth == 0:
            options.append(phrase[cut:index])
            rest = _alternatives(phrase[index + 1 :])
            head = phrase[:start]
            return [head + choice + tail for option in options for choice in _alternatives(option) for tail in rest]
    raise ValueError(f"unbalanced braces in risk phrase: {phrase!r}")


@cache
def _inflection_table() -> dict[tuple[str, str], frozenset[str]]:
    """(language, lemma) -> forms, from inflections.tsv (built from simplemma by build_inflections.py)."""
    return {(row[0], row[1]): frozenset(row[2].split()) for row in read_rows("inflections.tsv")}


def _inflections(language: str, lemma: str) -> set[str]:
    forms: set[str] = set()
    for word in lemma.split("|"):
        forms |= {word, *_inflection_table().get((language, word), ())}
    return forms
