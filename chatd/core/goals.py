"""Goals with selfhelp@: a member's goal, an optional check-in pace, progress, streaks (no I/O, no clock of its own).

A goal with a pace of N days gets at most one check-in every N days: when a check-in is due, the next
one is set a whole number of periods later, past `now` (after downtime there is no burst of missed
ones). A goal without a pace never gets one. The streak counts the periods in a row, up to the
current one (or the one before, while the current one has no progress yet), with progress.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DAY = 86400.0
MAX_EVERY_DAYS = 365


@dataclass(frozen=True, slots=True)
class Goal:
    number: int  # the member's own numbering
    text: str
    every_days: int  # 0: no check-ins
    next_at: float | None  # the next check-in, when it has a pace
    created_at: float


def first_check_in(now: float, every_days: int, day: float = DAY) -> float | None:
    return now + every_days * day if every_days > 0 else None


def due(goal: Goal, now: float) -> bool:
    return goal.every_days > 0 and goal.next_at is not None and goal.next_at <= now


def after_check_in(goal: Goal, now: float, day: float = DAY) -> float:
    """The next check-in after one sent now: whole periods after the one that was due, past now."""
    period = goal.every_days * day
    start = goal.next_at if goal.next_at is not None else now
    missed = math.floor((now - start) / period) + 1 if now >= start else 1
    return start + missed * period


def streak(done: Sequence[float], goal: Goal, now: float, day: float = DAY) -> int:
    """Periods in a row with progress (a period: the goal's pace, or a day), ending now or just before."""
    period = max(1, goal.every_days) * day
    periods = {math.floor((at - goal.created_at) / period) for at in done if at >= goal.created_at}
    current = math.floor((now - goal.created_at) / period)
    if current not in periods:
        current -= 1
    count = 0
    while current in periods:
        count += 1
        current -= 1
    return count


def pace(argument: str) -> int | None:
    """Days between check-ins from "3", "0" (none), "daily"/"quotidien", "weekly"/"hebdo", "off"/"non"."""
    word = argument.strip().casefold()
    named = {"daily": 1, "quotidien": 1, "weekly": 7, "hebdo": 7, "hebdomadaire": 7, "off": 0, "non": 0, "none": 0}
    if word in named:
        return named[word]
    if word.isdigit() and int(word) <= MAX_EVERY_DAYS:
        return int(word)
    return None
