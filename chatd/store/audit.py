"""The audit log on its own connection: appends are serialized across processes (CLI and service)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiosqlite

from chatd.core.audit import GENESIS, AuditRecord, chain_hash
from chatd.store.db import Database, PostgresDatabase, is_postgres


class AuditLog:
    def __init__(self, db: Database):
        self.db = db
        self._lock = asyncio.Lock()  # one transaction at a time on this connection

    @classmethod
    async def open(cls, path: str | Path) -> AuditLog:
        """A separate connection (the store must have been opened once, so the table exists)."""
        if is_postgres(path):
            return cls(await PostgresDatabase.connect(str(path)))
        db = await aiosqlite.connect(str(path), isolation_level=None)  # explicit transactions only
        await db.execute("PRAGMA busy_timeout=10000")
        return cls(db)

    async def close(self) -> None:
        await self.db.close()

    async def append(
        self, actor: str, action: str, realm: str, target: str, detail: dict[str, Any] | None = None
    ) -> AuditRecord:
        async with self._lock:
            return await self._append(actor, action, realm, target, detail or {})

    async def _append(self, actor: str, action: str, realm: str, target: str, detail: dict[str, Any]) -> AuditRecord:
        await self.db.execute("BEGIN IMMEDIATE")  # the write lock: no other process (or instance) appends meanwhile
        try:
            async with self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") as cursor:
                last = await cursor.fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            at = time.time()
            digest = chain_hash(prev, seq, at, actor, action, realm, target, detail)
            await self.db.execute(
                "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, action, realm, target, json.dumps(detail, ensure_ascii=False), prev, digest),
            )
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        return AuditRecord(seq, at, actor, action, realm, target, detail, prev, digest)

    async def records(self, action_prefix: str = "") -> list[AuditRecord]:
        async with self.db.execute(
            "SELECT seq, at, actor, action, realm, target, detail, prev_hash, hash FROM audit"
            " WHERE action LIKE ? ORDER BY seq",
            (f"{action_prefix}%",),
        ) as cursor:
            rows = await cursor.fetchall()
        return [AuditRecord(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]
