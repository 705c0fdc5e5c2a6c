"""Moderation policies: pure, synchronous, no I/O."""

from policies.types import (
    Action,
    Alert,
    Context,
    Conversation,
    Field,
    Finding,
    Label,
    Policy,
    Verdict,
    deliver_unchanged,
)

__all__ = [
    "Action",
    "Alert",
    "Context",
    "Conversation",
    "Field",
    "Finding",
    "Label",
    "Policy",
    "Verdict",
    "deliver_unchanged",
]
