"""Resends recognised: the same message from the same account, seen again within a window.

Clients resend stanzas the server did not acknowledge when they reconnect (for example after
the XMPP server restarted), so chatd can receive a message it already archived and delivered.
A message is known by its sender's account, its id (origin-id, else the stanza id) and its
text; a second copy within the window is acknowledged, never archived or delivered again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MessageKey:
    account: str
    message_id: str
    text_digest: bytes


def message_key(account: str, origin_id: str | None, stanza_id: str | None, body: str | None) -> MessageKey | None:
    """The key of a member's text, or None for stanzas without an id or a text (nothing to recognise)."""
    message_id = origin_id or stanza_id
    if not message_id or body is None:
        return None
    return MessageKey(account, message_id, hashlib.blake2b(body.encode(), digest_size=12).digest())


class Resends:
    """Keys claimed within the last `window` seconds, at most `capacity` of them (oldest go first)."""

    def __init__(self, window: float, capacity: int = 200_000):
        self.window = window
        self.capacity = capacity
        self.recognised = 0
        self._claimed: OrderedDict[MessageKey, float] = OrderedDict()

    def claim(self, key: MessageKey, now: float) -> bool:
        """True for a new message (now claimed); False for a resend within the window."""
        self._expire(now)
        if key in self._claimed:
            self.recognised += 1
            return False
        self._claimed[key] = now
        if len(self._claimed) > self.capacity:
            self._claimed.popitem(last=False)
        return True

    def release(self, key: MessageKey | None) -> None:
        """The first copy was not accepted (e.g. the archive failed): a resend is a new attempt."""
        if key is not None:
            self._claimed.pop(key, None)

    def _expire(self, now: float) -> None:
        claimed = self._claimed
        while claimed:
            oldest_key, oldest = next(iter(claimed.items()))
            if now - oldest <= self.window:
                return
            del claimed[oldest_key]

    def __len__(self) -> int:
        return len(self._claimed)
