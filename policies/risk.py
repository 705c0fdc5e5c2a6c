"""Risk by clinical construct, in English and French, composed into one severity.

The cue lexicons (risk_en.tsv, risk_fr.tsv) name what each phrase signals: a construct
("means:firearm", "burden", "attempt:ingested") with a weight, or a modifier ("!past",
"!ordinary", "!idiom" ...). Matching is on whole words of the normalized text with
leetspeak undone; `<lemma>` in a phrase stands for every inflection of that lemma
(inflections.tsv, built from simplemma's dictionaries), and ` ... ` lets up to GAP_WORDS
words stand between two parts of a phrase within one sentence (policies/cues.py matches
phrases). Negations and the author as subject are found by a pattern per language
(NEGATION, SELF) near each cue.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from policies.cues import SENTENCE_BREAK, WORD, Cue, CueIndex
from policies.kinds import RISK_ORDER, Hit
from policies.lexicon import WordHit
from policies.normalize import Normalized

LEXICONS = {"en": "risk_en.tsv", "fr": "risk_fr.tsv"}

# severity from the composed score
SEVERE, MEDIUM, LOW = 3.0, 2.0, 0.75
SHORT_WORDS, PLAIN_WORDS = 5, 8  # texts the cues decide without the model (cues_decide)
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
SAFETY_ANSWERS = 0.5  # a cue at least this strong after modifiers, not negated, is not answered by a denial
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
# words a negation reaches across to its cue: "I don't have any thoughts of ending my life"
NEGATED_NOUNS = {
    "en": frozenset(
        "have had having any thoughts thought plans plan intention intentions urge urges desire wish "
        "idea ideas of to about on".split()
    ),
    "fr": frozenset("idée idées idee idees pensée pensées pensee pensees envie intention plan plans de d du".split()),
}
# the author as subject: "my brother has guns but I ..." is about the author again
SELF = {
    "en": re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|my|myself|mine)\b"),
    "fr": re.compile(r"\b(?:je|moi|me|mon|ma|mes|chu|jsuis)\b|\b[jm]'"),
}
DIGIT = re.compile(r"\d")
# medication quantities: "30 x 100mg", "90 pills", "2 bottles" (\d(?<!\w\d) is \b\d, found faster)
QUANTITY = re.compile(
    r"\d(?<!\w\d)\d{0,2}\s*(?:x\s*\d+\s*mg\b|(?:extra[ -]strength\s+)?(?:pills|tablets|tabs|caps|capsules|comprim[eé]s|"
    r"pilules|cachets|bottles|bouteilles|boxes|boites|bo[iî]tes|pots|flacons|mg)\b)"
)


@dataclass(frozen=True, slots=True)
class Signal:
    signal: str
    weight: float
    start: int
    end: int
    negated: bool = False  # a negation stands just before its cue ("I don't want to die")

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
        self._index = CueIndex(lexicons)
        self.entries = self._index.entries

    def find(
        self,
        norm: Normalized,
        cues: Sequence[tuple[int, int, Cue]],
        language: str,
        doubted: Callable[[], bool] | None = None,
    ) -> tuple[list[Hit], Assessment]:
        """Findings (one per counted signal, with the composed severity) and the assessment of the cues found in
        norm.leet (cues). doubted: whether the model's reading doubts a severe score (compose); asked only of
        texts it reads."""
        assessment = self.assess(norm.leet, cues, language, doubted)
        hits: list[Hit] = [(f"risk.{s.construct}", assessment.severity, s.start, s.end) for s in assessment.signals]
        return hits, assessment

    def assess(
        self,
        text: str,
        cues: Sequence[tuple[int, int, Cue]],
        language: str,
        doubted: Callable[[], bool] | None = None,
    ) -> Assessment:
        signals = self.signals(text, cues, language)
        return compose([signals], doubted=None if cues_decide(text, signals) else doubted)

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
        signs = [hit for hit in cues if not hit[2].signal.startswith("!")]
        if not signs:  # modifiers alone signal nothing
            return []
        idioms = [(s, e) for s, e, c in cues if c.signal == "!idiom"]
        marks = {c.signal[1:] for _, _, c in cues if c.signal.startswith("!")} | context_marks
        breaks = [m.end() for m in SENTENCE_BREAK.finditer(text)]
        found: list[Signal] = []
        for start, end, cue in _longest_first(signs):
            if any(i_start <= start and end <= i_end for i_start, i_end in idioms):
                continue
            kept, negated = self._kept(text, (start, end), cue, cues, marks, breaks, language)
            if cue.weight * kept > 0.05:
                found.append(Signal(cue.signal, cue.weight * kept, start, end, negated))
        return found

    def cues(self, text: str, words: list[WordHit], language: str) -> list[tuple[int, int, Cue]]:
        """The cues of the text's language found in it, parts of phrases joined."""
        cues = self._index.cues(text, words, language)
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
    ) -> tuple[float, bool]:
        """The share of a cue's weight its modifiers leave, and whether a negation stands before it."""
        start, end = span
        sentence_start = max((b for b in breaks if b <= start), default=0)
        kept = 1.0
        construct = cue.construct
        before = text[max(sentence_start, start - 40) : start]
        before = before[before.rfind(",") + 1 :]  # a negation does not reach past a comma
        words_before = WORD.findall(before)
        while words_before and words_before[-1] in NEGATED_NOUNS[language]:  # "no thoughts of" + cue
            words_before.pop()
        words_before = words_before[-NEGATION_WORDS - 1 :]
        negated = NEGATION[language].search(" ".join(words_before)) is not None
        if negated:
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
        return kept, negated


