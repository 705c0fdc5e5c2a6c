"""The audit log's hash chain: each entry carries the hash of the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: float
    actor: str  # who acted: a guide's pseudonym, an operator, a clinician
    action: str  # dotted: "member.suspend", "vault.unseal", "message.remove"
    realm: str
    target: str  # a pseudonym, a message id, a room
    detail: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""


def chain_hash(
    prev_hash: str, seq: int, at: float, actor: str, action: str, realm: str, target: str, detail: Mapping[str, Any]
) -> str:
    canonical = json.dumps(
        [prev_hash, seq, repr(at), actor, action, realm, target, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_hash(record: AuditRecord) -> str:
    return chain_hash(
        record.prev_hash, record.seq, record.at, record.actor, record.action, record.realm, record.target, record.detail
    )


def verify(records: Sequence[AuditRecord], head: str | None = None) -> list[str]:
    """Problems found in the chain, in order; none means intact (and matching head, if given)."""
    problems = []
    expected_seq, expected_prev = 1, GENESIS
    for record in records:
        if record.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{record.seq - 1} are missing (deleted)")
        if record.prev_hash != expected_prev:
            problems.append(f"entry {record.seq} does not follow the entry before it (one was deleted or edited)")
        if record_hash(record) != record.hash:
            problems.append(f"entry {record.seq} was edited after it was written")
        expected_seq, expected_prev = record.seq + 1, record.hash
    if head is not None and expected_prev != head:
        problems.append("the last entry is not the recorded head: entries at the end were removed or replaced")
    return problems
