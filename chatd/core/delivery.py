"""What the server has of the stanzas a stream wrote: transmitted, then answered.

XEP-0114 has no acknowledgements, so a stream tracks each archived message it writes (by a token)
in two steps:
- transmitted: the kernel has sent every byte of it. It then reaches the server even if chatd
  is killed the next instant (the server's socket already holds it), so it is marked sent.
- answered: the server answered a ping written after it. The server handles a component's
  stanzas in order, so it has routed the message. Until then, if the connection drops (the
  server going away may discard what it had not read), the message is sent again on the next
  connection.
"""

from __future__ import annotations

from collections import deque

PROBE_PREFIX = "chatd-routed-"


class Confirmations:
    def __init__(self) -> None:
        self._written: deque[tuple[int, str]] = deque()  # (end offset in the connection's bytes, token)
        self._transmitted: list[str] = []  # not yet covered by a probe
        self._probes: deque[tuple[str, list[str]]] = deque()  # probes in flight, oldest first
        self._count = 0

    @property
    def untransmitted(self) -> int:
        return len(self._written)

    @property
    def oldest_probe(self) -> str | None:
        return self._probes[0][0] if self._probes else None

    def written(self, token: str, end: int) -> None:
        """A stanza with this token ends at byte `end` of the connection."""
        self._written.append((end, token))

    def transmitted(self, offset: int) -> list[str]:
        """Tokens whose bytes are all transmitted, given how many bytes are; they now wait for a probe."""
        done = []
        while self._written and self._written[0][0] <= offset:
            done.append(self._written.popleft()[1])
        self._transmitted += done
        return done

    def start_probe(self) -> str | None:
        """The id of a probe covering the tokens transmitted since the last one, or None (none were)."""
        if not self._transmitted:
            return None
        self._count += 1
        probe_id = f"{PROBE_PREFIX}{self._count}"
        self._probes.append((probe_id, self._transmitted))
        self._transmitted = []
        return probe_id

    def answered(self, probe_id: str) -> bool:
        """The server routed everything up to this probe (it answers in order); False if unknown."""
        if all(pending != probe_id for pending, _ in self._probes):
            return False
        while self._probes and self._probes.popleft()[0] != probe_id:
            pass
        return True

    def retry(self) -> None:
        """Probes got no answer on a live connection: the next one covers their tokens too."""
        self._transmitted = [token for _, tokens in self._probes for token in tokens] + self._transmitted
        self._probes.clear()

    def connection_lost(self) -> list[str]:
        """Every token the server may not have routed: to be sent again on the next connection."""
        probed = [token for _, tokens in self._probes for token in tokens]
        uncertain = probed + self._transmitted + [token for _, token in self._written]
        self._written.clear()
        self._transmitted = []
        self._probes.clear()
        return uncertain
