"""Members and blocks in the store (a part of chatd.store.Store)."""

from __future__ import annotations

import time
from typing import Any

import aiosqlite
import asyncpg

from chatd.core.model import Member, Role, Status
from chatd.store.db import Database
from chatd.store.errors import StoreError


def _member(row: Any) -> Member:
    return Member(
        id=row["id"],
        account=row["account"],
        realm=row["realm"],
        pseudonym=row["pseudonym"],
        role=Role(row["role"]),
        status=Status(row["status"]),
        joined_at=row["joined_at"],
    )


class MemberRows:
    """Members (accounts, pseudonyms, roles, status) and who blocked whom."""

    db: Database

    async def add_member(
        self, account: str, realm: str, pseudonym: str, role: Role, joined_at: float | None = None
    ) -> Member:
        try:
            cursor = await self.db.execute(
                "INSERT INTO members (account, realm, pseudonym, role, status, joined_at)"
                " VALUES (?, ?, ?, ?, 'active', ?)",
                (account, realm, pseudonym, role.value, joined_at or time.time()),
            )
            await self.db.commit()
        except (aiosqlite.IntegrityError, asyncpg.UniqueViolationError) as exc:
            await self.db.rollback()
            if "account" in str(exc):
                raise StoreError("this account is already a member") from exc
            raise StoreError("this pseudonym is taken in that realm") from exc
        member = await self.member_by_id(cursor.lastrowid or 0)
        assert member is not None
        return member

    async def claim_welcome(self, member_id: int, place: str, now: float) -> bool:
        """True the first time only: the member is now remembered as welcomed ('' at login, else in a room)."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO welcomed (member_id, place, at) VALUES (?, ?, ?)", (member_id, place, now)
        )
        await self.db.commit()
        return cursor.rowcount == 1

    async def member_by_id(self, member_id: int) -> Member | None:
        async with self.db.execute("SELECT * FROM members WHERE id = ?", (member_id,)) as cursor:
            row = await cursor.fetchone()
        return _member(row) if row else None

    async def members(self, realm: str | None = None) -> list[Member]:
        query, args = "SELECT * FROM members ORDER BY realm, pseudonym", ()
        if realm:
            query, args = "SELECT * FROM members WHERE realm = ? ORDER BY pseudonym", (realm,)
        async with self.db.execute(query, args) as cursor:
            return [_member(row) for row in await cursor.fetchall()]

    async def set_status(self, realm: str, pseudonym: str, status: Status) -> Member:
        cursor = await self.db.execute(
            "UPDATE members SET status = ? WHERE realm = ? AND pseudonym = ?",
            (status.value, realm, pseudonym),
        )
        await self.db.commit()
        if cursor.rowcount == 0:
            raise StoreError(f"no member {pseudonym} in realm {realm}")
        async with self.db.execute(
            "SELECT * FROM members WHERE realm = ? AND pseudonym = ?", (realm, pseudonym)
        ) as cur:
            row = await cur.fetchone()
        return _member(row)

    async def blocks(self) -> list[tuple[int, int]]:
        async with self.db.execute("SELECT blocker_id, blocked_id FROM blocks") as cursor:
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def set_block(self, blocker_id: int, blocked_id: int, on: bool) -> None:
        if on:
            await self.db.execute(
                "INSERT OR IGNORE INTO blocks VALUES (?, ?, ?)", (blocker_id, blocked_id, time.time())
            )
        else:
            await self.db.execute(
                "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", (blocker_id, blocked_id)
            )
        await self.db.commit()
