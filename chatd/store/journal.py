"""Members' one-on-one messages as received, kept until they are surely archived.

Between reading a message from the server and committing it to the archive, chatd moderates it
and waits for a commit: a few milliseconds in which a killed process used to lose it without the
sender hearing of it. Each received message is appended here first (no fsync: the page cache
keeps it when the process is killed). The messages of one read from the server go in one
os.write at the end of that read, before any of them is reviewed, archived or delivered (that
work runs in later turns of the event loop). After a restart, the messages the archive does not
have are handled again. Two files: the current one and the one before it; the older is dropped
when the current one grows past ROTATE_BYTES, long after its messages were archived.
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path

log = logging.getLogger("chatd.store")

ROTATE_BYTES = 1 << 20
HEADER = struct.Struct(">I")


class Journal:
    def __init__(self, database: Path):
        self.current = Path(f"{database}.received")  # never "-journal": SQLite's own rollback journal
        self.previous = Path(f"{database}.received.1")
        self._fd: int | None = None
        self._size = 0
        self._held: list[bytes] = []  # records added since the last flush
        self.failing = False  # the last write failed (a full disk): messages are handled all the same

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
        """One record, written at once."""
        self.add(record)
        self.flush()

    def add(self, record: bytes) -> None:
        """One record, written with the next flush()."""
        self._held.append(HEADER.pack(len(record)) + record)

    def flush(self) -> None:
        """The records added since the last flush, in one write."""
        if not self._held:
            return
        data = b"".join(self._held)
        self._held.clear()
        if self._fd is None:
            return
        try:
            if self._size >= ROTATE_BYTES:
                self._rotate()
            os.write(self._fd, data)
            self._size += len(data)
        except OSError as exc:
            if not self.failing:
                log.error("the received-messages journal cannot be written (%s): a crash now would lose more", exc)
            self.failing = True
            return
        self.failing = False

    def _rotate(self) -> None:
        older = self._fd
        assert older is not None
        os.replace(self.current, self.previous)
        try:
            self._open()
        except OSError:
            os.replace(self.previous, self.current)  # goes on in the same file; tried again later
            self._size = 0
            raise
        os.close(older)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
