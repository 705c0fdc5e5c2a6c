"""Search (no network): the query a member's words make, paging, and the store's index on a real SQLite file,
kept in step with archive writes, approvals, removals, edits and retractions, within each searcher's scope."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from importlib import resources
from pathlib import Path

from hypothesis import given, settings
from hypothesis.strategies import text

from chatd.core.model import Role
from chatd.core.search import PAGE, Place, Scope, Searches, match_expression, page_of, place_of, search_words
from chatd.store import SEARCH_BATCH, ArchivedMessage, Store
from chatd.store.rooms import ArchiveQuery
from chatd.store.search import index_new_texts


def test_a_members_words_are_plain_terms_whatever_they_spell() -> None:
    assert match_expression('"foo AND (') == '"foo"* "AND"*'
    assert match_expression('body:sleep NEAR(a b) -x ^y "z') == '"body"* "sleep"* "NEAR"* "a" "b" "x" "y" "z"'
    assert match_expression("l'armée, encore") == '"l" "armée"* "encore"*'
    assert match_expression('(( * " ) :') is None and match_expression("   ") is None
    assert search_words("Sleep sleep SLEEP night") == ["Sleep", "night"]  # once each, case aside
    assert len(search_words(" ".join(f"w{n}" for n in range(20)))) == 8
    assert search_words("x" * 100) == ["x" * 40]


def test_the_next_page_continues_where_the_last_ended_and_more_without_a_search_is_nothing() -> None:
    searches = Searches(keep=2)
    assert searches.request(1, "more") is None  # nothing to continue
    first = searches.request(1, "sleep")
    assert first is not None and first.before is None and first.shown == 0
    page, more = page_of([60, 50, 40, 30, 20, 10])
    assert page == [60, 50, 40, 30, 20] and more and len(page) == PAGE
    searches.shown(1, first, page, more)
    again = searches.request(1, "plus")  # the French word continues too
    assert again is not None and again.match == first.match and again.before == 20 and again.shown == 5
    searches.shown(1, again, [10], False)
    assert searches.request(1, "more") is None  # the search ended
    for searcher in (2, 3, 4):  # only the latest searches are kept
        pending = searches.request(searcher, "night")
        assert pending is not None
        searches.shown(searcher, pending, [5], True)
    assert searches.request(2, "more") is None and searches.request(4, "more") is not None


def test_a_result_names_the_room_or_the_people_in_it() -> None:
    assert place_of("room:en:general", 3) == Place("room", "general")
    assert place_of("dm:3:7", 3) == Place("chat", "", (7,))
    assert place_of("dm:3:7", None) == Place("chat", "", (3, 7))  # a guide sees both sides
    assert place_of("roompm:en:mst:3:7", 7) == Place("private", "mst", (3,))
    assert place_of("guide:3", None) == Place("guide", "", (3,))


def record(
    stanza_id: str,
    conversation: str,
    sender: int,
    body: str | None,
    original: str | None = None,
    verdict: str = "deliver",
    recipient_id: int | None = None,
) -> ArchivedMessage:
    return ArchivedMessage(stanza_id, conversation, sender, recipient_id, None, body, original, verdict, [], 1.0)


async def found(store: Store, words: str, scope: Scope) -> list[str]:
    match = match_expression(words)
    assert match is not None
    return [f.stanza_id for f in await store.search.find(match, scope, None, 50)]


async def test_the_index_holds_what_members_saw_within_what_each_searcher_may_read(store_url: str) -> None:
    store = await Store.open(store_url)
    alice = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    bob = await store.add_member("b@h", "en", "brave-heron", Role.MEMBER)
    carol = await store.add_member("c@h", "en", "quiet-lynx", Role.MEMBER)
    denise = await store.add_member("d@h", "fr", "doux-castor", Role.MEMBER)
    await store.rooms.add_room("en", "general", "topic", "General", "", b"s", None)
    await store.rooms.add_room("en", "walks", "group", "Walks", "", b"s", bob.id)
    await store.rooms.add_room("fr", "general", "topic", "Général", "", b"s", None)
    dm = f"dm:{alice.id}:{bob.id}"
    for message in [
        record("r1", "room:en:general", carol.id, "the night shift again"),
        record("g1", "room:en:walks", bob.id, "a night walk by the river"),
        record(
            "d1",
            dm,
            bob.id,
            "mail me at [email removed] about the night",
            original="mail me at x@y.org",
            verdict="redact",
            recipient_id=alice.id,
        ),
        record("h1", "room:en:general", carol.id, None, original="night HOLDME", verdict="hold"),
        record("f1", "room:fr:general", denise.id, "La nuit à l'armée"),
        record("w1", "watch:en-room-general", 0, "night line for the guides, with x@y.org"),
        record("p1", f"guide:{carol.id}", carol.id, "a night I need to talk about"),
        record("q1", f"roompm:en:general:{alice.id}:{carol.id}", carol.id, "psst, night owl"),
        record("q2", f"roompm:en:general:{bob.id}:{carol.id}", carol.id, "psst, night bird"),
    ]:
        await store.archive(message)

    alices, guides = Scope("en", alice.id), Scope("en")
    assert await found(store, "psst", alices) == ["q1"]  # private messages in a room: between the two only
    assert await found(store, "night", alices) == ["q1", "d1", "r1"]  # not bob's group, not the other realm
    assert await found(store, "night", Scope("en", bob.id)) == ["q2", "d1", "g1", "r1"]
    assert await found(store, "night", guides) == ["q2", "q1", "p1", "d1", "g1", "r1"]  # never a shadow-room line
    assert await found(store, "x y org", guides) == []  # never an original
    assert await found(store, "HOLDME", guides) == []  # never a held text
    assert await found(store, "armee", Scope("fr", denise.id)) == ["f1"]  # accents aside
    assert await found(store, "ARMÉE nuit", Scope("fr", denise.id)) == ["f1"]
    assert await found(store, "nuit", Scope("en", alice.id)) == []

    await store.rooms.set_member("en", "walks", alice.id, True)  # once in the group, its texts are found too
    assert await found(store, "river", alices) == ["g1"]
    await store.set_block(alice.id, bob.id, True)  # never texts of someone blocked
    assert await found(store, "night", alices) == ["q1", "r1"]
    await store.set_block(alice.id, bob.id, False)

    await store.settle_held("h1", "approved", "night approved by a guide")
    assert await found(store, "approved", alices) == ["h1"]
    await store.moderate("r1", "the day shift, edited")  # a guide's edit: the new text only
    assert await found(store, "shift", alices) == ["r1"] and await found(store, "night shift", alices) == []
    await store.moderate("h1", "")  # removed
    await store.retract("g1")  # taken back by its author
    assert await found(store, "night", alices) == ["q1", "d1"]
    store.mark_sent(["d1"])  # marking sent leaves the index alone
    await store.archive(record("r2", "room:en:general", carol.id, "another night"))
    assert await found(store, "night", alices) == ["r2", "q1", "d1"]

    records, complete = await store.rooms.search("room:en:general", ArchiveQuery(match=match_expression("night")))
    assert [r.stanza_id for r in records] == ["r2"] and complete  # the room's MAM with XEP-0431's filter
    await store.close()


async def test_the_migration_indexes_the_archive_already_there(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    alice = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    await store.rooms.add_room("en", "general", "topic", "General", "", b"s", None)
    await store.close()
    with sqlite3.connect(path) as db:  # the store as it was before search existed
        for name in ("messages_fts_update", "messages_fts_delete"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE messages_fts")
        db.execute("DROP TABLE search_progress")
        db.execute("DELETE FROM schema_migrations WHERE version IN (13, 17)")
        db.execute(
            "INSERT INTO messages (stanza_id, conversation, sender_id, body, original, verdict, created_at) VALUES"
            " ('old1', 'room:en:general', ?, 'an old sleepless night', NULL, 'deliver', 1),"
            " ('old2', 'room:en:general', ?, 'night', 'night at x@y.org', 'removed', 2),"
            " ('old3', 'room:en:general', ?, NULL, 'sleepless HOLDME', 'hold', 3)",
            (alice.id, alice.id, alice.id),
        )
    store = await Store.open(path)
    assert await found(store, "sleepless", Scope("en", alice.id)) == ["old1"]
    await store.close()


@functools.cache
def indexed() -> sqlite3.Connection:
    """Every migration on an in-memory database, with a few texts indexed."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    for entry in sorted(resources.files("chatd.store").joinpath("migrations").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            db.executescript(entry.read_text(encoding="utf-8"))
    texts = ["la nuit à l'armée", "sleepless AND tired (again)", "NEAR the river, 2² times", "日本語のテキスト"]
    db.executemany(
        "INSERT INTO messages (stanza_id, conversation, sender_id, body, verdict, created_at)"
        " VALUES (?, 'room:en:general', 1, ?, 'deliver', 1)",
        [(f"t{n}", text) for n, text in enumerate(texts)],
    )
    index_new_texts(db)
    return db


