"""Conversation-level risk: each member's recent texts, scored together (in memory only, never stored).

Signals spread over several short messages raise one alert, and only when the window's alert is
more severe than any alert already raised by a text still in the window (alone or with others).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from policies import Alert

# the policies' scorer: the texts, oldest first, to the alerts they raise together
Assess = Callable[[Sequence[str]], Sequence[Alert]]


@dataclass(slots=True)
class _Text:
    at: float
    text: str
    alerted: int  # highest risk-alert severity already raised when this text was the newest (0: none)


def is_risk(alert: Alert) -> bool:
    return alert.kind.startswith("risk.")


class RecentTexts:
    """The last `size` texts of each member within `seconds`, across all their conversations."""

    def __init__(self, size: int = 8, seconds: float = 1800.0):
        self.size = size
        self.seconds = seconds
        self._members: OrderedDict[int, deque[_Text]] = OrderedDict()  # least recently active first

    def __len__(self) -> int:
        return len(self._members)

    def count(self, member_id: int) -> int:
        """How many texts of the member are in the window now."""
        return len(self._members.get(member_id, ()))

    def add(self, member_id: int, text: str, at: float, alerted: int, assess: Assess) -> Alert | None:
        """Adds a text (with the severity its own review raised) and returns the window's new alert, if any."""
        self._forget_idle(at)
        texts = self._members.pop(member_id, None) or deque(maxlen=self.size)
        self._members[member_id] = texts
        while texts and at - texts[0].at > self.seconds:
            texts.popleft()
        newest = _Text(at, text, alerted)
        texts.append(newest)  # a single text too: the statistical reading runs only here, after delivery
        alerts = [a for a in assess([t.text for t in texts]) if is_risk(a)]
        if not alerts:
            return None
        strongest = max(alerts, key=lambda a: a.severity)  # the first of the most severe
        if strongest.severity <= max(t.alerted for t in texts):
            return None
        newest.alerted = strongest.severity  # the newest text leaves the window last
        return strongest

    def remember(self, member_id: int, text: str, at: float, alerted: int) -> None:
        """A text of the member scored elsewhere (another instance), kept in time order; never scored here."""
        texts = self._members.pop(member_id, None) or deque(maxlen=self.size)
        kept = sorted([*texts, _Text(at, text, alerted)], key=lambda t: t.at)
        newest = kept[-1].at
        texts = deque((t for t in kept if newest - t.at <= self.seconds), maxlen=self.size)
        self._members[member_id] = texts
        self._forget_idle(newest)

    def upcoming(self, added: Sequence[tuple[int, str, float]]) -> list[list[str]]:
        """The texts each window will hold (oldest first) as these texts (member, text, at) are added in order,
        one window per text added; nothing is added."""
        windows: dict[int, deque[tuple[float, str]]] = {}
        held = []
        for member_id, text, at in added:
            texts = windows.get(member_id)
            if texts is None:
                known = self._members.get(member_id, ())
                texts = windows[member_id] = deque(((t.at, t.text) for t in known), maxlen=self.size)
            while texts and at - texts[0][0] > self.seconds:
                texts.popleft()
            texts.append((at, text))
            held.append([t for _, t in texts])
        return held

    def _forget_idle(self, now: float) -> None:
        """Members whose newest text left the window are dropped (memory stays bounded)."""
        while self._members:
            member_id, texts = next(iter(self._members.items()))
            if texts and now - texts[-1].at <= self.seconds:
                return
            del self._members[member_id]
