"""Risk by clinical construct, in English and French, composed into one severity.

The cue lexicons (risk_en.tsv, risk_fr.tsv) name what each phrase signals: a construct
("means:firearm", "burden", "attempt:ingested") with a weight, or a modifier ("!past",
"!ordinary", "!idiom" ...). Matching is on whole words of the normalized text with
leetspeak undone; `<lemma>` in a phrase stands for every inflection of that lemma
(inflections.tsv, built from simplemma's dictionaries), and ` ... ` lets up to GAP_WORDS
words stand between two parts of a phrase within one sentence. Negations and the author as
subject are found by a pattern per language (NEGATION, SELF) near each cue.

Composition: each construct keeps its strongest cue; the text's score is the sum of its
constructs' weights (time counts only beside another construct). One weak signal alone
(a means mentioned, a bad day) stays below an alert; two constructs together (means and a
time, burdensomeness and finality) reach one; an attempt in progress, or means with
intent, is the highest. Modifiers lower self-directed signals: a negation just before the
cue, another person as the subject, a past and resolved experience, fiction or news,
ordinary use of an object (range day, prescribed pills), a joke marker; an idiom silences
the cues it covers ("this heat is killing me", "mort de rire").

The same composition runs over an author's recent texts (assess_recent), so that signals
spread over several short messages raise one alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from policies.kinds import RISK_ORDER, Hit
from policies.lexicon import WordHit, expand, read_rows
from policies.normalize import Normalized

LEXICONS = {"en": "risk_en.tsv", "fr": "risk_fr.tsv"}
GAP_WORDS = 5
MAX_FORMS = 200  # forms of one part before it is cut in two
SENTENCE_BREAK = re.compile(r"[.!?;\n]+|\s(?:but|mais|though|anyway|bref)\s")
WORD = re.compile(r"[\w']+")
LEMMA = re.compile(r"<([^<>]+)>")

# severity from the composed score
SEVERE, MEDIUM, LOW = 3.0, 2.0, 0.75
SECOND_CUE = 0.5  # share of a second cue's weight that adds to its construct's
# how much of a signal each modifier keeps
NEGATED = 0.3
OTHER_PERSON = 0.3
HELPING_OTHERS = 0.4
PAST = 0.35
FICTION = 0.35
ORDINARY_USE = 0.2
JOKE = 0.6
REASSURED = 0.5
TEMPORARY = 0.3
# constructs about someone else's harm
OUTWARD = frozenset({"harm_from_others", "harm_to_others"})
# constructs whose cues name other people by nature ("they'd be better off without me")
ABOUT_OTHERS = OUTWARD | {"burden", "command_voices", "time", "farewell"}
# constructs that ordinary use of an object explains ("range day tonight", "wrote my will before deployment")
OBJECTS = frozenset({"means", "time", "self_harm", "farewell", "plan", "attempt"})
# what a temporary absence explains ("my last message for a week", "disappear to Florida till April")
TEMPORARY_CONSTRUCTS = frozenset({"passive_ideation", "hopelessness", "farewell", "plan", "intent"})
# modifiers that frame an author's neighbouring texts too (assess_recent)
WINDOW_MARKS = frozenset({"ordinary", "temporary", "fiction", "help_other"})
NEGATION_WORDS = 2  # a negation counts when at most this many words stand between it and the cue
NEGATION = {
    "en": re.compile(r"\b(?:no|not|never|don't|dont|won't|wont|wouldn't|wouldnt|isn't|isnt|aint|ain't|nor)\b"),
    "fr": re.compile(r"\b(?:pas|ne|jamais|aucunement|point|nullement|non)\b|\bn'"),
}
# the author as subject: "my brother has guns but I ..." is about the author again
SELF = {
    "en": re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|my|myself|mine)\b"),
    "fr": re.compile(r"\b(?:je|moi|me|mon|ma|mes|chu|jsuis)\b|\b[jm]'"),
}
DIGIT = re.compile(r"\d")
# medication quantities: "30 x 100mg", "90 pills", "2 bottles"
QUANTITY = re.compile(
    r"\b\d{1,3}\s*(?:x\s*\d+\s*mg\b|(?:extra[ -]strength\s+)?(?:pills|tablets|tabs|caps|capsules|comprim[eé]s|"
    r"pilules|cachets|bottles|bouteilles|boxes|boites|bo[iî]tes|pots|flacons|mg)\b)"
)


@dataclass(frozen=True, slots=True, eq=False)  # one object per phrase part: compared by identity
class Cue:
    signal: str  # "construct" or "construct:detail", or "!modifier"
    weight: float
    language: str
    words: int  # words in the phrase: one-word cues of the other language are ignored
    part: int = 0  # for phrases in parts: which part, and how many parts
    parts: int = 1
    phrase_id: int = 0
    gap: int = 0  # words allowed between two parts

    @property
    def construct(self) -> str:
        return self.signal.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Signal:
    signal: str
    weight: float
    start: int
    end: int

    @property
    def construct(self) -> str:
        return self.signal.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Assessment:
    severity: int
    score: float
    signals: tuple[Signal, ...]  # the strongest signal of each construct that counted, strongest first

    @property
    def kind(self) -> str:
        return f"risk.{self.signals[0].construct}" if self.signals else ""

    def names(self) -> tuple[str, ...]:
        return tuple(s.signal for s in self.signals)


NOTHING = Assessment(0, 0.0, ())
QUANTITY_CUE = Cue("means:medication", 2.0, "", 2)


class RiskDetector:
    """Matched by the engine's word matcher: entries are its phrases, assess reads their hits."""

    def __init__(self, lexicons: dict[str, str] = LEXICONS) -> None:
        self.entries: list[tuple[str, Cue]] = []
        phrase_id = 0
        for language, name in lexicons.items():
            for row in read_rows(name):
                phrase, signal = row[0], row[1]
                weight = float(row[2]) if len(row) > 2 and row[2] else 0.0
                phrase_id += 1
                for gap, part_list in _parts(phrase, language):
                    for index, forms in enumerate(part_list):
                        cue = Cue(signal, weight, language, len(phrase.split()), index, len(part_list), phrase_id, gap)
                        self.entries += [(form, cue) for form in forms]
                    phrase_id += 1

    def find(self, norm: Normalized, words: list[WordHit], language: str) -> tuple[list[Hit], Assessment]:
        """Findings (one per counted signal, with the composed severity) and the assessment."""
        assessment = self.assess(norm.leet, words, language)
        hits: list[Hit] = [(f"risk.{s.construct}", assessment.severity, s.start, s.end) for s in assessment.signals]
        return hits, assessment

    def assess(self, text: str, words: list[WordHit], language: str) -> Assessment:
        return compose([self.signals(text, self.cues(text, words, language), language)])

    def signals(
        self,
        text: str,
        cues: Sequence[tuple[int, int, Cue]],
        language: str,
        context_marks: frozenset[str] = frozenset(),
    ) -> list[Signal]:
        """What one text signals, after its modifiers, strongest per construct.

        context_marks: modifiers found in the author's other recent texts that frame this one too
        ("for the tent" after "bought some rope"); see WINDOW_MARKS."""
        if not cues:
            return []
        idioms = [(s, e) for s, e, c in cues if c.signal == "!idiom"]
        marks = {c.signal[1:] for _, _, c in cues if c.signal.startswith("!")} | context_marks
        breaks = [m.end() for m in SENTENCE_BREAK.finditer(text)]
        found: list[Signal] = []
        for start, end, cue in _longest_first([hit for hit in cues if not hit[2].signal.startswith("!")]):
            if any(i_start <= start and end <= i_end for i_start, i_end in idioms):
                continue
            weight = cue.weight * self._kept(text, (start, end), cue, cues, marks, breaks, language)
            if weight > 0.05:
                found.append(Signal(cue.signal, weight, start, end))
        return found

    def cues(self, text: str, words: list[WordHit], language: str) -> list[tuple[int, int, Cue]]:
        """The cues of the text's language found in it, parts of phrases joined."""
        # the lower and leet views overlap; dict keeps the matcher's order, the same on every run
        found = list(dict.fromkeys(hit for hit in words if hit[2].language == language or hit[2].words >= 2))
        cues = _whole_phrases(text, found)
        if DIGIT.search(text):
            cues += [(m.start(), m.end(), QUANTITY_CUE) for m in QUANTITY.finditer(text)]
        return cues

    @staticmethod
    def window_marks(cues: Sequence[tuple[int, int, Cue]]) -> frozenset[str]:
        """The modifiers of one text that also frame the author's neighbouring texts."""
        return frozenset(c.signal[1:] for _, _, c in cues) & WINDOW_MARKS

    def _kept(
        self,
        text: str,
        span: tuple[int, int],
        cue: Cue,
        cues: Sequence[tuple[int, int, Cue]],
        marks: set[str],
        breaks: list[int],
        language: str,
    ) -> float:
        """The share of a cue's weight its modifiers leave."""
        start, end = span
        sentence_start = max((b for b in breaks if b <= start), default=0)
        kept = 1.0
        construct = cue.construct
        before = text[max(sentence_start, start - 40) : start]
        before = before[before.rfind(",") + 1 :]  # a negation does not reach past a comma
        words_before = WORD.findall(before)[-NEGATION_WORDS - 1 :]
        if NEGATION[language].search(" ".join(words_before)):
            kept *= NEGATED
        others = [e for s, e, c in cues if sentence_start <= s <= start and c.signal == "!other_person"]
        if construct not in ABOUT_OTHERS and others and not SELF[language].search(text, max(others), end):
            kept *= OTHER_PERSON
        if "help_other" in marks and construct not in ABOUT_OTHERS:
            kept *= HELPING_OTHERS
        if "past" in marks and "present" not in marks:
            kept *= PAST
        if "fiction" in marks:
            kept *= FICTION
        if "ordinary" in marks and construct in OBJECTS:
            kept *= ORDINARY_USE
        if "temporary" in marks and construct in TEMPORARY_CONSTRUCTS:
            kept *= TEMPORARY
        if "joke" in marks and cue.weight < SEVERE:
            kept *= JOKE
        if "reassure" in marks and construct != "harm_to_others":  # "I'm safe now", "he's far away"
            kept *= REASSURED
        return kept


