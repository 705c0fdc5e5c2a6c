"""After crisis resources were sent, a member's next words reach a person.

The desk records when a member got crisis resources and the severity of the alert behind
them; for a while after that, any text the member writes to the resources bot goes to their
Ask-a-Wall-Guide thread, filed with that severity. A text to the bot that is not a topic word
always goes there too (it is someone asking for help in their own words).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FOLLOW_UP_SECONDS = 24 * 3600


@dataclass
class CrisisFollowUp:
    window: float = FOLLOW_UP_SECONDS
    _sent: dict[int, tuple[float, int]] = field(default_factory=dict)  # member id -> (when, severity)

    def resources_sent(self, member_id: int, severity: int, at: float) -> tuple[float, int]:
        """Crisis resources sent at `at` (here, by another instance, or read back from the store), in any
        order: keeps the latest time and the highest severity within the window; returns what it keeps."""
        kept = (at, severity)
        last = self._sent.get(member_id)
        if last is not None:
            when, highest = last
            if at < when - self.window:  # long before the last one: it adds nothing
                return last
            if at <= when + self.window:  # within the last one's window: the same follow-up
                kept = (max(at, when), max(severity, highest))
        self._sent[member_id] = kept
        return kept

    def severity(self, member_id: int, now: float) -> int | None:
        """The severity of the alert behind the member's last crisis resources, within the window."""
        sent = self._sent.get(member_id)
        if sent is None:
            return None
        if now - sent[0] > self.window:
            del self._sent[member_id]
            return None
        return sent[1]

    def to_guide(self, member_id: int, is_topic: bool, now: float) -> bool:
        """Whether a member's text to the resources bot goes to their Ask-a-Wall-Guide thread."""
        return not is_topic or self.severity(member_id, now) is not None
