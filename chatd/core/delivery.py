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
        self._probe: tuple[str, list[str]] | None = None  # the probe in flight and the tokens it covers
        self._count = 0

    @property
    def waiting(self) -> bool:
        """Tokens wait for transmission or for a probe to be sent."""
        return bool(self._written or (self._transmitted and self._probe is None))

    @property
    def untransmitted(self) -> int:
        return len(self._written)

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
        """The id of a probe covering every transmitted token, or None (nothing to cover, or one in flight)."""
        if self._probe is not None or not self._transmitted:
            return None
        self._count += 1
        probe_id = f"{PROBE_PREFIX}{self._count}"
        self._probe, self._transmitted = (probe_id, self._transmitted), []
        return probe_id

    def answered(self, probe_id: str) -> bool:
        """The server routed everything the probe covers; False for an unknown or stale probe."""
        if self._probe is None or self._probe[0] != probe_id:
            return False
        self._probe = None
        return True

    def retry(self) -> None:
        """The probe got no answer on a live connection: the next one covers its tokens too."""
        if self._probe is not None:
            self._transmitted = self._probe[1] + self._transmitted
            self._probe = None

    def connection_lost(self) -> list[str]:
        """Every token the server may not have routed: to be sent again on the next connection."""
        probed = self._probe[1] if self._probe is not None else []
        uncertain = probed + self._transmitted + [token for _, token in self._written]
        self._written.clear()
        self._transmitted, self._probe = [], None
        return uncertain
