"""Helpers shared by the policies unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies.engine import PolicyEngine
from policies.types import Context

SETTINGS_FILE = Path(__file__).parents[3] / "conf" / "policies.toml"


def label(kind: str, language: str) -> str:
    return f"[{kind}:{language}]"


def english(**changes: Any) -> Context:
    return Context(**{"realm": "test", "language": "en", **changes})


def french(**changes: Any) -> Context:
    return Context(**{"realm": "test", "language": "fr", **changes})


def kinds_found(engine: PolicyEngine, text: str, context: Context | None = None) -> dict[str, str]:
    """kind -> original text of its span (the last one found)."""
    found = engine.findings(text, context or english())
    return {f.kind: text[f.start : f.end] for f in found}
