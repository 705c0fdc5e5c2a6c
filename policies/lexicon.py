"""Packaged word lists and a whole-word Aho-Corasick matcher over them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick

from policies.normalize import fold

Payload = TypeVar("Payload")
WordHit = tuple[int, int, Any]  # start, end and payload of a whole-word match

ALTERNATIVES = re.compile(r"\{([^{}]*)\}")


def read_rows(name: str) -> list[list[str]]:
    """Rows of a tab-separated data file in policies/data, without comments and blanks."""
    text = resources.files("policies").joinpath("data", name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append([cell.strip() for cell in line.split("\t")])
    return rows


def read_words(name: str) -> list[str]:
    return [row[0] for row in read_rows(name)]


def expand(phrase: str) -> set[str]:
    """All folded forms of a lexicon phrase.

    "{want|wanna} to die" gives "want to die" and "wanna to die"; a phrase with an
    apostrophe also gives its forms without it ("j'ai" -> "jai", "j ai").
    """
    parts = ALTERNATIVES.split(phrase)
    if any("{" in part or "}" in part for part in parts):
        raise ValueError(f"nested or unbalanced braces in lexicon phrase: {phrase!r}")
    choices = [part.split("|") if index % 2 else [part] for index, part in enumerate(parts)]
    forms = set()
    for combination in itertools.product(*choices):
        text = re.sub(r"\s+", " ", "".join(combination)).strip()
        forms.update({text, text.replace("'", ""), text.replace("'", " ")})
    return {fold(form) for form in forms if form}


class WordMatcher(Generic[Payload]):
    """Finds whole-word occurrences of folded phrases; each phrase carries payloads."""

    def __init__(self, entries: Iterable[tuple[str, Payload]]) -> None:
        table: dict[str, list[Payload]] = {}
        for phrase, payload in entries:
            # "i'm" and "i m" are one phrase between boundaries: their payloads go together, once each
            key = match_key(phrase)
            payloads = table.setdefault(key, [])
            if not any(p is payload for p in payloads):
                payloads.append(payload)
        # Phrases with letters or digits are sought between word boundaries: in the text and in the
        # phrases every other character becomes BOUNDARY, so a match is a whole word by construction
        # and no match inside a word costs anything. Phrases of symbols only (emoji) are sought as they are.
        self._words = ahocorasick.Automaton()
        self._symbols = ahocorasick.Automaton()
        for key, payloads in sorted(table.items()):  # in order: the nodes of a branch lie together in memory
            if key.startswith(BOUNDARY):
                self._words.add_word(key, (len(key) - 2, tuple(payloads)))
            else:
                self._symbols.add_word(key, (len(key), tuple(payloads)))
        self._reach = max((len(key) for key in table), default=0)  # the longest key
        # every word of the phrases with words: a text's word that is none of them is in no hit
        self._vocabulary = frozenset(word for key in table if key.startswith(BOUNDARY) for word in key.split(BOUNDARY))
        self._has_words = self._words.kind != ahocorasick.EMPTY
        self._has_symbols = self._symbols.kind != ahocorasick.EMPTY
        for automaton, used in ((self._words, self._has_words), (self._symbols, self._has_symbols)):
            if used:
                automaton.make_automaton()

    def find(self, text: str) -> list[tuple[int, int, Payload]]:
        """Every hit: start, end and payload, once per payload of the phrase found."""
        return self._find(text, ((0, len(text)),))

    def find_around(self, text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int, Payload]]:
        """At least every hit that takes in a character of one of the spans (spans of letters and digits,
        in text order), in find's order: the hits of find within reach of the spans, where any phrase
        with those characters lies. A span inside a word that no phrase has is in no hit."""
        bounded = _bounded(text)  # text[i] is bounded[i + 1]
        windows: list[tuple[int, int]] = []
        for start, end in spans:
            word = bounded[bounded.rfind(BOUNDARY, 0, start + 1) + 1 : bounded.find(BOUNDARY, end + 1)]
            if word not in self._vocabulary:
                continue
            low, high = max(0, start - self._reach), min(len(text), end + self._reach)
            if windows and low <= windows[-1][1] + 2:
                windows[-1] = (windows[-1][0], high)
            else:
                windows.append((low, high))
        return self._find(text, windows)

    def _find(self, text: str, windows: Sequence[tuple[int, int]]) -> list[tuple[int, int, Payload]]:
        """The hits that lie inside the windows of text: phrases with words, then symbols."""
        found: list[tuple[int, int, Payload]] = []
        if self._has_words:  # the bounded text has one BOUNDARY in front, a match one after
            bounded = _bounded(text)
            for low, high in windows:
                hits = self._words.iter(bounded, low, high + 2)
                found += [
                    (last - 1 - length, last - 1, payload) for last, (length, payloads) in hits for payload in payloads
                ]
        if self._has_symbols:
            for low, high in windows:
                hits = self._symbols.iter(text, low, high)
                found += [
                    (last + 1 - length, last + 1, payload) for last, (length, payloads) in hits for payload in payloads
                ]
        return found


def match_key(phrase: str) -> str:
    """What the matcher seeks for a phrase: phrases with the same key are found together."""
    return _bounded(phrase) if ALNUM.search(phrase) else phrase


BOUNDARY = "\x00"
NOT_ALNUM = re.compile(r"[\W_]")
ALNUM = re.compile(r"[^\W_]")
ASCII_BOUNDARIES = {code: BOUNDARY for code in range(128) if not chr(code).isalnum()}


def _bounded(text: str) -> str:
    """The text with every character that is not a letter or digit as BOUNDARY, framed by BOUNDARY."""
    if text.isascii():  # normalized texts mostly are: a table is ten times faster than the pattern
        return BOUNDARY + text.translate(ASCII_BOUNDARIES) + BOUNDARY
    return BOUNDARY + NOT_ALNUM.sub(BOUNDARY, text) + BOUNDARY


def longest_first(hits: Iterable[tuple[int, int, Payload]]) -> list[tuple[int, int, Payload]]:
    """Hits without those inside a longer overlapping one, in text order."""
    kept: list[tuple[int, int, Payload]] = []
    for hit in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if kept and hit[0] < kept[-1][1]:
            if hit[1] - hit[0] > kept[-1][1] - kept[-1][0]:
                kept[-1] = hit
            continue
        kept.append(hit)
    return kept
