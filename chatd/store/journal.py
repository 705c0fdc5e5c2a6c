"""Members' one-on-one messages as received, kept until they are surely archived.

Between reading a message from the server and committing it to the archive, chatd moderates it
and waits for a commit: a few milliseconds in which a killed process used to lose it without the
sender hearing of it. Each received message is appended here first (one os.write, no fsync: the
page cache keeps it when the process is killed). After a restart, the messages the archive does
not have are handled again. Two files: the current one and the one before it; the older is
dropped when the current one grows past ROTATE_BYTES, long after its messages were archived.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

ROTATE_BYTES = 1 << 20
HEADER = struct.Struct(">I")


class Journal:
    def __init__(self, database: Path):
        self.current = Path(f"{database}.received")  # never "-journal": SQLite's own rollback journal
        self.previous = Path(f"{database}.received.1")
        self._fd: int | None = None
        self._size = 0

    def recover(self) -> list[bytes]:
        """What the last run received, oldest first; a record cut short by the crash is left out."""
        records = []
        for path in (self.previous, self.current):
            data = path.read_bytes() if path.exists() else b""
            offset = 0
            while offset + HEADER.size <= len(data):
                (length,) = HEADER.unpack_from(data, offset)
                if offset + HEADER.size + length > len(data):
                    break
                records.append(data[offset + HEADER.size : offset + HEADER.size + length])
                offset += HEADER.size + length
        return records

    def start(self) -> None:
        """A fresh journal (after recover()); what the last run left is gone."""
        self.previous.unlink(missing_ok=True)
        self.current.unlink(missing_ok=True)
        self._open()

    def _open(self) -> None:
        self._fd = os.open(self.current, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = 0

    def append(self, record: bytes) -> None:
        if self._fd is None:
            return
        if self._size >= ROTATE_BYTES:
            os.close(self._fd)
            os.replace(self.current, self.previous)
            self._open()
        os.write(self._fd, HEADER.pack(len(record)) + record)
        self._size += HEADER.size + len(record)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
