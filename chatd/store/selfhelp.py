"""What selfhelp@ keeps for each member: an open check-in, completed scores, journal entries (migration 016).

All of it is the member's: `export` gathers it, `forget` removes it (and the member's row takes it along:
ON DELETE CASCADE).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite

from chatd.core.checkin import Progress


@dataclass(frozen=True, slots=True)
class Score:
    instrument: str
    version: int
    answers: tuple[int, ...]
    score: int
    band: tuple[int, int]
    at: float


@dataclass(frozen=True, slots=True)
class Entry:
    number: int
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Kept:
    """Everything the bot keeps about one member."""

    open: Progress | None
    scores: list[Score]
    entries: list[Entry]
    told_at: float | None


class SelfHelpStore:
    def __init__(self, db: aiosqlite.Connection):
        self.db = db

    # check-ins

    async def open_checkin(self, member_id: int) -> Progress | None:
        async with self.db.execute("SELECT * FROM selfhelp_open WHERE member_id = ?", (member_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return Progress(row["instrument"], tuple(json.loads(row["answers"])), bool(row["paused"]))

    async def keep_checkin(self, member_id: int, progress: Progress | None, now: float) -> None:
        """The member's open check-in as it is now (None: none open)."""
        if progress is None:
            await self.db.execute("DELETE FROM selfhelp_open WHERE member_id = ?", (member_id,))
        else:
            await self.db.execute(
                "INSERT OR REPLACE INTO selfhelp_open (member_id, instrument, answers, paused, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (member_id, progress.instrument, json.dumps(list(progress.answers)), int(progress.paused), now),
            )
        await self.db.commit()

    async def add_score(self, member_id: int, score: Score) -> None:
        await self.db.execute(
            "INSERT INTO selfhelp_results (member_id, instrument, version, answers, score, band_min, band_max,"
            " completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                member_id,
                score.instrument,
                score.version,
                json.dumps(list(score.answers)),
                score.score,
                score.band[0],
                score.band[1],
                score.at,
            ),
        )
        await self.db.commit()

    async def scores(self, member_id: int) -> list[Score]:
        """Oldest first."""
        async with self.db.execute(
            "SELECT * FROM selfhelp_results WHERE member_id = ? ORDER BY completed_at, id", (member_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Score(
                r["instrument"],
                r["version"],
                tuple(json.loads(r["answers"])),
                r["score"],
                (r["band_min"], r["band_max"]),
                r["completed_at"],
            )
            for r in rows
        ]

    # the journal

    async def add_entry(self, member_id: int, text: str, now: float) -> int:
        """The entry's number for the member."""
        async with self.db.execute(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM journal_entries WHERE member_id = ?", (member_id,)
        ) as cursor:
            row = await cursor.fetchone()
        number = int(row[0]) if row else 1
        await self.db.execute(
            "INSERT INTO journal_entries (member_id, number, text, created_at) VALUES (?, ?, ?, ?)",
            (member_id, number, text, now),
        )
        await self.db.commit()
        return number

    async def entries(self, member_id: int) -> list[Entry]:
        """Oldest first."""
        async with self.db.execute(
            "SELECT number, text, created_at FROM journal_entries WHERE member_id = ? ORDER BY number", (member_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [Entry(r["number"], r["text"], r["created_at"]) for r in rows]

    async def delete_entry(self, member_id: int, number: int) -> bool:
        cursor = await self.db.execute(
            "DELETE FROM journal_entries WHERE member_id = ? AND number = ?", (member_id, number)
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def claim_told(self, member_id: int, now: float) -> bool:
        """True the first time only: the member is now told who may read their journal."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO journal_told (member_id, at) VALUES (?, ?)", (member_id, now)
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def told_at(self, member_id: int) -> float | None:
        async with self.db.execute("SELECT at FROM journal_told WHERE member_id = ?", (member_id,)) as cursor:
            row = await cursor.fetchone()
        return float(row["at"]) if row else None

    # the member's

    async def export(self, member_id: int) -> Kept:
        return Kept(
            await self.open_checkin(member_id),
            await self.scores(member_id),
            await self.entries(member_id),
            await self.told_at(member_id),
        )

    async def forget(self, member_id: int) -> None:
        """Everything the bot keeps about the member, removed (their account is being deleted)."""
        for table in ("selfhelp_open", "selfhelp_results", "journal_entries", "journal_told"):
            await self.db.execute(f"DELETE FROM {table} WHERE member_id = ?", (member_id,))
        await self.db.commit()
