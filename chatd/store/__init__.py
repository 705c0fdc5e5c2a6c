"""The store: aiosqlite in WAL mode (or PostgreSQL: chatd/store/db.py), numbered migrations, one writer that
groups commits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import aiosqlite
import asyncpg

from chatd.core.pipeline import ArchivedMessage
from chatd.store.db import Database, PostgresDatabase, is_postgres
from chatd.store.errors import StoreError
from chatd.store.members import MemberRows
from chatd.store.reads import ArchiveReads
from chatd.store.rooms import RoomStore
from chatd.store.search import ArchiveSearch, bring_index_up_to_date, index_new_texts
from chatd.store.sentlog import SentLog

__all__ = ["ArchivedMessage", "Store", "StoreError"]

log = logging.getLogger("chatd.store")


# SQLite's result codes for a store that cannot take writes, in plain words (extended codes share the prefix).
STORE_FAULTS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the disk or file is read-only",
    "SQLITE_IOERR": "the disk reports an I/O error",
    "SQLITE_CANTOPEN": "the file cannot be opened",
    "SQLITE_NOTADB": "the file is not a SQLite database",
}
PAGE_SIZE = 1024  # a commit writes whole pages to the WAL: small pages keep a one-row commit small
WAL_PAGES = 1000  # checkpoint after this many WAL pages, and truncate the WAL back to that size
PROBE_SECONDS = 1.0  # while writes fail, try again this often
MIGRATION_LOCK = 2  # PostgreSQL's advisory lock while migrating (chatd.store.db.WRITE_LOCK is 1)
SEARCH_BATCH = 500  # archived rows the search index takes at once (and before any search): FTS5 is cheaper in batches
SENT_SECONDS = 0.5  # sent marks already in the sent log wait this long for an archive commit to ride on
ROOM_BYTES = WAL_PAGES * PAGE_SIZE  # after a fault, writes count as working again once the disk has room for a full WAL
STORE_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)  # a write that failed
ARCHIVE_INSERT = (
    "INSERT INTO messages (stanza_id, conversation, sender_id, recipient_id,"
    " client_id, body, original, verdict, findings, created_at, unsent, refs, quote_end)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
MARK_SENT = "UPDATE messages SET unsent = 0 WHERE stanza_id = ?"


def store_folder(path: str | Path) -> Path | None:
    """The folder that holds the store's files (made if missing); None for an in-memory store."""
    if str(path) == ":memory:":
        return None
    folder = Path(os.path.abspath(path)).parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_bytes(folder: Path) -> int:
    disk = os.statvfs(folder)
    return disk.f_bavail * disk.f_frsize


def fault_of(exc: BaseException, folder: Path | None) -> str:
    """Why a write failed, in plain words (a full disk can also show as an I/O error, e.g. growing the WAL index)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if folder is not None and not name.startswith("SQLITE_READONLY") and free_bytes(folder) < ROOM_BYTES:
        return STORE_FAULTS["SQLITE_FULL"]
    return next((text for code, text in STORE_FAULTS.items() if name.startswith(code)), type(exc).__name__)


def _write_batch(db: sqlite3.Connection, rows: list[tuple[object, ...]], sent: list[str], index: bool) -> None:
    """On the database's thread: one commit for a batch of archived messages and sent marks (and, every
    SEARCH_BATCH rows, the search index's batch)."""
    db.executemany(ARCHIVE_INSERT, rows)
    if sent:
        db.executemany(MARK_SENT, [(i,) for i in sent])
    if index:
        index_new_texts(db)
    db.commit()


