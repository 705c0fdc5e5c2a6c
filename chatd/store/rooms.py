"""The store's room tables: rooms, group members, and reading room archives (MAM, history)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chatd.store.db import Database, PostgresDatabase
from chatd.store.search import bring_index_up_to_date, postgres_match, postgres_query


@dataclass(frozen=True, slots=True)
class RoomRow:
    realm: str
    local: str
    kind: str
    name: str
    description: str
    owner_id: int | None
    subject: str
    subject_nick: str
    salt: bytes
    members: frozenset[int]


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """One delivered room message as the archive keeps it (what occupants saw)."""

    seq: int
    stanza_id: str
    sender_id: int
    nick: str  # the sender's pseudonym
    client_id: str | None
    body: str
    created_at: float
    removed: bool = False  # removed by a Wall Guide or the group's owner: shown as a tombstone (XEP-0425)
    retracted: bool = False  # taken back by its author: shown as a tombstone (XEP-0424)
    removed_by: str = ""  # the pseudonym of the group's owner who removed it ("": the Wall Guides)
    refs: str | None = None  # what it points at (a reply's, a reaction's): chatd.xmpp.muc.references
    quote_end: int = 0  # a reply's quote: the body's first quote_end characters


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """MAM filters and RSM paging; None means "not set"."""

    start: float | None = None
    end: float | None = None
    sender_id: int | None = None
    after_id: str | None = None
    before_id: str | None = None  # "" means the last page
    ids: tuple[str, ...] = ()
    limit: int = 50
    match: str | None = None  # a full-text query (chatd.core.search.match_expression): only texts it finds


class RoomStore:
    def __init__(self, db: Database):
        self.db = db
        self.guide_name = "Wall Guide"  # how posts by the Wall Guides (sender 0) appear; set from [watch] guide_name

    async def rooms(self, realm: str, local: str | None = None) -> list[RoomRow]:
        """The realm's rooms with their members (only `local`, when given)."""
        only, args = (" AND local = ?", (realm, local)) if local is not None else ("", (realm,))
        async with self.db.execute("SELECT * FROM rooms WHERE realm = ?" + only, args) as cursor:
            rows = await cursor.fetchall()
        query = "SELECT local, member_id FROM room_members WHERE realm = ?" + only
        async with self.db.execute(query, args) as cursor:
            memberships = await cursor.fetchall()
        members: dict[str, set[int]] = {}
        for local, member_id in memberships:
            members.setdefault(local, set()).add(member_id)
        return [
            RoomRow(
                realm=r["realm"],
                local=r["local"],
                kind=r["kind"],
                name=r["name"],
                description=r["description"],
                owner_id=r["owner_id"],
                subject=r["subject"],
                subject_nick=r["subject_nick"],
                salt=bytes(r["salt"]),
                members=frozenset(members.get(r["local"], ())),
            )
            for r in rows
        ]

    async def add_room(
        self, realm: str, local: str, kind: str, name: str, description: str, salt: bytes, owner_id: int | None
    ) -> None:
        """Adds a room; a topic room that exists already only gets its name and description updated."""
        await self.db.execute(
            "INSERT INTO rooms (realm, local, kind, name, description, owner_id, salt, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (realm, local) DO UPDATE SET name = excluded.name, description = excluded.description",
            (realm, local, kind, name, description, owner_id, salt, time.time()),
        )
        if owner_id is not None:
            await self._add_member(realm, local, owner_id)
        await self.db.commit()

    async def set_subject(self, realm: str, local: str, subject: str, nick: str) -> None:
        await self.db.execute(
            "UPDATE rooms SET subject = ?, subject_nick = ? WHERE realm = ? AND local = ?",
            (subject, nick, realm, local),
        )
        await self.db.commit()

    async def set_name(self, realm: str, local: str, name: str, description: str) -> None:
        await self.db.execute(
            "UPDATE rooms SET name = ?, description = ? WHERE realm = ? AND local = ?",
            (name, description, realm, local),
        )
        await self.db.commit()

    async def set_member(self, realm: str, local: str, member_id: int, on: bool) -> None:
        if on:
            await self._add_member(realm, local, member_id)
        else:
            await self.db.execute(
                "DELETE FROM room_members WHERE realm = ? AND local = ? AND member_id = ?", (realm, local, member_id)
            )
        await self.db.commit()

    async def _add_member(self, realm: str, local: str, member_id: int) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO room_members VALUES (?, ?, ?, ?)", (realm, local, member_id, time.time())
        )

    async def members(self, realm: str, local: str) -> list[tuple[int, str]]:
        """A group's members as (member id, pseudonym), by pseudonym."""
        async with self.db.execute(
            "SELECT members.id, members.pseudonym FROM room_members JOIN members ON members.id = member_id"
            " WHERE room_members.realm = ? AND local = ? ORDER BY members.pseudonym",
            (realm, local),
        ) as cursor:
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def recent(self, conversation: str, limit: int, since: float | None) -> list[RoomRecord]:
        """The last `limit` delivered messages (oldest first), from `since` on."""
        if limit <= 0:
            return []
        rows = await self._select(
            "conversation = ? AND body IS NOT NULL AND verdict NOT IN ('removed', 'retracted')"
            " AND messages.created_at >= ?",
            [conversation, since or 0.0],
            "DESC",
            limit,
        )
        return rows[::-1]

    async def search(self, conversation: str, query: ArchiveQuery) -> tuple[list[RoomRecord], bool]:
        """A page of the archive in time order, and whether it reaches the end of what was asked."""
        where = ["conversation = ?", "body IS NOT NULL"]
        args: list[object] = [conversation]
        for clause, value in (
            ("messages.created_at >= ?", query.start),
            ("messages.created_at <= ?", query.end),
            ("sender_id = ?", query.sender_id),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        if query.match is not None and isinstance(self.db, PostgresDatabase):
            where.append(postgres_match("messages", "?"))
            args.append(postgres_query(query.match))
        elif query.match is not None:
            await bring_index_up_to_date(self.db)
            where.append("seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            args.append(query.match)
        if query.ids:
            where.append(f"stanza_id IN ({', '.join('?' * len(query.ids))})")
            args.extend(query.ids)
        for clause, anchor in (("seq > ?", query.after_id), ("seq < ?", query.before_id)):
            if anchor:
                where.append(clause)
                args.append(await self._seq(anchor))
        backwards = query.before_id is not None
        rows = await self._select(" AND ".join(where), args, "DESC" if backwards else "ASC", query.limit + 1)
        complete = len(rows) <= query.limit
        rows = rows[: query.limit]
        return (rows[::-1] if backwards else rows), complete

    async def _seq(self, stanza_id: str) -> int:
        async with self.db.execute("SELECT seq FROM messages WHERE stanza_id = ?", (stanza_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise KeyError(stanza_id)
        return int(row[0])

    async def _select(self, where: str, args: list[object], order: str, limit: int) -> list[RoomRecord]:
        async with self.db.execute(
            "SELECT seq, stanza_id, sender_id, COALESCE(members.pseudonym, ?), client_id, body, messages.created_at,"
            " verdict, COALESCE(remover.pseudonym, ''), refs, quote_end FROM messages"
            " LEFT JOIN members ON members.id = sender_id"
            f" LEFT JOIN members AS remover ON remover.id = removed_by WHERE {where} ORDER BY seq {order} LIMIT ?",
            (self.guide_name, *args, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        records = []
        for seq, stanza_id, sender_id, nick, client_id, body, created_at, verdict, removed_by, refs, quote_end in rows:
            removed, retracted = verdict == "removed", verdict == "retracted"
            fields = (seq, stanza_id, sender_id, nick, client_id, body, created_at, removed, retracted, removed_by)
            records.append(RoomRecord(*fields, refs, quote_end))
        return records
