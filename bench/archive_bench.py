"""Archive writes: chatd's store against plain batched sqlite3 inserts of the same rows, same run.

A one-on-one message is archived as two rows (the message, then its line in the guides' shadow
room), each committed before the next step, as chatd does. Three ways to write the same rows:
  plain      stdlib sqlite3, WAL, default pages, the same tables and indexes, 100 rows per commit
  chatd 1x1  chatd's Store, one conversation at a time (each row its own commit: the worst case)
  chatd 50x  chatd's Store, 50 conversations at once (concurrent rows share commits)
Bytes are what the process wrote (wchar in /proc/self/io: WAL, database, checkpoints), per message,
including the search index's last batch and a final checkpoint. Prints bytes and microseconds per
message, and ratios against plain.
Usage: python bench/archive_bench.py [MESSAGES]
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatd.store import ArchivedMessage, Store
from chatd.store.search import bring_index_up_to_date, index_new_texts

BODY = "I had a rough night again, but talking here helps. Thanks for listening yesterday."
INSERT = (
    "INSERT INTO messages (stanza_id, conversation, sender_id, recipient_id, client_id, body, original,"
    " verdict, findings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def rows(count: int, conversations: int) -> Iterator[tuple[ArchivedMessage, ArchivedMessage]]:
    """One-on-one messages: (the message, its shadow-room line)."""
    for n in range(count):
        low = 2 * (n % conversations) + 1
        stanza_id = f"{time.time_ns():x}-{n:08x}"
        yield (
            ArchivedMessage(stanza_id, f"dm:{low}:{low + 1}", low, low + 1, f"c{n}", BODY, None, "deliver", [],
                            time.time()),
            ArchivedMessage(f"{stanza_id}w", f"watch:en-dm-{low}-{low + 1}", low, None, None,
                            f"[deliver · id {n:08x}]\n{BODY}", None, "deliver", [], time.time()),
        )  # fmt: skip


def values(message: ArchivedMessage) -> tuple[object, ...]:
    m = message
    return (m.stanza_id, m.conversation, m.sender_id, m.recipient_id, m.client_id, m.body, m.original, m.verdict,
            "[]", m.created_at)  # fmt: skip


def written() -> int:
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def plain(folder: Path, count: int, batch: int = 100) -> tuple[float, float, int]:
    db = sqlite3.connect(folder / "plain.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for entry in sorted(resources.files("chatd.store").joinpath("migrations").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            db.executescript(entry.read_text(encoding="utf-8"))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pending: list[tuple[object, ...]] = []
    before, started = written(), time.perf_counter()
    for message, shadow in rows(count, 50):
        pending += [values(message), values(shadow)]
        if len(pending) >= batch:
            db.execute("BEGIN")
            db.executemany(INSERT, pending)
            index_new_texts(db)
            db.execute("COMMIT")
            pending = []
    if pending:
        db.execute("BEGIN")
        db.executemany(INSERT, pending)
        index_new_texts(db)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed, amount = time.perf_counter() - started, written() - before
    db.close()
    return elapsed, amount, (folder / "plain.sqlite3").stat().st_size


async def checkpoint(store: Store) -> None:
    """A checkpoint whose statement is finished (an open one makes the store's next commit fail)."""
    async with store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
        await cursor.fetchall()


async def chatd(folder: Path, count: int, conversations: int) -> tuple[float, float, int]:
    path = folder / f"chatd-{conversations}.sqlite3"
    store = await Store.open(path)
    await checkpoint(store)
    queue = list(rows(count, conversations))

    async def conversation(index: int) -> None:
        for message, shadow in queue[index::conversations]:
            await store.archive(message)  # archive before deliver ...
            await store.archive(shadow)  # ... then the guides' copy

    before, started = written(), time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(conversations)))
    await bring_index_up_to_date(store.db)
    await checkpoint(store)
    elapsed, amount = time.perf_counter() - started, written() - before
    await store.close()
    return elapsed, amount, path.stat().st_size


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {
            "plain (100 rows/commit)": plain(folder, count),
            "chatd 1x1 (row/commit)": asyncio.run(chatd(folder, count, 1)),
            "chatd 50x (concurrent)": asyncio.run(chatd(folder, count, 50)),
        }
    base_seconds, base_bytes, _ = results["plain (100 rows/commit)"]
    print(f"{count} one-on-one messages (2 rows each), body {len(BODY)} chars")
    print(f"{'':26}{'bytes/msg':>10}{'db/msg':>8}{'us/msg':>8}{'bytes x':>9}{'time x':>8}")
    for name, (seconds, amount, size) in results.items():
        print(f"{name:26}{amount / count:10.0f}{size / count:8.0f}{seconds / count * 1e6:8.1f}"
              f"{amount / base_bytes:9.2f}{seconds / base_seconds:8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