@settings(max_examples=300, deadline=None)
@given(text())
def test_no_words_a_member_types_are_a_full_text_syntax_error(words: str) -> None:
    match = match_expression(words)
    if match is not None:
        indexed().execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (match,)).fetchall()


def test_odd_words_still_find_their_texts() -> None:
    for words, expected in [
        ("ARMEE", 1),
        ("again) AND (tired", 1),
        ("NEAR river", 1),
        ("2²", 1),
        ("日本語のテキスト", 1),
    ]:
        match = match_expression(words)
        assert match is not None
        rows = indexed().execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (match,)).fetchall()
        assert len(rows) == expected, words


async def test_odd_words_find_their_texts_on_both_backends(store_url: str) -> None:
    store = await Store.open(store_url)
    texts = ["la nuit à l'armée", "sleepless AND tired (again)", "NEAR the river, 2² times"]
    for n, body in enumerate(texts):
        await store.archive(record(f"t{n}", "room:en:general", 1, body))
    for words, expected in [("ARMEE", ["t0"]), ("again) AND (tired", ["t1"]), ("NEAR river", ["t2"]), ("slee", ["t1"])]:
        assert await found(store, words, Scope("en")) == expected, words
    await store.close()


def in_index(path: Path, word: str) -> list[int]:
    """What the full-text index itself holds for a word (read from another connection, as another process would)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")  # raises if out of step
        rows = db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid", (word,))
        return [row[0] for row in rows]


async def test_the_index_takes_texts_in_batches_and_a_search_brings_it_up_to_date_first(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    for n, body in enumerate(["a walk at night", "night owl", "another night in"]):
        await store.archive(record(f"n{n}", "room:en:general", 1, body))
    assert in_index(path, "night") == []  # no index write per archived text
    await store.retract("n1")  # changed before its batch: the batch reads it as it is then
    await store.moderate("n2", "another day, edited")
    assert await found(store, "night", Scope("en")) == ["n0"]
    assert await found(store, "edited", Scope("en")) == ["n2"]
    assert len(in_index(path, "night")) == 1
    await store.moderate("n0", "a walk by day")  # changed after its batch: the index follows at once
    assert in_index(path, "night") == [] and await found(store, "walk", Scope("en")) == ["n0"]

    rivers = [record(f"r{n}", "room:en:general", 1, "by the river") for n in range(SEARCH_BATCH)]
    await asyncio.gather(*(store.archive(river) for river in rivers))
    assert len(in_index(path, "river")) == SEARCH_BATCH  # with an archive commit, without a search
    await store.archive(record("l1", "room:en:general", 1, "at the lake"))
    assert in_index(path, "lake") == []
    await store.close()
    store = await Store.open(path)  # what the last run archived after its last batch
    assert len(in_index(path, "lake")) == 1
    await store.close()
