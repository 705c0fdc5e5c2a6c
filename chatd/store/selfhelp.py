"""What selfhelp@ keeps for each member: an open check-in, completed scores, journal entries (migration 015).

All of it is the member's: `export` gathers it, `forget` removes it (and the member's row takes it along:
ON DELETE CASCADE).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatd.core.checkin import Progress
from chatd.core.goals import Goal
from chatd.store.db import Database


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
    goals: list[tuple[Goal, list[float]]]  # each goal with the times progress was recorded
    courses: list[tuple[str, int, float]]  # (course, next lesson from 0, enrolled at)


class SelfHelpStore:
    def __init__(self, db: Database):
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
                "INSERT INTO selfhelp_open (member_id, instrument, answers, paused, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (member_id) DO UPDATE SET instrument = excluded.instrument, answers = excluded.answers,"
                " paused = excluded.paused, updated_at = excluded.updated_at",
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
        number = await self._next_number("journal_entries", member_id)
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
        return await self._changed(
            "DELETE FROM journal_entries WHERE member_id = ? AND number = ?", (member_id, number)
        )

    async def claim_told(self, member_id: int, now: float) -> bool:
        """True the first time only: the member is now told who may read their journal."""
        return await self._changed("INSERT OR IGNORE INTO journal_told (member_id, at) VALUES (?, ?)", (member_id, now))

    async def told_at(self, member_id: int) -> float | None:
        async with self.db.execute("SELECT at FROM journal_told WHERE member_id = ?", (member_id,)) as cursor:
            row = await cursor.fetchone()
        return float(row["at"]) if row else None

    # goals

    async def add_goal(self, member_id: int, text: str, every_days: int, next_at: float | None, now: float) -> int:
        """The goal's number for the member."""
        number = await self._next_number("selfhelp_goals", member_id)
        await self.db.execute(
            "INSERT INTO selfhelp_goals (member_id, number, text, every_days, next_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (member_id, number, text, every_days, next_at, now),
        )
        await self.db.commit()
        return number

    async def goals(self, member_id: int) -> list[Goal]:
        async with self.db.execute(
            "SELECT * FROM selfhelp_goals WHERE member_id = ? ORDER BY number", (member_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [_goal(r) for r in rows]

    async def set_pace(self, member_id: int, number: int, every_days: int, next_at: float | None) -> bool:
        return await self._changed(
            "UPDATE selfhelp_goals SET every_days = ?, next_at = ? WHERE member_id = ? AND number = ?",
            (every_days, next_at, member_id, number),
        )

    async def end_goal(self, member_id: int, number: int) -> bool:
        return await self._changed("DELETE FROM selfhelp_goals WHERE member_id = ? AND number = ?", (member_id, number))

    async def add_progress(self, member_id: int, number: int, now: float) -> None:
        await self.db.execute(
            "INSERT INTO selfhelp_progress (goal_id, at)"
            " SELECT id, ? FROM selfhelp_goals WHERE member_id = ? AND number = ?",
            (now, member_id, number),
        )
        await self.db.commit()

    async def progress(self, member_id: int, number: int) -> list[float]:
        async with self.db.execute(
            "SELECT p.at FROM selfhelp_progress p JOIN selfhelp_goals g ON g.id = p.goal_id"
            " WHERE g.member_id = ? AND g.number = ? ORDER BY p.at",
            (member_id, number),
        ) as cursor:
            return [float(r[0]) for r in await cursor.fetchall()]

    async def due_goals(self, now: float) -> list[tuple[int, Goal]]:
        """(member id, goal) for every goal whose check-in is due."""
        async with self.db.execute(
            "SELECT * FROM selfhelp_goals WHERE every_days > 0 AND next_at <= ? ORDER BY next_at", (now,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [(int(r["member_id"]), _goal(r)) for r in rows]

    async def checked_in(self, member_id: int, number: int, due_at: float, next_at: float) -> bool:
        """The check-in due at due_at is claimed, the next one set: True for the one caller that moved it on
        (several instances on one store run the same loop)."""
        return await self._changed(
            "UPDATE selfhelp_goals SET next_at = ? WHERE member_id = ? AND number = ? AND next_at = ?",
            (next_at, member_id, number, due_at),
        )

    async def _changed(self, sql: str, args: tuple[object, ...]) -> bool:
        """One statement, committed: True when it changed a row."""
        cursor = await self.db.execute(sql, args)
        await self.db.commit()
        return cursor.rowcount == 1

    async def _next_number(self, table: str, member_id: int) -> int:
        """The member's next number in a table (journal entries, goals): not reused while later ones exist."""
        async with self.db.execute(
            f"SELECT COALESCE(MAX(number), 0) + 1 FROM {table} WHERE member_id = ?", (member_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 1

    # courses

    async def enrolments(self, member_id: int) -> list[tuple[str, int, float]]:
        async with self.db.execute(
            "SELECT course, next_lesson, enrolled_at FROM selfhelp_courses WHERE member_id = ? ORDER BY enrolled_at",
            (member_id,),
        ) as cursor:
            return [(r[0], int(r[1]), float(r[2])) for r in await cursor.fetchall()]

    async def enrol(self, member_id: int, course: str, now: float) -> bool:
        """True when the member was not enrolled yet."""
        return await self._changed(
            "INSERT OR IGNORE INTO selfhelp_courses (member_id, course, next_lesson, enrolled_at) VALUES (?, ?, 0, ?)",
            (member_id, course, now),
        )

    async def next_lesson(self, member_id: int, course: str, index: int) -> None:
        await self._changed(
            "UPDATE selfhelp_courses SET next_lesson = ? WHERE member_id = ? AND course = ?", (index, member_id, course)
        )

    # the member's

    async def export(self, member_id: int) -> Kept:
        return Kept(
            await self.open_checkin(member_id),
            await self.scores(member_id),
            await self.entries(member_id),
            await self.told_at(member_id),
            [(goal, await self.progress(member_id, goal.number)) for goal in await self.goals(member_id)],
            await self.enrolments(member_id),
        )

    async def forget(self, member_id: int) -> None:
        """Everything the bot keeps about the member, removed (their account is being deleted)."""
        for table in (
            "selfhelp_open",
            "selfhelp_results",
            "journal_entries",
            "journal_told",
            "selfhelp_goals",
            "selfhelp_courses",
        ):
            await self.db.execute(f"DELETE FROM {table} WHERE member_id = ?", (member_id,))
        await self.db.commit()


def _goal(row: Any) -> Goal:
    return Goal(row["number"], row["text"], row["every_days"], row["next_at"], row["created_at"])
