"""The optional external moderation hook: one request per text, answered within a deadline.

On timeout, error or a malformed answer the configured fail action applies (hold by default).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatd.core.moderation import apply_external, external_failed
from policies import Action, Alert, Context, Finding, Verdict

log = logging.getLogger("chatd.hook")


class Requester(Protocol):
    """Sends one request and returns the reply (NATS request/reply, or anything alike)."""

    async def request(self, payload: bytes, timeout: float) -> bytes: ...


class _Finding(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: str = Field(pattern=r"^[a-z]+\.[a-z_.]+$")
    severity: int = Field(ge=0, le=3)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    rule: str = ""


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: str = Field(pattern=r"^[a-z]+\.[a-z_.]+$")
    severity: int = Field(ge=0, le=3)


class HookAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Action | None = None
    text: str | None = None
    findings: list[_Finding] = []
    alerts: list[_Alert] = []


def request_body(text: str, context: Context, author: str, local: Verdict) -> bytes:
    """What the hook sees: the text, its context and the local verdict; never an account JID."""
    return json.dumps(
        {
            "text": text,
            "author": author,
            "realm": context.realm,
            "language": context.language,
            "field": context.field.value,
            "conversation": context.conversation.value,
            "author_role": context.author_role,
            "new_member": context.new_member,
            "watched": context.watched,
            "verdict": {
                "action": local.action.value,
                "findings": [f.as_dict() for f in local.findings],
            },
        }
    ).encode()


class ExternalHook:
    def __init__(self, requester: Requester, deadline: float, fail_action: Action):
        self.requester = requester
        self.deadline = deadline
        self.fail_action = fail_action
        self.outcomes: dict[str, int] = {"answered": 0, "timeout": 0, "error": 0}

    async def consult(self, text: str, context: Context, author: str, local: Verdict) -> Verdict:
        body = request_body(text, context, author, local)
        try:
            reply = await asyncio.wait_for(self.requester.request(body, self.deadline), self.deadline)
            answer = HookAnswer.model_validate_json(reply)
        except TimeoutError:
            return self._failed("timeout", local, text)
        except (ValidationError, ValueError) as exc:
            log.warning("external hook gave a malformed answer (%s)", type(exc).__name__)
            return self._failed("error", local, text)
        except Exception as exc:  # the transport failed: NATS down, no responder, ...
            log.warning("external hook unavailable (%s)", type(exc).__name__)
            return self._failed("error", local, text)
        self.outcomes["answered"] += 1
        findings = tuple(Finding(f.kind, f.severity, f.start, f.end, f.rule) for f in answer.findings)
        alerts = tuple(Alert(a.kind, a.severity) for a in answer.alerts)
        return apply_external(local, text, answer.action, answer.text, findings, alerts)

    def _failed(self, outcome: str, local: Verdict, text: str) -> Verdict:
        self.outcomes[outcome] += 1
        return external_failed(local, text, self.fail_action)


__all__ = ["ExternalHook", "HookAnswer", "Requester", "request_body"]