def states_safety(cues: Sequence[tuple[int, int, Cue]], signals: Sequence[Signal]) -> bool:
    """Whether a text says its author is safe now ("I'm not going to hurt myself", "no dark thoughts
    today", "called the crisis line", "je ferais jamais ça") and signals nothing the statement does not
    answer: no cue without a negation before it (a time alone times nothing), no harm from or to someone
    else. The readings hear the topic and not the denial, so such a text is not read (engine.assess_recent)."""
    return any(c.signal == "!reassure" for _, _, c in cues) and not any(
        s.construct in OUTWARD or (not s.negated and s.weight >= SAFETY_ANSWERS and s.construct != "time")
        for s in signals
    )


def cues_decide(text: str, signals: Sequence[Signal]) -> bool:
    """Whether a text is too short for the model's reading (in a few words it cannot tell a joke
    from a cry: "tonight works", "i want to die"): under SHORT_WORDS words, or a plain statement
    of at most PLAIN_WORDS words with one cue strong enough to alert alone. The cues decide it."""
    words = len(WORD.findall(text))
    return words < SHORT_WORDS or (words <= PLAIN_WORDS and any(s.weight >= MEDIUM for s in signals))


def compose(
    texts: Iterable[Sequence[Signal]],
    reading: Callable[[float], bool] | None = None,
    doubted: Callable[[], bool] | None = None,
) -> Assessment:
    """One severity for the signals of one or several texts: strongest per construct, summed.

    reading: the statistical model's answer, for the lexical score, to "does the wording read as
    risk?" (policies/risk_model.py). Where given, it decides alerts below severe: it can raise one
    the cues alone would not, or lower to severity 1 (watched members only) cues whose wording
    reads as harmless ("range day tonight, cleaning the rifle", "kms lol this exam"). Severe
    stays the lexicon's (it sends crisis resources at once, before the model's full reading) unless
    doubted: the model reads the text as clearly harmless ("this time last year I was in detox after an
    overdose, today I started a job"); then it is decided like a score below severe."""
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
    ordered = sorted(strongest.values(), key=lambda s: (-s.weight, RISK_ORDER.index(s.construct)))
    others = [s for s in ordered if s.construct != "time"]
    score = sum(s.weight for s in ordered) + SECOND_CUE * sum(runner_up.values()) if others else 0.0
    severe = score >= SEVERE and not (doubted is not None and doubted())
    heard = reading is not None and not severe and reading(score)
    if severe:
        severity = 3
    elif reading is not None:
        severity = 2 if heard else 1 if score >= LOW else 0
    else:
        severity = 2 if score >= MEDIUM else 1 if score >= LOW else 0
    if not severity:
        return NOTHING
    counted = ([s for s in ordered if s.weight >= 0.5] or ordered[:1]) if others else []
    if counted and counted[0].construct == "time":  # time is named beside what it times
        counted = [others[0], *(s for s in counted if s is not others[0])]
    if heard:
        counted.append(Signal("wording", 1.0, 0, 0))
    return Assessment(severity, score, tuple(counted))


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
