"""Archive writes on the store's two backends, same run: SQLite (a file, WAL) against PostgreSQL 15
(a server started for the run on a loopback port, as tests/support/postgres.py does, fsync on).

Each backend archives the same messages through chatd's Store, in two ways:
  1x1  one message at a time (each its own commit: the worst case)
  50x  50 conversations at once (concurrent messages share commits)
Prints messages per second and PostgreSQL's throughput as a ratio of SQLite's.
Usage: python bench/store_backends.py [MESSAGES]   (run it as root or as a user that may run postgres)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatd.store import ArchivedMessage, Store
from tests.support.postgres import BIN, PostgresServer

BODY = "I had a rough night again, but talking here helps. Thanks for listening yesterday."


def message(n: int, conversation: int) -> ArchivedMessage:
    return ArchivedMessage(f"m{n}-x", f"dm:{conversation}:99", 1, 99, f"c{n}", BODY, None, "deliver", [], float(n))


async def rate(where: str, count: int, parallel: int) -> float:
    """Messages archived per second."""
    store = await Store.open(where)
    start = time.perf_counter()
    for first in range(0, count, parallel):
        await asyncio.gather(*(store.archive(message(n, n % parallel)) for n in range(first, first + parallel)))
    elapsed = time.perf_counter() - start
    await store.close()
    return count / elapsed


async def run(server: PostgresServer, folder: Path, count: int) -> None:
    print(f"{count} messages per case; messages archived per second")
    for parallel in (1, 50):
        sqlite = await rate(str(folder / f"bench{parallel}.sqlite3"), count, parallel)
        postgres = await rate(await server.new_database(), count, parallel)
        ratio = postgres / sqlite
        print(f"{parallel}x  sqlite {sqlite:9.0f}/s   postgresql {postgres:9.0f}/s   postgresql/sqlite {ratio:.2f}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    if not (BIN / "postgres").exists():
        sys.exit(f"PostgreSQL 15 is not installed ({BIN})")
    with tempfile.TemporaryDirectory(prefix="chatd-bench-") as sqlite_folder:
        server = PostgresServer(Path(tempfile.mkdtemp(prefix="chatd-postgres-")), durable=True)
        server.start()
        try:
            asyncio.run(run(server, Path(sqlite_folder), count))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
