"""Packaged word lists and a whole-word Aho-Corasick matcher over them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick

from policies.normalize import fold, is_word_at

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
            table.setdefault(phrase, []).append(payload)
        self._automaton = ahocorasick.Automaton()
        for phrase, payloads in table.items():
            self._automaton.add_word(phrase, (len(phrase), tuple(payloads)))
        if table:
            self._automaton.make_automaton()
        self._empty = not table

    def find(self, text: str) -> Iterator[tuple[int, int, Payload]]:
        if self._empty:
            return
        for last, (length, payloads) in self._automaton.iter(text):
            start, end = last + 1 - length, last + 1
            if is_word_at(text, start, end):
                for payload in payloads:
                    yield start, end, payload


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
