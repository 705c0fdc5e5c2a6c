"""Per-account token bucket: bursts beyond the allowance are refused."""

from __future__ import annotations


class RateLimiter:
    def __init__(self, burst: int, per_seconds: float, max_keys: int = 100_000):
        self.burst = burst
        self.rate = burst / per_seconds  # tokens per second
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)

    def allow(self, key: str, now: float) -> bool:
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens, now)
        return allowed

    def recent(self, key: str, now: float) -> int:
        """Roughly how many messages the key sent within the window (for flood rules)."""
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return int(self.burst - tokens)

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
