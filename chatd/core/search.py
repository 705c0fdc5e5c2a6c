"""Searching the archive by words (no I/O): the full-text query a member's words make, whose texts a
search may find, and paging ("!search more").

What is searched is what members saw: the store's index (migration 013_search.sql) holds delivered texts
only, redacted where they were redacted; never originals, held, rejected, removed or retracted texts, never
shadow-room lines. Who finds what:

- a member: texts in conversations they may read, in their realm: their one-on-one chats, their private
  messages in rooms, the realm's topic rooms (public within the realm, as for MAM) and the private groups they
  belong to; never texts of members they blocked (those never reached them);
- a Wall Guide or Senior Clinician (from the watch domain): every conversation of their realm, the
  Ask-a-Wall-Guide threads included; each page is audited.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

from chatd.core import keys
from chatd.core.keys import KeyKind

PAGE = 5  # results per answer
MAX_WORDS = 8  # more words in a query are ignored
MAX_WORD_CHARS = 40  # a longer word is cut to this length (and matched as a prefix)
PREFIX_FROM = 3  # words this long or longer also find longer words they begin ("sleep" finds "sleepless")
SHOWN_CHARS = 200  # a result's text is cut to this length
MORE = frozenset({"more", "next", "plus", "suite"})  # "!search more" (or "!search suite") continues the last search
KEEP = 1000  # searches remembered for "more" at most (the oldest forgotten first)


def search_words(text: str) -> list[str]:
    """The words of a query: letters and digits only, each once (without case), at most MAX_WORDS.

    Everything else is dropped, so that nothing a member types is ever read as full-text syntax: quotes,
    parentheses, stars, colons, "^", "+" and "-" are separators; AND, OR, NOT and NEAR are plain words."""
    found: dict[str, str] = {}
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text)):
        found.setdefault(word.lower(), word[:MAX_WORD_CHARS])
    return list(found.values())[:MAX_WORDS]


def match_expression(text: str) -> str | None:
    """The FTS5 query for a member's words (every word must occur, in any order), or None if nothing is
    searchable. Each word is a quoted string, so it is a plain term whatever it spells."""
    words = search_words(text)
    if not words:
        return None
    return " ".join(f'"{w}"*' if len(w) >= PREFIX_FROM else f'"{w}"' for w in words)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose texts a search finds: a member's (reader) or, without a reader, a guide's whole realm."""

    realm: str
    reader: int | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A search as it goes on: its words (shown back, and kept in the guides' audit), its query, and where the
    next page begins."""

    words: str
    match: str
    before: int | None = None  # the next page holds texts archived before this one (its archive sequence number)
    shown: int = 0  # results shown so far


def continues(argument: str) -> bool:
    """ "!search more" asks for the next page of the last search."""
    return argument.strip().lower() in MORE


class Searches:
    """Each searcher's last search, for "!search more" (kept in memory only; bounded)."""

    def __init__(self, keep: int = KEEP):
        self._keep = keep
        self._pending: OrderedDict[int, Pending] = OrderedDict()

    def request(self, searcher: int, argument: str) -> Pending | None:
        """What "!search <argument>" asks for: a new search, or the next page of the last one ("more"); None when
        the words hold nothing searchable, or "more" follows no search that has more to show."""
        if continues(argument):
            return self._pending.get(searcher)
        match = match_expression(argument)
        return Pending(argument.strip(), match) if match is not None else None

    def shown(self, searcher: int, search: Pending, seqs: list[int], more: bool) -> Pending:
        """The page shown (the results' sequence numbers, newest first); the search is kept while there is more."""
        after = Pending(search.words, search.match, seqs[-1] if seqs else search.before, search.shown + len(seqs))
        self._pending.pop(searcher, None)
        if more and seqs:
            self._pending[searcher] = after
            while len(self._pending) > self._keep:
                self._pending.popitem(last=False)
        return after


def page_of(found: list[int]) -> tuple[list[int], bool]:
    """A page from the results fetched (PAGE + 1 asked for): the page, and whether more follow."""
    return found[:PAGE], len(found) > PAGE


@dataclass(frozen=True, slots=True)
class Place:
    """Where a found text was: a room (its local part), a chat, private messages in a room, or an
    Ask-a-Wall-Guide thread, with the people in it other than the reader (both sides, for a guide)."""

    kind: str  # room, chat, private, guide
    room: str = ""
    people: tuple[int, ...] = ()


def place_of(conversation: str, reader: int | None) -> Place:
    key = keys.parse_key(conversation)
    if key.kind is KeyKind.ROOM:
        return Place("room", key.room)
    kind = {KeyKind.GUIDE: "guide", KeyKind.ROOM_PRIVATE: "private"}.get(key.kind, "chat")
    return Place(kind, key.room, tuple(m for m in key.members if m != reader))


def shown_text(body: str) -> str:
    """A found text as a result line shows it: on one line, cut to SHOWN_CHARS."""
    line = " ".join(body.split())
    return line if len(line) <= SHOWN_CHARS else line[: SHOWN_CHARS - 1].rstrip() + "…"
