import asyncio

from chatd.core.moderation import apply_external, external_failed
from chatd.hook import ExternalHook
from policies import Action, Context, Finding, Verdict

CONTEXT = Context(realm="en", language="en")
REDACTED = Verdict(
    Action.REDACT, "mail [email removed]", (Finding("pii.email", 2, 5, 15),), rules=("no-personal-info",)
)


def test_apply_external_changes_action_and_adds_findings() -> None:
    local = Verdict(Action.DELIVER, "hello")
    held = apply_external(local, "hello", Action.HOLD, None, (Finding("house.x", 2, 0, 5),))
    assert held.action is Action.HOLD and held.rules == ("external-review",) and len(held.findings) == 1
    assert apply_external(local, "hello", None, None) == Verdict(Action.DELIVER, "hello")


def test_a_redaction_without_text_is_held_never_delivered_raw() -> None:
    local = Verdict(Action.DELIVER, "my secret")
    assert apply_external(local, "my secret", Action.REDACT, None).action is Action.HOLD
    assert apply_external(local, "my secret", Action.REDACT, "my [removed]").text == "my [removed]"
    kept = apply_external(REDACTED, "mail a@b.example", Action.REDACT, None)
    assert kept.text == "mail [email removed]"


def test_failure_is_never_milder_than_the_local_verdict() -> None:
    assert external_failed(Verdict(Action.DELIVER, "x"), "x", Action.HOLD).action is Action.HOLD
    assert external_failed(Verdict(Action.REJECT, "x"), "x", Action.HOLD).action is Action.REJECT
    assert external_failed(REDACTED, "mail a@b.example", Action.DELIVER).text == "mail [email removed]"


class Scripted:
    def __init__(self, reply: bytes | None, fail: Exception | None = None):
        self.reply, self.fail = reply, fail

    async def request(self, payload: bytes, timeout: float) -> bytes:
        if self.fail:
            raise self.fail
        if self.reply is None:
            await asyncio.sleep(10)
        return self.reply or b""


async def test_hook_outcomes() -> None:
    local = Verdict(Action.DELIVER, "text")
    cases = [
        (Scripted(b'{"action": "reject"}'), Action.REJECT, "answered"),
        (Scripted(None), Action.HOLD, "timeout"),
        (Scripted(b"[1, 2"), Action.HOLD, "error"),
        (Scripted(b'{"action": "explode"}'), Action.HOLD, "error"),
        (Scripted(b"", ConnectionError("down")), Action.HOLD, "error"),
    ]
    for requester, expected, outcome in cases:
        hook = ExternalHook(requester, deadline=0.05, fail_action=Action.HOLD)
        verdict = await hook.consult("text", CONTEXT, "calm-otter", local)
        assert verdict.action is expected and hook.outcomes[outcome] == 1, outcome
