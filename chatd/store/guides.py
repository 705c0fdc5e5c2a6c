"""The Wall Guides' tables: triage queue, mutes, watchlist, notes, crisis follow-ups."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from chatd.core.guides import QueueEntry
from chatd.store.db import Database

QUEUE_COLUMNS = (
    "id, realm, kind, severity, conversation, summary, created_at, status, claimed_by, announced_at, signals"
)


def _entry(row: Sequence[Any]) -> QueueEntry:
    return QueueEntry(*row[:-1], signals=tuple(row[-1].split()))


class GuideStore:
    def __init__(self, db: Database):
        self.db = db

    # queue

    async def add_entry(
        self, realm: str, kind: str, severity: int, conversation: str, summary: str, signals: tuple[str, ...] = ()
    ) -> QueueEntry:
        now = time.time()
        cursor = await self.db.execute(
            "INSERT INTO queue (realm, kind, severity, conversation, summary, created_at, announced_at, signals)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (realm, kind, severity, conversation, summary, now, now, " ".join(signals)),
        )
        await self.db.commit()
        entry_id = cursor.lastrowid or 0
        return QueueEntry(
            entry_id, realm, kind, severity, conversation, summary, now, announced_at=now, signals=signals
        )

    async def entry(self, realm: str, entry_id: int) -> QueueEntry | None:
        async with self.db.execute(
            f"SELECT {QUEUE_COLUMNS} FROM queue WHERE realm = ? AND id = ?", (realm, entry_id)
        ) as cursor:
            row = await cursor.fetchone()
        return _entry(row) if row else None

    async def entries(self, realm: str, include_resolved: bool = False) -> list[QueueEntry]:
        where = "realm = ?" if include_resolved else "realm = ? AND status <> 'resolved'"
        async with self.db.execute(f"SELECT {QUEUE_COLUMNS} FROM queue WHERE {where}", (realm,)) as cursor:
            return [_entry(row) for row in await cursor.fetchall()]

    async def set_status(self, realm: str, entry_id: int, status: str, claimed_by: str = "") -> None:
        await self.db.execute(
            "UPDATE queue SET status = ?, claimed_by = CASE WHEN ? = '' THEN claimed_by ELSE ? END"
            " WHERE realm = ? AND id = ?",
            (status, claimed_by, claimed_by, realm, entry_id),
        )
        await self.db.commit()

    async def mark_announced(self, entry_ids: list[int], at: float) -> None:
        await self.db.executemany("UPDATE queue SET announced_at = ? WHERE id = ?", [(at, i) for i in entry_ids])
        await self.db.commit()

    async def add_feedback(self, entry_id: int, guide: str, helpful: bool, note: str) -> bool:
        """A guide's answer to an alert; False when that guide answered it already (the first answer stays)."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO alert_feedback VALUES (?, ?, ?, ?, ?)",
            (entry_id, guide, "helpful" if helpful else "not_helpful", note, time.time()),
        )
        await self.db.commit()
        return cursor.rowcount > 0

    # mutes and the watchlist

    async def mute(self, member_id: int, until: float, reason: str, by: str) -> None:
        await self.db.execute(
            "INSERT INTO mutes VALUES (?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE"
            " SET until = excluded.until, reason = excluded.reason, muted_by = excluded.muted_by",
            (member_id, until, reason, by),
        )
        await self.db.commit()

    async def unmute(self, member_id: int) -> bool:
        cursor = await self.db.execute("DELETE FROM mutes WHERE member_id = ?", (member_id,))
        await self.db.commit()
        return cursor.rowcount > 0

    async def mutes(self) -> dict[int, float]:
        async with self.db.execute("SELECT member_id, until FROM mutes") as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def watch(self, member_id: int, reason: str, by: str, on: bool) -> bool:
        if on:
            cursor = await self.db.execute(
                "INSERT OR IGNORE INTO watchlist VALUES (?, ?, ?, ?)", (member_id, time.time(), reason, by)
            )
        else:
            cursor = await self.db.execute("DELETE FROM watchlist WHERE member_id = ?", (member_id,))
        await self.db.commit()
        return cursor.rowcount > 0

    async def watched(self) -> set[int]:
        async with self.db.execute("SELECT member_id FROM watchlist") as cursor:
            return {row[0] for row in await cursor.fetchall()}

    # crisis follow-ups

    async def crisis_sent(self, member_id: int, sent_at: float, severity: int) -> None:
        """Crisis resources went to the member at sent_at; the row holds the latest and its severity."""
        await self.db.execute(
            "INSERT INTO crisis_followups VALUES (?, ?, ?) ON CONFLICT (member_id) DO UPDATE"
            " SET sent_at = excluded.sent_at, severity = excluded.severity",
            (member_id, sent_at, severity),
        )
        await self.db.commit()

    async def crisis_followups(self, since: float) -> list[tuple[int, float, int]]:
        """(member id, sent at, severity) of crisis resources sent since then."""
        async with self.db.execute(
            "SELECT member_id, sent_at, severity FROM crisis_followups WHERE sent_at >= ?", (since,)
        ) as cursor:
            return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    # notes

    async def add_note(self, member_id: int, by: str, text: str) -> None:
        await self.db.execute(
            "INSERT INTO notes (member_id, at, written_by, text) VALUES (?, ?, ?, ?)",
            (member_id, time.time(), by, text),
        )
        await self.db.commit()

    async def notes(self, member_id: int, limit: int = 10) -> list[tuple[float, str, str]]:
        async with self.db.execute(
            "SELECT at, written_by, text FROM notes WHERE member_id = ? ORDER BY at DESC LIMIT ?", (member_id, limit)
        ) as cursor:
            return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]
