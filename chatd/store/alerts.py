"""The alerts table: what the moderation hook flagged, waiting for the Wall Guides' queue."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from policies import Alert


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    realm: str
    member_id: int
    conversation: str
    kind: str
    severity: int
    status: str
    created_at: float


async def add_alerts(
    db: aiosqlite.Connection, realm: str, member_id: int, conversation: str, alerts: Iterable[Alert]
) -> None:
    now = time.time()
    await db.executemany(
        "INSERT INTO alerts (realm, member_id, conversation, kind, severity, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(realm, member_id, conversation, a.kind, a.severity, now) for a in alerts],
    )
    await db.commit()


async def open_alerts(db: aiosqlite.Connection, realm: str) -> list[AlertRow]:
    async with db.execute(
        "SELECT id, realm, member_id, conversation, kind, severity, status, created_at FROM alerts"
        " WHERE realm = ? AND status = 'open' ORDER BY severity DESC, created_at",
        (realm,),
    ) as cursor:
        return [AlertRow(*row) for row in await cursor.fetchall()]
