"""Pseudonyms: lowercase word-word names, unique per realm."""

from __future__ import annotations

import re
import secrets

PATTERN = re.compile(r"^[a-z]{2,16}(-[a-z]{2,16}){1,2}$")
MAX_LENGTH = 32

# Service addresses and words that must never be a member's name.
RESERVED = frozenset({"wallguide", "wall-guide", "resources", "admin", "support", "moderator", "system", "chatd"})

ADJECTIVES = [
    "calm",
    "brave",
    "bright",
    "gentle",
    "quiet",
    "steady",
    "kind",
    "warm",
    "clear",
    "bold",
    "swift",
    "patient",
    "hopeful",
    "sunny",
    "misty",
    "silver",
    "golden",
    "amber",
    "cedar",
    "maple",
    "river",
    "north",
    "tender",
    "sturdy",
    "humble",
    "curious",
    "cheerful",
    "mellow",
    "sincere",
    "nimble",
    "loyal",
]
ANIMALS = [
    "otter",
    "heron",
    "falcon",
    "beaver",
    "lynx",
    "moose",
    "loon",
    "raven",
    "fox",
    "wolf",
    "hare",
    "marten",
    "badger",
    "crane",
    "osprey",
    "owl",
    "seal",
    "whale",
    "orca",
    "bison",
    "elk",
    "robin",
    "finch",
    "sparrow",
    "swallow",
    "puffin",
    "turtle",
]


def is_valid(pseudonym: str) -> bool:
    return len(pseudonym) <= MAX_LENGTH and PATTERN.fullmatch(pseudonym) is not None and pseudonym not in RESERVED


def suggest(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A random free adjective-animal name (a number is added only if many are taken)."""
    for _ in range(200):
        name = f"{secrets.choice(ADJECTIVES)}-{secrets.choice(ANIMALS)}"
        if name not in taken:
            return name
    while True:
        words = [secrets.choice(ADJECTIVES), secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)]
        name = "-".join(words)
        if name not in taken:
            return name
