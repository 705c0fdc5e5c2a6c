"""Which written stanzas the server has certainly taken: confirmed in batches by a round trip.

XEP-0114 has no acknowledgements. The server handles a component's stanzas in order, so when it
answers a ping sent after some stanzas, it has routed all of them. Stanzas written but not yet
confirmed when the connection drops are uncertain: they are sent again.
"""

from __future__ import annotations

PROBE_PREFIX = "chatd-confirm-"


class Confirmations:
    def __init__(self) -> None:
        self._written: list[str] = []  # tokens written since the last probe
        self._probe: tuple[str, list[str]] | None = None  # the probe in flight and the tokens it covers
        self._count = 0

    @property
    def unconfirmed(self) -> int:
        return len(self._written) + (len(self._probe[1]) if self._probe else 0)

    @property
    def probing(self) -> bool:
        return self._probe is not None

    def written(self, token: str) -> None:
        self._written.append(token)

    def start_probe(self) -> str | None:
        """The id of a new probe covering every token written so far, or None (nothing new, or one in flight)."""
        if self._probe is not None or not self._written:
            return None
        self._count += 1
        probe_id = f"{PROBE_PREFIX}{self._count}"
        self._probe, self._written = (probe_id, self._written), []
        return probe_id

    def answered(self, probe_id: str) -> list[str]:
        """The tokens the answered probe confirms (none for an unknown or stale probe)."""
        if self._probe is None or self._probe[0] != probe_id:
            return []
        tokens, self._probe = self._probe[1], None
        return tokens

    def retry(self) -> None:
        """The probe got no answer on a live connection: the next one covers its tokens too."""
        if self._probe is not None:
            self._written = self._probe[1] + self._written
            self._probe = None

    def connection_lost(self) -> list[str]:
        """Every unconfirmed token: the server may or may not have taken them."""
        uncertain = (self._probe[1] if self._probe else []) + self._written
        self._probe, self._written = None, []
        return uncertain
