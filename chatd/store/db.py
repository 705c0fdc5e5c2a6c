"""The store's port: the part of a database connection the stores use, and its PostgreSQL adapter.

The stores write SQLite's SQL and call what aiosqlite's connection offers (execute, executemany,
executescript, commit, rollback, close); aiosqlite's connection is the SQLite adapter as it is.
PostgresDatabase offers the same on one asyncpg connection and translates the few SQLite-only
forms the stores use (see postgres_sql). The schema is not translated: PostgreSQL has its own
migrations (migrations/postgresql/), written for its types (identity columns, bytea, double precision).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Generator, Iterable, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any, Protocol

import asyncpg

# the tables whose rows get their id from the database: an insert returns it (SQLite's lastrowid)
ID_TABLES = frozenset(
    {"members", "registrations", "vault_entries", "queue", "notes", "selfhelp_results", "journal_entries",
     "selfhelp_goals"}
)  # fmt: skip
# SQLite's "BEGIN IMMEDIATE" takes the database's write lock at once; PostgreSQL's equivalent for
# the stores is a transaction-scoped advisory lock under this key (released by COMMIT or ROLLBACK)
WRITE_LOCK = 1
WRITES = ("INSERT", "UPDATE", "DELETE")


class Cursor(Protocol):
    rowcount: int
    lastrowid: int | None

    async def fetchone(self) -> Any: ...
    async def fetchall(self) -> Iterable[Any]: ...


class Database(Protocol):
    """What the stores call on their connection (aiosqlite.Connection, PostgresDatabase)."""

    def execute(self, sql: str, parameters: Any = ...) -> Any: ...  # awaitable and async context manager
    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Any: ...
    async def executescript(self, sql_script: str) -> Any: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def close(self) -> None: ...


def is_postgres(path: object) -> bool:
    """A store setting naming a PostgreSQL database (postgresql://…) rather than a SQLite file."""
    return str(path).startswith(("postgresql://", "postgres://"))


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """A store statement in PostgreSQL's dialect: $n placeholders, INSERT OR IGNORE as ON CONFLICT DO NOTHING,
    and RETURNING id on inserts into ID_TABLES. Question marks inside quoted strings are left alone."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    count = 0
    for i in range(0, len(parts), 2):  # outside quotes
        pieces = parts[i].split("?")
        text = pieces[0]
        for piece in pieces[1:]:
            count += 1
            text += f"${count}{piece}"
        parts[i] = text
    sql = "".join(parts)
    ignore = re.match(r"\s*INSERT OR IGNORE INTO", sql, re.IGNORECASE)
    if ignore:
        sql = f"INSERT INTO{sql[ignore.end() :]} ON CONFLICT DO NOTHING"
    table = re.match(r"\s*INSERT INTO (\w+)", sql, re.IGNORECASE)
    if table and table.group(1) in ID_TABLES:
        sql += " RETURNING id"
    return sql


class Rows:
    """What a statement returned, like an aiosqlite cursor: rows (asyncpg records, by index or column name),
    rowcount and lastrowid."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int, lastrowid: int | None = None):
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> asyncpg.Record | None:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self.rows


class Statement:
    """db.execute(...): awaited for its cursor, or used as `async with db.execute(...) as cursor` (as aiosqlite)."""

    def __init__(self, run: Awaitable[Rows]):
        self.run = run

    def __await__(self) -> Generator[Any, None, Rows]:
        return self.run.__await__()

    async def __aenter__(self) -> Rows:
        return await self.run

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None


class PostgresDatabase:
    """One asyncpg connection used the way the stores use aiosqlite's: statements run one at a time; a write
    opens a transaction that lasts until commit() or rollback(); reads outside one see every commit."""

    def __init__(self, conn: asyncpg.Connection, url: str):
        self.conn = conn
        self.url = url  # to connect again after the connection was lost (a restarted server)
        self._lock = asyncio.Lock()  # asyncpg runs one operation at a time on a connection
        self._transaction: Any = None

    @classmethod
    async def connect(cls, url: str) -> PostgresDatabase:
        return cls(await asyncpg.connect(url), url)

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Statement:
        return Statement(self._execute(sql, tuple(parameters)))

    async def _execute(self, sql: str, parameters: tuple[Any, ...]) -> Rows:
        command = sql.lstrip()[:16].upper()
        async with self._lock:
            await self._connected()
            if command in ("BEGIN", "BEGIN IMMEDIATE"):
                await self._begin()
                if command == "BEGIN IMMEDIATE":
                    await self.conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                return Rows([], -1)
            if command in ("COMMIT", "ROLLBACK"):
                await self._end(command == "COMMIT")
                return Rows([], -1)
            if command.startswith(WRITES):
                await self._begin()
            return await self._failing_ends(self._run(postgres_sql(sql), parameters, command.startswith(WRITES)))

    async def _run(self, query: str, parameters: tuple[Any, ...], write: bool) -> Rows:
        if query.endswith(" RETURNING id"):
            rows = await self.conn.fetch(query, *parameters)
            return Rows([], len(rows), rows[0][0] if rows else None)
        if write:
            status = await self.conn.execute(query, *parameters)
            return Rows([], int(status.rsplit(" ", 1)[-1]))
        return Rows(await self.conn.fetch(query, *parameters), -1)

    async def _failing_ends(self, step: Awaitable[Rows]) -> Rows:
        """A statement that fails ends its transaction (rolled back): PostgreSQL takes no other statement in
        it, where SQLite would go on; the stores roll back or give up after a failure in either case."""
        try:
            return await step
        except Exception:
            with contextlib.suppress(Exception):  # the statement's own error is the one to tell
                await self._end(False)
            raise

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[asyncpg.Record]:
        return (await self._execute(sql, tuple(parameters))).rows

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> None:
        async with self._lock:
            await self._connected()
            await self._begin()
            await self._failing_ends(self._many(postgres_sql(sql), [tuple(p) for p in parameters]))

    async def _many(self, query: str, parameters: list[tuple[Any, ...]]) -> Rows:
        await self.conn.executemany(query, parameters)
        return Rows([], len(parameters))

    async def executescript(self, sql_script: str) -> None:
        """Runs the script as it is (PostgreSQL's own SQL, e.g. a migration), in one transaction."""
        async with self._lock:
            await self._end(True)
            async with self.conn.transaction():
                await self.conn.execute(sql_script)

    async def commit(self) -> None:
        async with self._lock:
            await self._end(True)

    async def rollback(self) -> None:
        async with self._lock:
            await self._end(False)

    async def close(self) -> None:
        async with self._lock:
            with contextlib.suppress(Exception):  # a lost connection has nothing left to roll back
                await self._end(False)
            await self.conn.close()

    async def _connected(self) -> None:
        """A new connection when the last one was lost (what it had not committed is gone with it)."""
        if self.conn.is_closed():
            self._transaction = None
            self.conn = await asyncpg.connect(self.url)

    async def _begin(self) -> None:
        if self._transaction is None:
            self._transaction = self.conn.transaction()
            await self._transaction.start()

    async def _end(self, commit: bool) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return
        if commit:
            await transaction.commit()
        else:
            await transaction.rollback()
