"""go-sendxmpp (a Go XMPP client, Debian package) talks to chatd: not slixmpp on both ends."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.integration.conftest import Stack
from tests.support.client import message_from

pytestmark = pytest.mark.skipif(shutil.which("go-sendxmpp") is None, reason="go-sendxmpp is not installed")


def login(stack: Stack, name: str) -> list[str]:
    """go-sendxmpp's command line up to its own options: account, server, no certificate check."""
    account = stack.accounts[name]
    return ["go-sendxmpp", "-u", account.jid, "-p", account.password, "-j", f"127.0.0.1:{stack.prosody.c2s_port}", "-n"]


async def go_sendxmpp(stack: Stack, name: str, *args: str, stdin: str = "") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *login(stack, name),
        "--timeout",
        "10",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin.encode()), 30)
    return process.returncode or 0, output.decode(errors="replace")


async def test_go_sendxmpp_sends_to_a_pseudonym(any_stack: Stack, connect_any) -> None:
    bob = await connect_any("bob")
    code, output = await go_sendxmpp(any_stack, "dan", any_stack.pseudonym_jid("bob"), stdin="sent by go-sendxmpp\n")
    assert code == 0, output
    got = await bob.expect(message_from(any_stack.pseudonym_jid("dan"), "sent by go-sendxmpp"), timeout=10)
    assert any_stack.accounts["dan"].jid not in str(got.attrib)


async def test_go_sendxmpp_receives_from_a_pseudonym(stack: Stack, connect) -> None:
    listener = await asyncio.create_subprocess_exec(
        *login(stack, "dan"), "-l", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        alice = await connect("alice")
        assert listener.stdout is not None
        line = b""
        for _ in range(20):  # resend until the listener is online, at most 20 times
            alice.send_chat(stack.pseudonym_jid("dan"), "hello go client")
            try:
                line = await asyncio.wait_for(listener.stdout.readline(), 1.0)
            except TimeoutError:
                continue
            if b"hello go client" in line:
                break
        text = line.decode()
        assert "hello go client" in text
        assert stack.pseudonym_jid("alice") in text
        assert stack.accounts["alice"].jid not in text
    finally:
        listener.terminate()
        await listener.wait()
