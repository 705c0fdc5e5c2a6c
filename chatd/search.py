"""One search page, for a member ("!search" to wallguide@) and for a guide ("!search" on the watch domain):
the words asked (chatd.core.search), the store's index read within the searcher's scope, the page written
in the realm's language. Neither the words nor the texts found are ever logged."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chatd import i18n
from chatd.core.model import Directory
from chatd.core.search import PAGE, Pending, Scope, Searches, continues, page_of, place_of, shown_text
from chatd.core.shadow import short_id
from chatd.store.search import ArchiveSearch, Found


@dataclass(frozen=True, slots=True)
class Page:
    text: str  # the answer
    search: Pending | None  # None: nothing searchable was asked
    results: int = 0


async def search_page(
    index: ArchiveSearch,
    searches: Searches,
    searcher: int,
    argument: str,
    scope: Scope,
    directory: Directory,
    language: str,
    guide_name: str,
) -> Page:
    """The next page of "!search <argument>" for a searcher (a member's scope, or a guide's realm)."""
    for_guides = scope.reader is None
    prefix = "watch" if for_guides else "command"
    search = searches.request(searcher, argument)
    if search is None:
        return Page(i18n.text(language, f"{prefix}.search_{'no_more' if continues(argument) else 'how'}"), None)
    found, more = page_of(await index.find(search.match, scope, search.before, PAGE + 1))
    after = searches.shown(searcher, search, [f.seq for f in found], more)
    if not found:
        key = "search_none" if search.shown == 0 else "search_end"
        return Page(i18n.text(language, f"{prefix}.{key}", query=search.words), search)
    rooms = await index.room_names(scope.realm)
    lines = [
        _line(f, search.shown + n, scope, directory, rooms, language, guide_name, for_guides)
        for n, f in enumerate(found, 1)
    ]
    ending = i18n.text(language, f"{prefix}.search_next" if more else f"{prefix}.search_last")
    text = i18n.text(
        language,
        f"{prefix}.search_page",
        query=search.words,
        first=str(search.shown + 1),
        last=str(after.shown),
        results="\n".join(lines),
        next=ending,
    )
    return Page(text, search, len(found))


def _line(
    found: Found,
    number: int,
    scope: Scope,
    directory: Directory,
    rooms: dict[str, str],
    language: str,
    guide_name: str,
    for_guides: bool,
) -> str:
    def name(member_id: int) -> str:
        member = directory.by_id(member_id)
        return member.pseudonym if member is not None else guide_name

    place = place_of(found.conversation, scope.reader)
    names = " ↔ ".join(name(m) for m in place.people)
    where = i18n.text(language, f"search.where_{place.kind}", room=rooms.get(place.room, place.room), names=names)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(found.created_at))
    params = {"n": str(number), "where": where, "when": when, "author": name(found.sender_id)}
    params["text"] = shown_text(found.body)
    if for_guides:
        return i18n.text(language, "search.hit_guide", id=short_id(found.stanza_id), **params)
    return i18n.text(language, "search.hit", **params)
