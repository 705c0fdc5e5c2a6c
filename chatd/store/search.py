"""Searching the archive's full-text index (migrations 013_search.sql and 017_search_batches.sql; on PostgreSQL
postgresql/002_search.sql), within what a searcher may read (chatd.core.search.Scope)."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass

import aiosqlite

from chatd.core.search import Scope
from chatd.store.db import Database, PostgresDatabase

log = logging.getLogger("chatd.store")

# SQLite: the texts archived since the last batch, into the index (migration 017_search_batches.sql); what belongs
# there is what members saw, never originals, held, rejected, removed or retracted texts, never shadow-room lines
INDEX_NEW = (
    "INSERT INTO messages_fts (rowid, body) SELECT seq, body FROM messages"
    " WHERE seq > (SELECT indexed_to FROM search_progress) AND body <> ''"
    " AND substr(conversation, 1, 6) <> 'watch:' AND verdict NOT IN ('hold', 'rejected', 'removed', 'retracted')"
)
INDEXED_TO = (
    "UPDATE search_progress SET indexed_to = (SELECT MAX(seq) FROM messages)"
    " WHERE indexed_to < (SELECT MAX(seq) FROM messages)"
)


def index_new_texts(db: sqlite3.Connection) -> None:
    """On the database's thread, inside the caller's transaction: the index takes the texts archived since."""
    db.execute(INDEX_NEW)
    db.execute(INDEXED_TO)


def _index_and_commit(db: sqlite3.Connection) -> None:
    try:
        index_new_texts(db)
        db.commit()
    except BaseException:
        db.rollback()  # never half a batch, which a later one would index again
        raise


async def bring_index_up_to_date(db: Database) -> None:
    """Before a search: the index takes what was archived since its last batch. If it cannot be written (a full
    disk), the search reads the index as it is, without the latest texts."""
    if not isinstance(db, aiosqlite.Connection):
        return  # PostgreSQL's index is an expression index, always in step
    try:
        await db._execute(_index_and_commit, db._conn)
    except sqlite3.Error as exc:
        log.warning("the search index could not take the latest texts (%s): searching it as it is", type(exc).__name__)


# a member: the realm's topic rooms, the groups they belong to, their chats and private messages (by the member ids
# in the conversation's key: dm:<low>:<high>, roompm:<realm>:<room>:<low>:<high>), nobody they blocked
MEMBER_SCOPE = """(
    m.conversation IN (
        SELECT 'room:' || r.realm || ':' || r.local FROM rooms AS r WHERE r.realm = :realm AND (r.kind = 'topic'
            OR r.local IN (SELECT local FROM room_members WHERE realm = :realm AND member_id = :reader)))
    OR m.conversation GLOB 'dm:' || :reader || ':*' OR m.conversation GLOB 'dm:*:' || :reader
    OR m.conversation GLOB 'roompm:' || :realm || ':*:' || :reader || ':*'
    OR m.conversation GLOB 'roompm:' || :realm || ':*:' || :reader
) AND m.sender_id NOT IN (SELECT blocked_id FROM blocks WHERE blocker_id = :reader)"""
# a guide: every conversation of the realm
GUIDE_SCOPE = """(
    m.conversation GLOB 'room:' || :realm || ':*' OR m.conversation GLOB 'roompm:' || :realm || ':*'
    OR ((m.conversation GLOB 'dm:*' OR m.conversation GLOB 'guide:*')
        AND m.sender_id IN (SELECT id FROM members WHERE realm = :realm))
)"""

# the same on PostgreSQL, by the parts of the conversation's key (no part holds a colon: JID local parts cannot):
# $1 the query, $2 the realm, $3 before, $4 the limit, $5 the reader, $6 the reader's id as text
POSTGRES_MEMBER_SCOPE = """(
    m.conversation IN (
        SELECT 'room:' || r.realm || ':' || r.local FROM rooms AS r WHERE r.realm = $2 AND (r.kind = 'topic'
            OR r.local IN (SELECT local FROM room_members WHERE realm = $2 AND member_id = $5)))
    OR (split_part(m.conversation, ':', 1) = 'dm'
        AND $6 IN (split_part(m.conversation, ':', 2), split_part(m.conversation, ':', 3)))
    OR (split_part(m.conversation, ':', 1) = 'roompm' AND split_part(m.conversation, ':', 2) = $2
        AND $6 IN (split_part(m.conversation, ':', 4), split_part(m.conversation, ':', 5)))
) AND m.sender_id NOT IN (SELECT blocked_id FROM blocks WHERE blocker_id = $5)"""
POSTGRES_GUIDE_SCOPE = """(
    (split_part(m.conversation, ':', 1) IN ('room', 'roompm') AND split_part(m.conversation, ':', 2) = $2)
    OR (split_part(m.conversation, ':', 1) IN ('dm', 'guide')
        AND m.sender_id IN (SELECT id FROM members WHERE realm = $2))
)"""


def postgres_match(table: str, query: str) -> str:
    """A text of `table` matches the query (a placeholder for what postgres_query makes): in the index's own
    expression (postgresql/002_search.sql), so that the index serves."""
    terms = f"search_terms({table}.body, {table}.conversation, {table}.verdict)"
    return f"{terms} @@ to_tsquery('simple', unaccent({query}))"


def postgres_query(match: str) -> str:
    """The FTS5 query chatd.core.search.match_expression makes (each word quoted, a star for a prefix) as a
    PostgreSQL tsquery: every word, a prefix where FTS5 had one. The words hold letters and digits only."""
    return " & ".join(f"'{word}'{':*' if star else ''}" for word, star in re.findall(r'"([^"]*)"(\*?)', match))


@dataclass(frozen=True, slots=True)
class Found:
    """A text a search found, as members saw it."""

    seq: int
    stanza_id: str
    conversation: str
    sender_id: int
    body: str
    created_at: float


class ArchiveSearch:
    def __init__(self, db: Database):
        self.db = db

    async def find(self, match: str, scope: Scope, before: int | None, limit: int) -> list[Found]:
        """Up to `limit` texts matching the full-text query, newest first, archived before `before`."""
        before = before if before is not None else 2**62
        if isinstance(self.db, PostgresDatabase):
            return await self._find_postgres(match, scope, before, limit)
        await bring_index_up_to_date(self.db)
        where = MEMBER_SCOPE if scope.reader is not None else GUIDE_SCOPE
        async with self.db.execute(
            "SELECT m.seq, m.stanza_id, m.conversation, m.sender_id, m.body, m.created_at"
            " FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid"
            f" WHERE messages_fts MATCH :match AND messages_fts.rowid < :before AND {where}"
            " ORDER BY messages_fts.rowid DESC LIMIT :limit",
            {
                "match": match,
                "before": before,
                "realm": scope.realm,
                "reader": scope.reader,
                "limit": limit,
            },
        ) as cursor:
            rows = await cursor.fetchall()
        return [Found(*tuple(row)) for row in rows]

    async def _find_postgres(self, match: str, scope: Scope, before: int, limit: int) -> list[Found]:
        args: list[object] = [postgres_query(match), scope.realm, before, limit]
        where = POSTGRES_GUIDE_SCOPE
        if scope.reader is not None:
            where = POSTGRES_MEMBER_SCOPE
            args += [scope.reader, str(scope.reader)]
        async with self.db.execute(
            "SELECT m.seq, m.stanza_id, m.conversation, m.sender_id, m.body, m.created_at FROM messages AS m"
            f" WHERE {postgres_match('m', '$1')} AND m.seq < $3 AND {where} ORDER BY m.seq DESC LIMIT $4",
            args,
        ) as cursor:
            rows = await cursor.fetchall()
        return [Found(*tuple(row)) for row in rows]

    async def room_names(self, realm: str) -> dict[str, str]:
        """Room local part -> its name, for a realm."""
        async with self.db.execute("SELECT local, name FROM rooms WHERE realm = ?", (realm,)) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
