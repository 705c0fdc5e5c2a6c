"""The store: aiosqlite in WAL mode, numbered migrations, one writer that groups commits."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from chatd.core.model import Member, Role, Status
from chatd.store.rooms import RoomStore

log = logging.getLogger("chatd.store")


class StoreError(Exception):
    """A store operation failed for a reason the caller can explain."""


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    stanza_id: str
    conversation: str
    sender_id: int
    recipient_id: int | None
    client_id: str | None
    body: str | None
    original: str | None
    verdict: str
    findings: Sequence[dict[str, object]]
    created_at: float


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("chatd.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _member(row: aiosqlite.Row) -> Member:
    return Member(
        id=row["id"],
        account=row["account"],
        realm=row["realm"],
        pseudonym=row["pseudonym"],
        role=Role(row["role"]),
        status=Status(row["status"]),
        joined_at=row["joined_at"],
    )


class Store:
    def __init__(self, db: aiosqlite.Connection):
        self.db = db
        self._pending: list[tuple[ArchivedMessage, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.rooms = RoomStore(db)  # rooms and group members: chatd/store/rooms.py

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path))
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store._migrate()
        return store

    async def close(self) -> None:
        if self._writer is not None:
            await self._flush_pending()
            self._writer.cancel()
            self._writer = None
        await self.db.close()

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"
        )
        async with self.db.execute("SELECT version FROM schema_migrations") as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        for version, sql in _migrations():
            if version in done:
                continue
            await self.db.executescript(f"BEGIN;\n{sql}\nCOMMIT;")
            await self.db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
            await self.db.commit()
            log.info("store migrated to version %d", version)

    async def ping(self) -> bool:
        try:
            async with self.db.execute("SELECT 1") as cursor:
                return (await cursor.fetchone()) is not None
        except Exception:
            return False

    async def data_version(self) -> int:
        """Changes when another connection (e.g. the CLI) commits."""
        async with self.db.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # members

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
        except aiosqlite.IntegrityError as exc:
            await self.db.rollback()
            if "account" in str(exc):
                raise StoreError("this account is already a member") from exc
            raise StoreError("this pseudonym is taken in that realm") from exc
        member = await self.member_by_id(cursor.lastrowid or 0)
        assert member is not None
        return member

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

    # archive

    async def archive(self, message: ArchivedMessage) -> None:
        """Returns once the message is committed. Concurrent calls share one commit."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((message, done))
        self._wake.set()
        await done

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        rows = [
            (
                m.stanza_id,
                m.conversation,
                m.sender_id,
                m.recipient_id,
                m.client_id,
                m.body,
                m.original,
                m.verdict,
                json.dumps(list(m.findings)),
                m.created_at,
            )
            for m, _ in batch
        ]
        try:
            await self.db.executemany(
                "INSERT INTO messages (stanza_id, conversation, sender_id, recipient_id,"
                " client_id, body, original, verdict, findings, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            await self.db.commit()
        except Exception as exc:
            await self.db.rollback()
            for _, done in batch:
                if not done.done():
                    done.set_exception(StoreError(f"archive failed: {type(exc).__name__}"))
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def conversation(self, conversation: str, limit: int = 100) -> list[ArchivedMessage]:
        rows = await self._messages("conversation = ?", (conversation,), limit)
        return list(reversed(rows))

    async def conversations_like(self, prefix: str) -> list[str]:
        async with self.db.execute(
            "SELECT DISTINCT conversation FROM messages WHERE conversation LIKE ?", (f"{prefix}%",)
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def recent_by_member(self, member_id: int, limit: int = 10) -> list[ArchivedMessage]:
        """A member's latest texts across conversations, newest first (shadow rooms excluded)."""
        return await self._messages("sender_id = ? AND conversation NOT LIKE 'watch:%'", (member_id,), limit)

    async def find_message(self, short_id: str, verdicts: tuple[str, ...]) -> ArchivedMessage | None:
        """A member's message by the random tail of its stanza id (what guides type), if unique."""
        if not short_id.isalnum() or not verdicts:
            return None
        marks = ", ".join("?" * len(verdicts))
        rows = await self._messages(
            f"verdict IN ({marks}) AND stanza_id LIKE ? AND conversation NOT LIKE 'watch:%'",
            (*verdicts, f"%-{short_id}"),
            2,
        )
        return rows[0] if len(rows) == 1 else None

    async def reported_message(self, conversation: str, reply_id: str) -> ArchivedMessage | None:
        """The message a report answers: by stanza id (rooms) or by the author's own id (chats)."""
        rows = await self._messages(
            "conversation = ? AND (stanza_id = ? OR client_id = ?)", (conversation, reply_id, reply_id), 1
        )
        return rows[0] if rows else None

    async def latest_between(self, sender_id: int, recipient_id: int) -> ArchivedMessage | None:
        """The last one-on-one message one member sent another."""
        rows = await self._messages("sender_id = ? AND recipient_id = ? AND conversation LIKE 'dm:%'",
                                    (sender_id, recipient_id), 1)  # fmt: skip
        return rows[0] if rows else None

    async def quoted_message(self, recipient_id: int, quote: str) -> ArchivedMessage | None:
        """The latest message a member received that contains the quoted text (a report to wallguide@)."""
        rows = await self._messages(
            "recipient_id = ? AND conversation LIKE 'dm:%' AND instr(body, ?) > 0", (recipient_id, quote), 1
        )
        return rows[0] if rows else None

    async def settle_held(self, stanza_id: str, verdict: str, body: str | None) -> None:
        """A guide approved (with the text delivered) or rejected a held message."""
        await self.db.execute(
            "UPDATE messages SET verdict = ?, body = ? WHERE stanza_id = ? AND verdict = 'hold'",
            (verdict, body, stanza_id),
        )
        await self.db.commit()

    async def moderate(self, stanza_id: str, body: str) -> None:
        """A guide removed (body '') or edited a delivered message; the original stays for moderators."""
        await self.db.execute(
            "UPDATE messages SET original = COALESCE(original, body), body = ?,"
            " verdict = CASE WHEN ? = '' THEN 'removed' ELSE 'edited' END WHERE stanza_id = ?",
            (body, body, stanza_id),
        )
        await self.db.commit()

    async def _messages(self, where: str, args: tuple[object, ...], limit: int) -> list[ArchivedMessage]:
        async with self.db.execute(
            f"SELECT * FROM messages WHERE {where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            ArchivedMessage(
                stanza_id=r["stanza_id"],
                conversation=r["conversation"],
                sender_id=r["sender_id"],
                recipient_id=r["recipient_id"],
                client_id=r["client_id"],
                body=r["body"],
                original=r["original"],
                verdict=r["verdict"],
                findings=json.loads(r["findings"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]
