"""Searching the archive's full-text index (migration 013_search.sql), within what a searcher may read
(chatd.core.search.Scope)."""

from __future__ import annotations

from dataclasses import dataclass

from chatd.core.search import Scope
from chatd.store.db import Database

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
        where = MEMBER_SCOPE if scope.reader is not None else GUIDE_SCOPE
        async with self.db.execute(
            "SELECT m.seq, m.stanza_id, m.conversation, m.sender_id, m.body, m.created_at"
            " FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid"
            f" WHERE messages_fts MATCH :match AND messages_fts.rowid < :before AND {where}"
            " ORDER BY messages_fts.rowid DESC LIMIT :limit",
            {
                "match": match,
                "before": before if before is not None else 2**62,
                "realm": scope.realm,
                "reader": scope.reader,
                "limit": limit,
            },
        ) as cursor:
            rows = await cursor.fetchall()
        return [Found(*tuple(row)) for row in rows]

    async def room_names(self, realm: str) -> dict[str, str]:
        """Room local part -> its name, for a realm."""
        async with self.db.execute("SELECT local, name FROM rooms WHERE realm = ?", (realm,)) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
