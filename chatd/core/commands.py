"""Text commands members type to a service address, e.g. "!block calm-otter"."""

from __future__ import annotations

from dataclasses import dataclass

KNOWN = frozenset({"block", "unblock", "blocks", "help"})


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
    argument = rest.strip().lower()
    if name not in KNOWN:
        return Command("unknown", name)
    return Command(name, argument)
