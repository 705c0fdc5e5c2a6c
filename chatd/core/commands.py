"""Text commands members type to a service address, e.g. "!block calm-otter"."""

from __future__ import annotations

from dataclasses import dataclass

KNOWN = frozenset(
    {"block", "unblock", "blocks", "help", "report", "rooms", "search", "share", "follow", "unfollow", "following"}
)
KEEPS_CASE = frozenset({"report", "search", "share"})  # their argument is free text


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # one of KNOWN, or "unknown"
    argument: str = ""


def parse_command(text: str) -> Command | None:
    """A command if the text starts with "!", else None (plain text)."""
    text = text.strip()
    if not text.startswith("!"):
        return None
    word, _, rest = text[1:].partition(" ")
    name = word.lower()
    if name not in KNOWN:
        return Command("unknown", name)
    return Command(name, rest.strip() if name in KEEPS_CASE else rest.strip().lower())


def report_reason(text: str) -> str | None:
    """The reason of a "!report <reason>" line (possibly empty), or None when it is not a report."""
    command = parse_command(text.split("\n", 1)[0])
    return command.argument if command is not None and command.name == "report" else None
