"""The event bus: the core publishes domain events through one interface.

In-process by default; with a NATS URL, bridges/nats carries them to JetStream as well.
publish() never blocks and never fails the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from chatd.events import Event

log = logging.getLogger("chatd.bus")

Subscriber = Callable[[Event], None]


class Bus(Protocol):
    def publish(self, event: Event) -> None: ...

    @property
    def heard(self) -> bool:
        """Whether anything takes the events: an event nobody takes is not worth building (one per message)."""
        ...


class LocalBus:
    """Delivers each event to in-process subscribers, in order."""

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self.published = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    @property
    def heard(self) -> bool:
        return bool(self.subscribers)

    def publish(self, event: Event) -> None:
        self.published += 1
        for subscriber in self.subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("an event subscriber failed on a %s event", event.name)
