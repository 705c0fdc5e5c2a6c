"""Which other chatd instances fell silent: their heartbeats stopped (chatd/takeover.py)."""

from __future__ import annotations


class Liveness:
    """Last heartbeat per instance; an instance silent for `silent_after` seconds is reported once."""

    def __init__(self, silent_after: float = 3.0):
        self.silent_after = silent_after
        self._seen: dict[str, float] = {}

    def seen(self, instance: str, now: float) -> None:
        self._seen[instance] = now

    def alive(self) -> set[str]:
        return set(self._seen)

    def fell_silent(self, now: float) -> list[str]:
        """The instances silent too long since the last call (forgotten: a restart comes back with a new id)."""
        silent = [i for i, at in self._seen.items() if now - at > self.silent_after]
        for instance in silent:
            del self._seen[instance]
        return silent
