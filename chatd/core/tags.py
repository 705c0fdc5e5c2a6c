"""The topic-room directory by tag or by words: which rooms talk about "sleep" (no I/O).

Words are matched without case or accents, against a room's name, description, tag ids and the
tags' names in every language ("TSPT" finds a room tagged ptsd-trauma in an English realm too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# words of a question that say nothing of its topic: "which rooms talk about sleep", "quels salons parlent de sommeil"
QUESTION_WORDS = frozenset(
    """a about an and any are can for in is me of on or room rooms show talk talks the there to what which
    with au aux de des du en est et il la le les ou parle parlent qui quel quels quelle quelles salon salons
    sur un une y""".split()
)
MIN_WORD = 3  # shorter words (other than tag ids) are not searched: "mst", "tsm" are three letters


@dataclass(frozen=True, slots=True)
class ListedRoom:
    """A topic room as the directory shows it."""

    local: str
    name: str
    description: str
    tags: tuple[str, ...]


def fold(text: str) -> str:
    """Lower case without accents: "Élevé" -> "eleve"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def query_words(query: str) -> list[str]:
    """The words of a query that are searched: question words and very short words left out."""
    return [w for w in dict.fromkeys(words(query)) if w not in QUESTION_WORDS and len(w) >= MIN_WORD]


def matching(rooms: Iterable[ListedRoom], query: str, labels: Mapping[str, Sequence[str]]) -> list[ListedRoom]:
    """The rooms a query finds, those matching most of its words first; every room for an empty query.

    A query word matches a room word it begins ("trauma" finds "traumatisme"); labels: tag -> its names.
    """
    listed = list(rooms)
    wanted = query_words(query)
    if not wanted:
        return listed
    scored = []
    for index, room in enumerate(listed):
        texts = [room.name, room.description, *room.tags, *(n for t in room.tags for n in labels.get(t, ()))]
        room_words = {w for text in texts for w in words(text)}
        score = sum(1 for w in wanted if any(r.startswith(w) for r in room_words))
        if score:
            scored.append((-score, index, room))
    return [room for _, _, room in sorted(scored, key=lambda s: (s[0], s[1]))]


def tagged(rooms: Iterable[ListedRoom], tag: str) -> list[ListedRoom]:
    """The rooms that carry a tag (its id, exactly)."""
    return [r for r in rooms if tag in r.tags]
