"""What one chatd instance tells the others serving the same domains (docs/scale-out.md).

News, each a small JSON object: a line posted in a shadow room or queue room (shown live by whichever
instance has guides present there), a member's text added to their risk window (so each instance's
window holds the member's texts from every instance), crisis resources sent to a member, a room made or
changed (the others read its row from the store again), and the instances' heartbeats and greetings
(one takes over the slots of another that fell silent: chatd/takeover.py).
With one instance (no `[bus] nats_url`) nothing is sent. Payloads carry members' texts: never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("chatd.peers")

LINE = "line"  # {"realm", "room", "id", "sender", "nick", "body", "at"}
WINDOW = "window"  # {"member", "text", "at", "alerted"}
CRISIS = "crisis"  # {"member", "severity", "at"}
ROOM = "room"  # {"realm", "room"}: a room made or changed (its row in the store)
ALIVE = "alive"  # {"instance"}: every second (chatd/takeover.py)
HELLO = "hello"  # {"instance"}: a new instance, before it connects
RELEASED = "released"  # {"instance", "to"}: the slots taken over are free again for the new instance
KINDS = (LINE, WINDOW, CRISIS, ROOM, ALIVE, HELLO, RELEASED)
LIVE_ONLY = frozenset({LINE, ALIVE, HELLO, RELEASED})  # never replayed to an instance that starts

Handler = Callable[[dict[str, Any]], None]
Transmit = Callable[[str, bytes], None]  # (kind, payload): must not block


class Peers:
    """Tells the other instances (through `transmit`, set when NATS is configured) and hears them."""

    def __init__(self) -> None:
        self.transmit: Transmit | None = None
        self.handlers: dict[str, Handler] = {}
        self.told = 0
        self.heard = 0
        self.unreadable = 0

    def listen(self, kind: str, handler: Handler) -> None:
        if kind not in KINDS:
            raise ValueError(f"no peer news of kind {kind!r}")
        self.handlers[kind] = handler

    def tell(self, kind: str, payload: dict[str, Any]) -> None:
        if self.transmit is None:
            return
        self.transmit(kind, json.dumps(payload, separators=(",", ":")).encode())
        self.told += 1

    def hear(self, kind: str, data: bytes) -> None:
        """Another instance's news; unreadable news is counted and dropped (logged by kind only)."""
        handler = self.handlers.get(kind)
        if handler is None:
            return
        try:
            payload = json.loads(data)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
            handler(payload)
        except (ValueError, KeyError, TypeError) as problem:
            self.unreadable += 1
            log.warning("unreadable %s news from another instance (%s)", kind, type(problem).__name__)
            return
        self.heard += 1