def compose(texts: Iterable[Sequence[Signal]]) -> Assessment:
    """One severity for the signals of one or several texts: strongest per construct, summed."""
    strongest: dict[str, Signal] = {}
    runner_up: dict[str, float] = {}  # a second cue of the same construct adds a part of its weight
    for signals in texts:
        for signal in signals:
            kept = strongest.get(signal.construct)
            if kept is None or signal.weight > kept.weight:
                strongest[signal.construct] = signal
                signal, kept = (kept, signal) if kept else (signal, signal)
            if signal is not kept and signal.construct != "time":
                runner_up[signal.construct] = max(runner_up.get(signal.construct, 0.0), signal.weight)
    if not strongest:
        return NOTHING
    ordered = sorted(strongest.values(), key=lambda s: (-s.weight, RISK_ORDER.index(s.construct)))
    others = [s for s in ordered if s.construct != "time"]
    if not others:
        return NOTHING
    score = sum(s.weight for s in ordered) + SECOND_CUE * sum(runner_up.values())
    lexical = score - (strongest["wording"].weight if "wording" in strongest else 0.0)
    # the model's reading can raise an alert, never make it severe (severe sends crisis resources)
    severity = 3 if lexical >= SEVERE else 2 if score >= MEDIUM else 1 if score >= LOW else 0
    if not severity:
        return NOTHING
    counted = [s for s in ordered if s.weight >= 0.5] or ordered[:1]
    if counted[0].construct == "time":
        counted = [*others[:1], *(s for s in counted if s is not others[0])]
    return Assessment(severity, score, tuple(counted))


