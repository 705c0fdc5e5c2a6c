"""A refusal: an XMPP error condition plus the key of the localized text that explains it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Refusal:
    condition: str  # RFC 6120 stanza error condition, e.g. "forbidden"
    text: str  # i18n key, e.g. "error.other_realm"
    kind: str = "cancel"  # error type: cancel, modify, auth, wait
    params: dict[str, str] = field(default_factory=dict)
    bilingual: bool = False  # the sender's language is unknown: say it in every language


class Refused(Exception):
    """Raised where a stanza is refused; one place (the translator's dispatcher) turns it into the error."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.text)
        self.refusal = refusal


def refuse(refusal: Refusal) -> NoReturn:
    raise Refused(refusal)


def allowed(result: T | Refusal) -> T:
    """What a rule returned, unless it was a refusal (then raised)."""
    if isinstance(result, Refusal):
        raise Refused(result)
    return result


def answered(job: Callable[[], Awaitable[None]], answer: Callable[[Refusal], None]) -> Callable[[], Awaitable[None]]:
    """The job, with a Refused raised while it runs turned into the answer."""

    async def run() -> None:
        try:
            await job()
        except Refused as refused:
            answer(refused.refusal)

    return run


def checked(refusal: Refusal | None) -> None:
    """Raises the refusal a rule returned, if any."""
    if refusal is not None:
        raise Refused(refusal)
