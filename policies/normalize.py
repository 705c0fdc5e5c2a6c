"""Text normalization before matching, with a map back to the original text.

The normalized forms defeat common evasion: Unicode compatibility forms (NFKC), zero-width
and control characters, look-alike letters from other scripts, accents, letter spacing
("j o h n"), obfuscated emails ("john at gmail dot com") and digits written as words
("five one four", "cinq un quatre"). Every normalized character remembers the span of
original characters it came from, so a span found on the normalized text maps back to
the original text exactly.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

# Cyrillic and Greek letters that look like Latin ones, plus typographic punctuation
# that NFKC leaves alone.
CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "‘": "'", "’": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"',
        "«": '"', "»": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-",
        "\u00a0": " ", "\u202f": " ", "\t": " ", "\n": " ", "\r": " ",
    }
)  # fmt: skip

# Leetspeak digits and symbols between letters ("k1ll", "su!c!de", "l0ser").
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                      "8": "b", "@": "a", "$": "s", "!": "i", "|": "l"})  # fmt: skip
LEET_RUN = re.compile(r"[0134578@$!|]+")

# Single characters separated by single spaces or dots: "j o h n", "k.i.l.l" (3 or more).
SPACED_LETTERS = re.compile(r"(?<![\w.])(?:\w[ .]){2,}\w(?![\w])")
SPACED_HINT = re.compile(r"[ .]\w[ .]\w[ .]")  # cheap test before SPACED_LETTERS
WIDE_GAP = re.compile(r" {2,}")

DIGIT_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "zeros": "0", "un": "1", "une": "1", "deux": "2", "trois": "3", "quatre": "4",
    "cinq": "5", "sept": "7", "huit": "8", "neuf": "9", "oh": "0",
}  # fmt: skip
DIGIT_WORD_AUTOMATON = ahocorasick.Automaton()
for _word, _digit in DIGIT_WORDS.items():
    DIGIT_WORD_AUTOMATON.add_word(_word, (len(_word), _digit))
DIGIT_WORD_AUTOMATON.make_automaton()
DIGITS = re.compile(r"\d+")
DIGIT_GAP = re.compile(r"[\s,.-]+")
NUMBER_WORDS = frozenset({*DIGIT_WORDS, "zéro"})  # digit words as folded, and as French writes zero
WORD_RUN = re.compile(r"\w+")
PLUS_BEFORE = re.compile(r"(?<![a-z])plus\s+\Z")  # "plus one six one three ...": an international prefix

_AT = r"(?:\s*[\[({<]\s*(?:at|arobase|a)\s*[\])}>]\s*|\s+(?:at|arobase)\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|point|pt)\s*[\])}>]\s*|\s+(?:dot|point)\s+|\s*\.\s*)"
# Between the words of the user part: "marie point tremblay", "jean tiret bas roy", "j (dot) roy".
_USER_SEPARATOR = (
    r"(?:\s*[\[({<]\s*(?:dot|point|pt|underscore|dash)\s*[\])}>]\s*"
    r"|\s+(?:dot|point|underscore|tiret bas|tiret|dash|hyphen|trait d'union)\s+)"
)
USER_SEPARATOR = re.compile(_USER_SEPARATOR)
SEPARATOR_SIGNS = {"underscore": "_", "tiret bas": "_", "tiret": "-", "dash": "-", "hyphen": "-", "trait d'union": "-"}
_USER = rf"[a-z0-9][a-z0-9._+-]*(?:{_USER_SEPARATOR}[a-z0-9][a-z0-9._+-]*){{0,4}}"
TLDS = r"(?:com|ca|net|org|fr|qc|info|io|me|co|us|edu|gov|gc|be|ch|uk|app|ly|gg|tv)"
OBFUSCATED_EMAIL = re.compile(
    rf"\b(?P<user>{_USER})(?P<at>{_AT})"
    rf"(?P<domain>(?!www\b)[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*?{_DOT}{TLDS})\b"
)
DOT_SEPARATOR = re.compile(_DOT)
DOT_WORDS = (" dot ", "dot]", "dot)", " point ", "point]", "point)", "pt]", "pt)", "arobase", "at]", "at)")
DOT_TLD = re.compile(rf"\.{TLDS}\b")
AT_HINT = re.compile(r"@|\bat\b|\barobase\b|[\[({<]\s*a\s*[\])}>]")
USER_BEFORE = re.compile(rf"(?<![a-z0-9._+-]){_USER}[\s\[({{<]*\Z")


@dataclass(slots=True)
class Normalized:
    """Normalized views of a text; all have the same length.

    lower: folded and lowercased, what most detectors match on.
    cased: the same characters with their case kept, for names and places.
    leet: lower with leetspeak undone, for the risk and house lexicons.
    starts/ends: for each normalized character, its span in the original text.
    """

    original: str
    lower: str
    cased: str
    leet: str
    starts: list[int]
    ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalized characters [start, end)."""
        if end <= start:
            return (
                (self.starts[start], self.starts[start])
                if start < len(self.starts)
                else (len(self.original), len(self.original))
            )
        return self.starts[start], self.ends[end - 1]

    def leet_spans(self) -> list[tuple[int, int]]:
        """Where leet differs from lower: the runs of leet characters read as letters."""
        return [run.span() for run in LEET_RUN.finditer(self.lower) if self.leet[run.start()] != run.group()[0]]


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One character folded: NFKC, no accents, Latin look-alikes; '' if invisible."""
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Mn", "Me") and char not in "\t\n\r":
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.translate(CONFUSABLES)


def fold(text: str) -> str:
    """Folded lowercase form of a lexicon phrase, as detectors see the text."""
    if WORD_LOCAL.search(text) or SHORT_WORDS.search(text):
        return normalize(text).lower
    # nothing here spans words (digits, spaced letters, emails): each word folds alone, once
    return " ".join(_fold_word(word) for word in text.split(" "))


# what makes normalization depend on more than one word: digits or digit words, "@", "at", "dot",
# "point", "arobase" (emails), two one-letter words in a row (spaced letters "j o h n")
WORD_LOCAL = re.compile(
    r"\d|@|\b(?:at|dot|point|pt|arobase|" + "|".join(DIGIT_WORDS) + r")\b|[^\x20-\x7e\u00c0-\u017f]", re.IGNORECASE
)
SHORT_WORDS = re.compile(r"(?:^|\s)\w[\s.]+\w(?:[\s.]|$)")


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return normalize(word).lower


def normalize(text: str) -> Normalized:
    cased, starts, ends = _fold_characters(text)
    for rewrite in (_collapse_spacing, _digit_words, _obfuscated_emails):
        edits = rewrite(cased.lower())
        if edits:
            cased, starts, ends = _apply(cased, starts, ends, edits)
    lower = cased.lower() if cased.isascii() else "".join(_lower_char(c) for c in cased)
    leet = _undo_leet(lower)
    return Normalized(text, lower, cased, leet, starts, ends)


def _undo_leet(lower: str) -> str:
    """Leet characters between letters ("k1ll"), or before two letters ("3nd"), as letters."""
    pieces, position = [], 0
    for run in LEET_RUN.finditer(lower):
        start, end = run.span()
        before = start > 0 and lower[start - 1].isalpha()
        after = lower[end : end + 1].isalpha()
        starts_word = (start == 0 or not lower[start - 1].isalnum()) and lower[end : end + 2].isalpha()
        if (before and after) or (starts_word and end - start == 1 and run.group() not in "1!|"):
            pieces += [lower[position:start], run.group().translate(LEET)]
            position = end
    return "".join(pieces) + lower[position:] if pieces else lower


def _lower_char(char: str) -> str:
    low = char.lower()
    return low if len(low) == 1 else char


SPECIAL = re.compile(r"[^\x20-\x7e]")  # anything but printable ASCII


ONE_TO_ONE: dict[int, str] = {}  # characters that fold to exactly one character


def fold_characters(text: str) -> str:
    """The text with its characters folded as normalize folds them (NFKC, no accents, look-alikes, no invisibles)."""
    return text if text.isascii() else _fold_characters(text)[0]


def _fold_characters(text: str) -> tuple[str, list[int], list[int]]:
    specials = set(SPECIAL.findall(text)) if not text.isascii() else set()
    for char in specials:
        if ord(char) not in ONE_TO_ONE and len(fold_char(char)) == 1:
            ONE_TO_ONE[ord(char)] = fold_char(char)
    if all(ord(char) in ONE_TO_ONE for char in specials):
        for char in specials:  # a few str.replace calls beat str.translate with a dict
            text = text.replace(char, ONE_TO_ONE[ord(char)])
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    return _fold_each_character(text)


def _fold_each_character(text: str) -> tuple[str, list[int], list[int]]:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for run in SPECIAL.finditer(text):
        pieces.append(text[position : run.start()])
        starts.extend(range(position, run.start()))
        ends.extend(range(position + 1, run.start() + 1))
        for index in range(run.start(), run.end()):
            folded = fold_char(text[index])
            if not folded:
                if ends:  # an invisible character belongs to the one before it
                    ends[-1] = index + 1
                continue
            pieces.append(folded)
            starts.extend([index] * len(folded))
            ends.extend([index + 1] * len(folded))
        position = run.end()
    pieces.append(text[position:])
    starts.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    return "".join(pieces), starts, ends


Edit = tuple[int, int, str]  # replace normalized [start, end) with a string


def _apply(cased: str, starts: list[int], ends: list[int], edits: list[Edit]) -> tuple[str, list[int], list[int]]:
    """Apply non-overlapping edits in order; replacements map to the replaced span."""
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for start, end, replacement in sorted(edits):
        if start < position:
            continue
        pieces.append(cased[position:start])
        new_starts.extend(starts[position:start])
        new_ends.extend(ends[position:start])
        pieces.append(replacement)
        new_starts.extend([starts[start]] * len(replacement))
        new_ends.extend([ends[end - 1]] * len(replacement))
        position = end
    pieces.append(cased[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(pieces), new_starts, new_ends


def _collapse_spacing(lower: str) -> list[Edit]:
    """Remove the gaps in "j o h n" and shrink wide gaps between spaced words."""
    edits: list[Edit] = []
    if not SPACED_HINT.search(" " + lower + " "):
        return edits
    for match in SPACED_LETTERS.finditer(lower):
        for index in range(match.start() + 1, match.end(), 2):
            edits.append((index, index + 1, ""))
        for gap in WIDE_GAP.finditer(lower, match.end(), min(len(lower), match.end() + 8)):
            if gap.start() == match.end():
                edits.append((gap.start(), gap.end(), " "))
    return edits


def _digit_words(lower: str) -> list[Edit]:
    """Turn runs of digits written as words into digits: "five one four" -> "514"."""
    words: list[Edit] = []
    for last, (length, digit) in DIGIT_WORD_AUTOMATON.iter(lower):
        if is_word_at(lower, last + 1 - length, last + 1):
            words.append((last + 1 - length, last + 1, digit))
    if not words:
        return []
    numbers = [(m.start(), m.end(), "") for m in DIGITS.finditer(lower)]  # kept as they are
    edits: list[Edit] = []
    run: list[Edit] = []
    for token in [*sorted(words + numbers), None]:
        if token and run and DIGIT_GAP.fullmatch(lower, run[-1][1], token[0]):
            run.append(token)
            continue
        if len(run) >= 3 and any(digit for _, _, digit in run):
            plus = PLUS_BEFORE.search(lower, max(0, run[0][0] - 8), run[0][0])
            if plus:
                edits.append((plus.start(), run[0][0], "+"))
            for previous, current in itertools.pairwise(run):
                edits.append((previous[1], current[0], ""))
            edits += [word for word in run if word[2]]
        run = [token] if token else []
    return edits


def number_word_runs(lower: str) -> Iterator[tuple[int, int, int]]:
    """The runs of digits written as words in a lowercase text, each as (words, start, end): consecutive
    words separated as _digit_words reads a number ("five, one four"). Three or more become digits."""
    count = start = end = 0
    for word in WORD_RUN.finditer(lower):
        if word.group() not in NUMBER_WORDS:
            if count:
                yield count, start, end
            count = 0
            continue
        if count and DIGIT_GAP.fullmatch(lower, end, word.start()):
            count += 1
        else:
            if count:
                yield count, start, end
            count, start = 1, word.start()
        end = word.end()
    if count:
        yield count, start, end


def is_word_at(text: str, start: int, end: int) -> bool:
    return (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum())


def _obfuscated_emails(lower: str) -> list[Edit]:
    """Rewrite "jean [at] videotron [point] ca" as "jean@videotron.ca"."""
    edits: list[Edit] = []
    if (
        "@" not in lower
        and not any(map(lower.__contains__, DOT_WORDS))
        and not (" at " in lower and DOT_TLD.search(lower))
    ):
        return edits
    for at in AT_HINT.finditer(lower):
        user = USER_BEFORE.search(lower, max(0, at.start() - 96), at.start())
        match = user and OBFUSCATED_EMAIL.match(lower, user.start())
        if not match or (edits and match.start() < edits[-1][1]):
            continue
        user_start = match.start("user")
        for separator in USER_SEPARATOR.finditer(match.group("user")):
            word = separator.group().strip(" [](){}<>")
            edits.append((user_start + separator.start(), user_start + separator.end(), SEPARATOR_SIGNS.get(word, ".")))
        if match.group("at") != "@":
            edits.append((match.start("at"), match.end("at"), "@"))
        domain_start = match.start("domain")
        for dot in DOT_SEPARATOR.finditer(match.group("domain")):
            if dot.group() != ".":
                edits.append((domain_start + dot.start(), domain_start + dot.end(), "."))
    return edits