def _whole_phrases(text: str, hits: list[tuple[int, int, Cue]]) -> list[tuple[int, int, Cue]]:
    """Single-part cues as they are; the parts of gapped phrases joined when in order and close."""
    whole = []
    parts: dict[int, dict[int, list[tuple[int, int]]]] = {}
    first: dict[int, Cue] = {}
    for start, end, cue in hits:
        if cue.parts == 1:
            whole.append((start, end, cue))
        else:
            phrase = parts.get(cue.phrase_id)
            if phrase is None:
                phrase = parts[cue.phrase_id] = {}
                first[cue.phrase_id] = cue
            spans = phrase.get(cue.part)
            if spans is None:
                phrase[cue.part] = [(start, end)]
            else:
                spans.append((start, end))
    for phrase_id, by_part in parts.items():
        cue = first[phrase_id]
        if len(by_part) < cue.parts:
            continue
        for first_start, first_end in by_part[0]:
            end = first_end
            for index in range(1, cue.parts):
                following = [(s, e) for s, e in by_part[index] if s >= end and _close(text, end, s, cue.gap)]
                if not following:
                    break
                end = following[0][1]
            else:
                whole.append((first_start, end, Cue(cue.signal, cue.weight, cue.language, cue.words, 0, cue.parts)))
                break
    return whole


def _close(text: str, end: int, start: int, gap: int) -> bool:
    between = text[end:start]
    return len(WORD.findall(between)) <= gap and SENTENCE_BREAK.search(between) is None


def _longest_first(hits: list[tuple[int, int, Cue]]) -> list[tuple[int, int, Cue]]:
    """Overlapping cues of one construct keep the strongest; a cue inside a longer phrase is dropped."""
    kept: list[tuple[int, int, Cue]] = []
    for hit in sorted(hits, key=lambda h: (-h[2].weight, h[0] - h[1], h[0], h[2].phrase_id)):
        if any(
            (k[2].construct == hit[2].construct and hit[0] < k[1] and k[0] < hit[1])
            or (k[2].parts == 1 and k[0] <= hit[0] and hit[1] <= k[1] and k[1] - k[0] > hit[1] - hit[0])
            for k in kept
        ):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda h: h[0])


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
