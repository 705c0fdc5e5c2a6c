"""Operators' side: the member CLI against a running chatd, health, and what the logs hold."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from tests.integration.conftest import Stack
from tests.support.client import error_from, message_from


async def test_member_cli_add_list_suspend_reinstate_live(stack: Stack, connect) -> None:
    account = stack.prosody.register("grace", "pw-grace-secret")
    result = stack.chatd.cli("member", "add", "--account", account, "--realm", "en", "--pseudonym", "patient-marten")
    assert result.returncode == 0, result.stderr
    listing = stack.chatd.cli("member", "list", "--realm", "en")
    assert "patient-marten\tmember\tactive\t-" in listing.stdout
    assert account not in listing.stdout  # accounts only with --show-accounts

    stack.accounts["grace"] = type(stack.accounts["alice"])("grace", account, "pw-grace-secret", "en", "patient-marten")
    grace, alice = await connect("grace"), await connect("alice")
    for _ in range(30):  # the running chatd reloads its directory within about half a second
        grace.send_chat(stack.pseudonym_jid("alice"), "new member here")
        try:
            await alice.expect(message_from("patient-marten@" + stack.en, "new member here"), timeout=0.5)
            break
        except TimeoutError:
            continue
    else:
        raise AssertionError("the new member was never admitted")

    assert stack.chatd.cli("member", "suspend", "--realm", "en", "patient-marten").returncode == 0
    await asyncio.sleep(1.2)
    sent = grace.send_chat(stack.pseudonym_jid("alice"), "am I suspended?")
    await grace.expect(error_from(stack.pseudonym_jid("alice"), "forbidden", stanza_id=sent))
    sent = alice.send_chat("patient-marten@" + stack.en, "are you there?")
    await alice.expect(error_from("patient-marten@" + stack.en, "item-not-found", stanza_id=sent))
    assert stack.chatd.cli("member", "reinstate", "--realm", "en", "patient-marten").returncode == 0


async def test_member_cli_refuses_bad_input(stack: Stack) -> None:
    bad_name = stack.chatd.cli("member", "add", "--account", "x@localhost", "--realm", "en", "--pseudonym", "Bad Name")
    assert bad_name.returncode == 2 and "not valid" in bad_name.stderr
    taken = stack.chatd.cli("member", "add", "--account", "y@localhost", "--realm", "en", "--pseudonym", "calm-otter")
    assert taken.returncode == 2 and "taken" in taken.stderr
    again = stack.chatd.cli("member", "add", "--account", stack.accounts["alice"].jid, "--realm", "en")
    assert again.returncode == 2 and "already a member" in again.stderr
    wrong_realm = stack.chatd.cli("member", "add", "--account", "z@localhost", "--realm", "de")
    assert wrong_realm.returncode == 2 and "unknown realm" in wrong_realm.stderr


async def test_healthz_reports_each_stream_and_the_store(stack: Stack) -> None:
    def fetch() -> tuple[int, dict]:
        with urllib.request.urlopen(f"{stack.chatd.http_url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())

    status, report = await asyncio.to_thread(fetch)
    assert status == 200
    assert report["store"] == "ok"
    assert set(report["streams"]) == set(stack.chatd.components())
    assert all(s["state"] == "up" for s in report["streams"].values())


async def test_logs_hold_no_message_text_and_no_account_behind_a_pseudonym(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    marker = "a very private sentence 7731"
    alice.send_chat(stack.pseudonym_jid("bob"), marker)
    await bob.expect(message_from(stack.pseudonym_jid("alice"), marker))
    alice.send_chat(stack.pseudonym_jid("bob"), "REJECTME " + marker)
    await asyncio.sleep(0.3)
    log = stack.chatd.log_file.read_text()
    assert "DEBUG" in log  # the test stack logs at debug level, the most talkative
    assert marker not in log
    for account in stack.accounts.values():
        assert account.jid not in log
