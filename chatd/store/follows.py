"""Follows and each follower's digest schedule (chatd/follows.py), and the counts digests report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatd.core import keys
from chatd.core.follows import Pace
from chatd.store.db import Database

# members' texts the room's occupants saw: delivered (as written, redacted, edited or approved), never held,
# rejected, removed, taken back, nor a reaction; what the guides post under their name (sender 0: welcomes,
# resources) is not counted
COUNTED = (
    "sender_id != 0 AND body IS NOT NULL AND body != ''"
    " AND verdict NOT IN ('hold', 'reject', 'rejected', 'removed', 'retracted')"
    " AND (refs IS NULL OR refs NOT LIKE '%\"reactions_to\"%')"
)


@dataclass(frozen=True, slots=True)
class Follower:
    member_id: int
    pace: Pace
    since: float  # the next digest counts from here
    due_at: float | None
    waiting_id: str | None  # the last digest, while the member has not been seen since


class FollowStore:
    def __init__(self, db: Database):
        self.db = db

    async def follows(self, member_id: int) -> dict[str, float]:
        """target -> since, for one member."""
        async with self.db.execute(
            "SELECT target, since FROM follows WHERE member_id = ? ORDER BY target", (member_id,)
        ) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def follower(self, member_id: int) -> Follower | None:
        async with self.db.execute(
            "SELECT member_id, pace, since, due_at, waiting_id FROM followers WHERE member_id = ?", (member_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return Follower(row[0], Pace(row[1]), row[2], row[3], row[4]) if row else None

    async def follow(self, member_id: int, target: str, now: float, pace: Pace, due_at: float | None) -> bool:
        """Adds a follow (False when it was there) and makes the member a follower at that pace."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO follows (member_id, target, since) VALUES (?, ?, ?)", (member_id, target, now)
        )
        await self.db.execute(
            "INSERT INTO followers (member_id, pace, since, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (member_id) DO NOTHING",
            (member_id, pace.value, now, due_at),
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def set_pace(self, member_id: int, pace: Pace, since: float, due_at: float | None) -> None:
        await self.db.execute(
            "UPDATE followers SET pace = ?, since = ?, due_at = ? WHERE member_id = ?",
            (pace.value, since, due_at, member_id),
        )
        await self.db.commit()

    async def unfollow(self, member_id: int, target: str) -> bool:
        """Removes a follow (False when there was none); without follows, the member is no follower."""
        cursor = await self.db.execute("DELETE FROM follows WHERE member_id = ? AND target = ?", (member_id, target))
        await self.db.execute(
            "DELETE FROM followers WHERE member_id = ? AND NOT EXISTS (SELECT 1 FROM follows WHERE member_id = ?)",
            (member_id, member_id),
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def due(self, now: float) -> list[Follower]:
        """Followers whose digest is due and who have none waiting."""
        async with self.db.execute(
            "SELECT member_id, pace, since, due_at, waiting_id FROM followers"
            " WHERE due_at IS NOT NULL AND waiting_id IS NULL AND due_at <= ? ORDER BY due_at",
            (now,),
        ) as cursor:
            return [Follower(r[0], Pace(r[1]), r[2], r[3], r[4]) for r in await cursor.fetchall()]

    async def waiting(self) -> set[int]:
        async with self.db.execute("SELECT member_id FROM followers WHERE waiting_id IS NOT NULL") as cursor:
            return {row[0] for row in await cursor.fetchall()}

    async def claim_window(
        self, member_id: int, since: float, until: float, due_at: float | None, digest_id: str | None
    ) -> bool:
        """The window (since, until] is reported, once: True for the one caller that moved it on (a digest with
        digest_id is then waiting to be seen; None: nothing was new)."""
        cursor = await self.db.execute(
            "UPDATE followers SET since = ?, due_at = ?, waiting_id = ? WHERE member_id = ? AND since = ?",
            (until, due_at, digest_id, member_id, since),
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def seen(self, member_id: int, earliest: float) -> None:
        """The member was seen after their last digest was sent: the next one is due at `earliest` at the earliest."""
        await self.db.execute(
            "UPDATE followers SET waiting_id = NULL,"
            " due_at = CASE WHEN due_at IS NULL THEN NULL ELSE MAX(due_at, ?) END"
            " WHERE member_id = ? AND waiting_id IS NOT NULL",
            (earliest, member_id),
        )
        await self.db.commit()

    async def new_messages(self, realm: str, starts: Mapping[str, float], until: float) -> dict[str, int]:
        """Room id -> how many messages its members saw in (start, until]."""
        counts: dict[str, int] = {}
        for room, start in starts.items():
            async with self.db.execute(
                f"SELECT COUNT(*) FROM messages WHERE conversation = ? AND created_at > ? AND created_at <= ?"
                f" AND {COUNTED}",
                (str(keys.room(realm, room)), start, until),
            ) as cursor:
                row = await cursor.fetchone()
            counts[room] = int(row[0]) if row else 0
        return counts
