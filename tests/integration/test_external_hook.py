"""The external moderation hook over a real nats-server: it can change verdicts; silence means hold."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator

import nats
import pytest

from tests.integration.conftest import Stack, running_nats, running_stack
from tests.support.client import body_of, message_from
from tests.support.nats import NatsServer

SUBJECT = "chatd.moderation.review"

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server is not installed")


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with running_nats(tmp_path_factory, "nats") as server:
        yield server


@pytest.fixture(scope="module")
def hook_stack(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory, "hook-stack", nats_url=nats_server.url, external_subject=SUBJECT) as running:
        yield running


@pytest.fixture
async def classifier(nats_server: NatsServer) -> AsyncIterator[list[dict]]:
    """An external classifier: holds 'CLASSIFY-HOLD', never answers 'STAY-SILENT', garbles 'GARBLE'."""
    seen: list[dict] = []
    client = await nats.connect(nats_server.url)

    async def answer(message) -> None:
        request = json.loads(message.data)
        seen.append(request)
        if "STAY-SILENT" in request["text"]:
            return
        if "GARBLE" in request["text"]:
            await message.respond(b"this is not json")
        elif "CLASSIFY-HOLD" in request["text"]:
            await message.respond(
                json.dumps({"action": "hold", "alerts": [{"kind": "risk.external", "severity": 2}]}).encode()
            )
        else:
            await message.respond(b"{}")

    subscription = await client.subscribe(SUBJECT, cb=answer)
    await client.flush()
    yield seen
    await subscription.unsubscribe()
    await client.close()


@pytest.fixture
async def connect_hook(hook_stack: Stack):
    from tests.integration.conftest import connector

    opened = []
    yield connector(hook_stack, opened)
    for client in opened:
        await client.close()


async def wait_hook_ready(stack: Stack, alice, bob) -> None:
    """chatd connects to NATS in the background: resend until a plain message goes through."""
    for _ in range(40):
        alice.send_chat(stack.pseudonym_jid("bob"), "warming up")
        try:
            await bob.expect(message_from(stack.pseudonym_jid("alice"), "warming up"), timeout=0.5)
            return
        except TimeoutError:
            continue
    raise AssertionError("no message went through the hook")


async def test_hook_sees_text_and_context_but_no_account(hook_stack: Stack, connect_hook, classifier) -> None:
    alice, bob = await connect_hook("alice"), await connect_hook("bob")
    await wait_hook_ready(hook_stack, alice, bob)
    alice.send_chat(hook_stack.pseudonym_jid("bob"), "an ordinary sentence")
    await bob.expect(message_from(hook_stack.pseudonym_jid("alice"), "an ordinary sentence"))
    request = next(r for r in classifier if r["text"] == "an ordinary sentence")
    assert (request["author"], request["realm"], request["language"], request["field"]) == (
        "calm-otter",
        "en",
        "en",
        "body",
    )
    assert hook_stack.accounts["alice"].jid not in json.dumps(classifier)


async def test_hook_changes_a_verdict_to_hold(hook_stack: Stack, connect_hook, classifier) -> None:
    alice, bob = await connect_hook("alice"), await connect_hook("bob")
    await wait_hook_ready(hook_stack, alice, bob)
    mark = bob.mark()
    alice.send_chat(hook_stack.pseudonym_jid("bob"), "CLASSIFY-HOLD this one")
    await alice.expect(message_from(f"wallguide@{hook_stack.en}", "waiting for a Wall Guide"))
    await bob.expect_nothing(message_from(hook_stack.pseudonym_jid("alice"), "CLASSIFY-HOLD"), wait=0.5, start=mark)


@pytest.mark.parametrize("trigger", ["STAY-SILENT", "GARBLE"])
async def test_silent_or_broken_hook_leads_to_hold(hook_stack: Stack, connect_hook, classifier, trigger: str) -> None:
    alice, bob = await connect_hook("alice"), await connect_hook("bob")
    await wait_hook_ready(hook_stack, alice, bob)
    mark = bob.mark()
    alice.send_chat(hook_stack.pseudonym_jid("bob"), f"{trigger} please")
    notice = await alice.expect(message_from(f"wallguide@{hook_stack.en}", "waiting for a Wall Guide"))
    assert body_of(notice)
    await bob.expect_nothing(message_from(hook_stack.pseudonym_jid("alice"), trigger), wait=0.5, start=mark)


async def test_nats_down_means_hold_not_silence(hook_stack: Stack, nats_server: NatsServer, connect_hook) -> None:
    alice, bob = await connect_hook("alice"), await connect_hook("bob")
    nats_server.stop()
    try:
        mark = bob.mark()
        alice.send_chat(hook_stack.pseudonym_jid("bob"), "while NATS is away")
        await alice.expect(message_from(f"wallguide@{hook_stack.en}", "waiting for a Wall Guide"))
        await bob.expect_nothing(message_from(hook_stack.pseudonym_jid("alice"), "while NATS"), wait=0.5, start=mark)
    finally:
        nats_server.start()


async def test_example_classifier_service_answers(nats_server: NatsServer) -> None:
    import asyncio
    import sys

    from chatd.stack import REPO

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridges.example_classifier", "--nats", nats_server.url,
        "--subject", "example.review", "--hold-word", "ammo", cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    client = await nats.connect(nats_server.url)
    try:
        answers = []
        for text in ("where can I buy ammo", "a quiet evening"):
            for _ in range(50):  # until the service is subscribed
                try:
                    reply = await client.request("example.review", json.dumps({"text": text}).encode(), timeout=0.2)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            answers.append(json.loads(reply.data))
        assert answers[0]["action"] == "hold" and answers[1] == {}
    finally:
        await client.close()
        process.terminate()
        await process.wait()
