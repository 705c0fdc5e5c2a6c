"""Stanza ids the XMPP server has received, appended to a file the moment it is known.

Marking a message sent in SQLite takes a commit, and a crash before that commit would send the
message again after the restart. One os.write per confirmation closes that gap: the page cache
keeps it when the process is killed (like SQLite with synchronous=NORMAL, a power loss may not).
The store folds the ids into the archive with its next commit, and rotates the file when it grows.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("chatd.store")

ROTATE_BYTES = 64 * 1024


class SentLog:
    def __init__(self, database: Path):
        self.prefix = f"{database}.sent."
        self._files: list[Path] = []  # the current file last; older ones wait for a commit
        self._fd: int | None = None
        self._size = 0
        self.failing = False  # the last write failed (a full disk): the archive's next commit still marks them

    def existing(self) -> list[Path]:
        folder = Path(self.prefix).parent
        return sorted(p for p in folder.glob(Path(self.prefix).name + "*") if p.suffix[1:].isdigit())

    def recorded(self) -> set[str]:
        """Every id in the files a previous run left."""
        return {line for path in self.existing() for line in path.read_text().split()}

    def start(self) -> None:
        """Removes what a previous run left (already folded into the archive) and opens a new file."""
        for path in self.existing():
            path.unlink()
        self._open(1)

    def _open(self, generation: int) -> None:
        path = Path(f"{self.prefix}{generation}")
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._files.append(path)
        self._size = 0

    def append(self, stanza_ids: list[str]) -> None:
        if self._fd is None or not stanza_ids:
            return
        data = ("\n".join(stanza_ids) + "\n").encode()
        try:
            os.write(self._fd, data)
        except OSError as exc:
            if not self.failing:
                log.error("the sent log cannot be written (%s): a crash now may send messages twice", exc)
            self.failing = True
            return
        self.failing = False
        self._size += len(data)

    def rotate(self) -> list[Path]:
        """When the file is large: a new one for what comes next; returns the files a commit makes obsolete."""
        if self._fd is None or self._size < ROTATE_BYTES:
            return []
        previous = self._fd
        try:
            self._open(int(self._files[-1].suffix[1:]) + 1)
        except OSError:
            return []  # keeps writing to the current file
        os.close(previous)
        return self._files[:-1]

    def remove(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            self._files.remove(path)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