def _migrations(postgres: bool = False) -> list[tuple[int, str]]:
    folder = resources.files("chatd.store").joinpath("migrations")
    if postgres:
        folder = folder.joinpath("postgresql")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store(MemberRows, ArchiveReads):
    def __init__(self, db: Database):
        self.db = db
        self.postgres = isinstance(db, PostgresDatabase)
        self._pending: list[tuple[ArchivedMessage, asyncio.Future[None]]] = []
        self._sent: list[str] = []  # stanza ids the server received, recorded with the next commit
        self._unindexed = 0  # rows archived since the search index's last batch (by this store)
        self.sent_log: SentLog | None = None  # the same ids at once, in a file (the service's store only)
        self.path = Path(":memory:")
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._prober: asyncio.Task[None] | None = None
        self._sent_timer: asyncio.TimerHandle | None = None
        self.fault: str | None = None  # why archive writes fail now; None while they work
        self.write_failures = 0
        self.folder: Path | None = None  # the store's folder on disk; None in memory
        self.rooms = RoomStore(db)  # rooms and group members: chatd/store/rooms.py
        self.search = ArchiveSearch(db)  # the full-text index: chatd/store/search.py

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Opens (creating and migrating) the store and checks that it takes a write; else StoreError in plain words.
        A postgresql:// URL opens a PostgreSQL store; anything else names a SQLite file."""
        if is_postgres(path):
            return await cls._open_postgres(str(path))
        folder = store_folder(path)
        try:
            db = await aiosqlite.connect(str(path))
        except sqlite3.Error as exc:
            raise StoreError(f"the store {path} cannot be written: {fault_of(exc, folder)}") from exc
        try:
            db.row_factory = aiosqlite.Row
            await db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect on a new database only
            await db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit is in the WAL (the OS's cache) before archive() returns, so it survives a
            # crash of chatd; only a power loss can undo the last commits.
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
            await db.execute(f"PRAGMA journal_size_limit={WAL_PAGES * PAGE_SIZE}")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db)
            store.folder = folder
            store.path = Path(path)
            await store._migrate()
            await store._probe()
            await bring_index_up_to_date(db)  # what the last run archived after its last batch
        except sqlite3.Error as exc:
            await db.close()
            raise StoreError(f"the store {path} cannot be written: {fault_of(exc, folder)}") from exc
        if folder is not None and free_bytes(folder) < ROOM_BYTES:
            await db.close()
            raise StoreError(
                f"the store {path} cannot be written: the disk is full"
                f" ({free_bytes(folder) // 1024} KiB free, {ROOM_BYTES // 1024} KiB needed)"
            )
        return store

    @classmethod
    async def _open_postgres(cls, url: str) -> Store:
        where = url.rsplit("@", 1)[-1]  # never the password
        try:
            db = await PostgresDatabase.connect(url)
        except STORE_ERRORS as exc:
            raise StoreError(f"the store at {where} cannot be reached: {exc}") from exc
        store = cls(db)
        try:
            await store._migrate()
            await store._probe()
        except STORE_ERRORS as exc:
            await db.close()
            raise StoreError(f"the store at {where} cannot be written: {fault_of(exc, None)}") from exc
        return store

    async def open_sent_log(self) -> None:
        """For the service only (not the CLI): what the last run knew the server received is marked
        sent now, and a new sent log is started."""
        if str(self.path) == ":memory:":
            return
        self.sent_log = SentLog(self.path)
        recorded = self.sent_log.recorded()
        if recorded:
            await self.db.executemany(MARK_SENT, [(i,) for i in recorded])
            await self.db.commit()
        self.sent_log.start()

    async def close(self) -> None:
        if self._sent or self._sent_timer is not None:
            self._wake_writer()
        if self._prober is not None:
            self._prober.cancel()
            self._prober = None
        if self._writer is not None:
            await self._flush_pending()
            self._writer.cancel()
            self._writer = None
        if self.sent_log is not None:
            self.sent_log.close()
        await self.db.close()

    async def _probe(self) -> None:
        """One small write and commit: raises when the store cannot take writes."""
        await self.db.execute(
            "INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            (time.time(),),
        )
        await self.db.commit()

    def _failed(self, exc: Exception) -> None:
        self.write_failures += 1
        fault = fault_of(exc, self.folder)
        if self.fault is None:
            log.error("store writes fail (%s): refusing messages until they work again", fault)
        self.fault = fault
        if self._prober is None:
            self._prober = asyncio.create_task(self._probe_until_writable())

    def _recovered(self) -> None:
        if self.fault is None or not self._has_room():
            return
        log.warning("store writes work again after: %s", self.fault)
        self.fault = None

    def _has_room(self) -> bool:
        return self.folder is None or free_bytes(self.folder) >= ROOM_BYTES

    async def _free_space(self) -> None:
        """Undoes what a failed write left and copies the WAL into the database, truncating it."""
        with contextlib.suppress(*STORE_ERRORS):
            await self.db.rollback()
        if self.postgres:
            return
        with contextlib.suppress(sqlite3.Error):
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _probe_until_writable(self) -> None:
        try:
            while self.fault is not None:
                await asyncio.sleep(PROBE_SECONDS)
                await self._free_space()
                try:
                    await self._probe()
                except STORE_ERRORS as exc:
                    self.fault = fault_of(exc, self.folder)
                    continue
                self._recovered()
        finally:
            self._prober = None

    async def _migrate(self) -> None:
        if not self.postgres:
            await self._apply_migrations()
            return
        # instances starting together on one database: one applies the migrations, the others wait for it
        await self.db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
        try:
            await self._apply_migrations()
        finally:
            await self.db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))

    async def _apply_migrations(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"
        )
        async with self.db.execute("SELECT version FROM schema_migrations") as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        for version, sql in _migrations(self.postgres):
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
        """Changes when another connection (e.g. the CLI) commits (on PostgreSQL: when members or blocks change)."""
        if self.postgres:
            async with self.db.execute("SELECT last_value FROM directory_version") as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0
        async with self.db.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

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

    def mark_sent(self, stanza_ids: list[str]) -> None:
        """The server received these messages: in the sent log at once, in the archive with the next commit."""
        self._sent.extend(stanza_ids)
        if self.sent_log is None:
            self._wake_writer()
            return
        self.sent_log.append(stanza_ids)
        # the log keeps them through a crash: no commit of their own while messages are being archived
        if self._sent_timer is None:
            self._sent_timer = asyncio.get_running_loop().call_later(SENT_SECONDS, self._wake_writer)

    def _wake_writer(self) -> None:
        if self._sent_timer is not None:
            self._sent_timer.cancel()
            self._sent_timer = None
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop())
        self._wake.set()

    async def unsent(self, limit: int = 10_000) -> list[ArchivedMessage]:
        """Messages archived but not confirmed as taken by the server, oldest first."""
        return list(reversed(await self._messages("unsent = 1", (), limit)))

    async def recent_client_ids(self, rows: int = 50_000) -> set[tuple[int, str]]:
        """(sender id, client's message id) of the latest archived messages."""
        async with self.db.execute(
            "SELECT sender_id, client_id FROM messages WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM messages) - ?"
            " AND client_id IS NOT NULL",
            (rows,),
        ) as cursor:
            return {(row[0], row[1]) for row in await cursor.fetchall()}

    async def by_stanza_ids(self, stanza_ids: Sequence[str]) -> list[ArchivedMessage]:
        marks = ", ".join("?" * len(stanza_ids))
        return list(reversed(await self._messages(f"stanza_id IN ({marks})", tuple(stanza_ids), len(stanza_ids))))

    async def _flush_pending(self) -> None:
        batch, self._pending = self._pending, []
        sent, self._sent = self._sent, []
        if self._sent_timer is not None:
            self._sent_timer.cancel()
            self._sent_timer = None
        if not batch and not sent:
            return
        obsolete = self.sent_log.rotate() if self.sent_log is not None and sent else []
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
                int(m.unsent),
                m.refs,
                m.quote_end,
            )
            for m, _ in batch
        ]
        index = self._unindexed + len(rows) >= SEARCH_BATCH
        try:
            try:
                await self._insert(rows, sent, index)
            except STORE_ERRORS:
                await self._free_space()  # a full WAL may be what filled the disk: try once more after it
                await self._insert(rows, sent, index)
        except Exception as exc:
            with contextlib.suppress(*STORE_ERRORS):
                await self.db.rollback()
            self._failed(exc)
            self._sent = sent + self._sent  # kept for the next commit; after a crash they are sent again
            for _, done in batch:
                if not done.done():
                    done.set_exception(StoreError(f"archive failed: {self.fault}"))
            return
        self._unindexed = 0 if index else self._unindexed + len(rows)
        self._recovered()
        if self.sent_log is not None:
            self.sent_log.remove(obsolete)
        for _, done in batch:
            if not done.done():
                done.set_result(None)

    async def _insert(self, rows: list[tuple[object, ...]], sent: list[str], index: bool) -> None:
        """Inserts, sent marks and the commit in one trip to the database's thread: each trip costs the event
        loop a wakeup and a hand-over of the interpreter (aiosqlite runs queued functions in order there)."""
        if isinstance(self.db, PostgresDatabase):
            await self.db.executemany(ARCHIVE_INSERT, rows)
            if sent:
                await self.db.executemany(MARK_SENT, [(i,) for i in sent])
            await self.db.commit()
            return
        assert isinstance(self.db, aiosqlite.Connection)
        await self.db._execute(_write_batch, self.db._conn, rows, sent, index)

    async def settle_held(self, stanza_id: str, verdict: str, body: str | None) -> None:
        """A guide approved (with the text delivered) or rejected a held message."""
        await self.db.execute(
            "UPDATE messages SET verdict = ?, body = ? WHERE stanza_id = ? AND verdict = 'hold'",
            (verdict, body, stanza_id),
        )
        await self.db.commit()

    async def moderate(self, stanza_id: str, body: str, removed_by: int | None = None) -> None:
        """A guide (or a group's owner: removed_by) removed (body '') or edited a delivered message; the original
        stays for moderators."""
        await self.db.execute(
            "UPDATE messages SET original = COALESCE(original, body), body = ?, removed_by = ?,"
            " verdict = CASE WHEN ? = '' THEN 'removed' ELSE 'edited' END WHERE stanza_id = ?",
            (body, removed_by, body, stanza_id),
        )
        await self.db.commit()

    async def retract(self, stanza_id: str) -> None:
        """Its author took a message back (XEP-0424): a tombstone for members, the original for moderators."""
        await self.db.execute(
            "UPDATE messages SET original = COALESCE(original, body), body = CASE WHEN body IS NULL THEN NULL"
            " ELSE '' END, verdict = 'retracted' WHERE stanza_id = ?",
            (stanza_id,),
        )
        await self.db.commit()
