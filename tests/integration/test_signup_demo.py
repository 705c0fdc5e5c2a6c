"""The Quick start stack (`chatd stack up`, as `./stack up` runs it, on free ports): a person signs up
from the printed address, reads the activation link that `chatd stack status` prints from the mail
sink, logs in with a real XMPP client and chats. Then the emergency look-up on the same stack: a
Senior Clinician with a reason sees the member's last login address with the unsealed registration
data; without a reason, or as a Wall Guide, it is refused; every attempt is audited, and the address
is in no log."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from chatd import demo
from chatd.stack import run_cli
from chatd.store.audit import AuditLog
from tests.integration.conftest import needs_prosody
from tests.integration.test_registration import register
from tests.support.client import Client, message_from
from tests.support.muc import groupchat, join, say

pytestmark = needs_prosody
PASSWORD = "a long enough demo password"
NEWCOMER = "gentle-puffin"  # the pseudonym of tests/unit/test_registration.PERSON
REASON = "the member wrote that they took pills an hour ago and stopped answering"


@dataclass
class Demo:
    run_dir: Path
    printed: str  # what `chatd stack up` printed
    described: dict  # type: ignore[type-arg] - .run/stack.json

    def chatd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args)

    def account(self, user: str) -> tuple[str, str]:
        found = next(a for a in self.described["accounts"] if a["jid"] == f"{user}@localhost")
        return found["jid"], found["password"]

    def mail_body(self) -> str:
        """The text of the one mail the sink kept (RFC 5322, as it came over SMTP)."""
        [path] = Path(self.described["registration"]["mail_folder"]).glob("*.eml")
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage) and mail["Subject"] == "Activate your registration", mail["Subject"]
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    @property
    def config_text(self) -> str:
        return Path(self.described["chatd_config"]).read_text()

    @property
    def c2s_port(self) -> int:
        return int(self.described["c2s"]["port"])

    def emergency(self, clinician: str, reason: str | None = REASON) -> subprocess.CompletedProcess[str]:
        vault = self.described["registration"]["vault"]
        args = ["vault", "emergency", "--config", self.described["chatd_config"], "--member", NEWCOMER]
        args += ["--clinician", clinician, "--private-key", vault["private_key"]]
        args += ["--passphrase-file", vault["passphrase_file"], *(["--reason", reason] if reason else [])]
        return self.chatd(*args)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    run_dir = tmp_path_factory.mktemp("demo") / ".run"
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            demo.up(run_dir, fixed_ports=False)
        yield Demo(run_dir, printed.getvalue(), json.loads((run_dir / "stack.json").read_text()))
    finally:
        pids = json.loads((run_dir / "stack.json").read_text())["pids"] if (run_dir / "stack.json").exists() else {}
        demo.down(run_dir)
        for pid in pids.values():  # started from this process: wait until each has stopped
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(pid), 0)


@pytest.fixture(scope="module")
async def newcomer(stack: Demo) -> AsyncIterator[tuple[str, str]]:
    """Signs up from the printed address; the activation link comes from `chatd stack status`."""
    signup_url = re.search(r"Sign up:\s+open (http://\S+/register) ", stack.printed)
    assert signup_url, stack.printed

    async def link_from_status() -> str:
        status = stack.chatd("stack", "status", "--run-dir", str(stack.run_dir))
        links = re.findall(r"^\s+(http://\S+/activate\?token=\S+)$", status.stdout, re.MULTILINE)
        assert len(links) == 1, status.stdout
        assert links[0] in stack.mail_body()  # the sink's file: a mail as chatd sent it
        return str(links[0])

    account = await register(signup_url[1], link_from_status, PASSWORD)
    yield account, PASSWORD


async def test_a_person_signs_up_on_the_demo_stack_and_logs_in_with_an_xmpp_client(
    stack: Demo, newcomer: tuple[str, str]
) -> None:
    member = await Client(*newcomer, stack.c2s_port).connect()
    alex = await Client(*stack.account("alex"), stack.c2s_port).connect()
    try:
        member.send_chat("calm-otter@en.localhost", "hello, I signed up on the demo")
        await alex.expect(message_from(f"{NEWCOMER}@en.localhost", "hello, I signed up on the demo"), timeout=10)
    finally:
        await member.close()
        await alex.close()
    # the data was sealed with the demo key pair, which says so in its file names and in what was printed
    vault = stack.described["registration"]["vault"]
    assert vault["demo"] == "yes" and Path(vault["public_key"]).name == "DEMO-ONLY-vault-public.pem"
    assert f"vault_public_key = {json.dumps(vault['public_key'])}" in stack.config_text
    assert "WARNING DEMO VAULT KEY" in stack.printed
    status = stack.chatd("stack", "status", "--run-dir", str(stack.run_dir)).stdout
    assert "WARNING DEMO VAULT KEY" in status and "mail sink: pid" in status


async def test_a_senior_clinician_with_a_reason_sees_the_last_login_address_and_registration_data(
    stack: Demo, newcomer: tuple[str, str]
) -> None:
    member = await Client(*newcomer, stack.c2s_port).connect()
    await member.close()
    shown = stack.emergency("cedar-senior")
    assert shown.returncode == 0, shown.stderr
    login = re.search(r"^Last login: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC from (\S+)$", shown.stdout, re.MULTILINE)
    assert login, shown.stdout
    assert login[2] == "127.0.0.1"  # where the client connected from
    assert login[1][:10] == time.strftime("%Y-%m-%d", time.gmtime())
    assert "[registration] sealed" in shown.stdout and "river.person@example.org" in shown.stdout


async def test_without_a_reason_the_look_up_is_refused(stack: Demo, newcomer: tuple[str, str]) -> None:
    for reason in (None, "urgent"):
        refused = stack.emergency("cedar-senior", reason)
        assert refused.returncode == 2
        assert "Refused: give the reason" in refused.stderr
        assert "127.0.0.1" not in refused.stdout + refused.stderr and "river.person" not in refused.stdout


async def test_a_wall_guide_is_refused_in_their_language(stack: Demo, newcomer: tuple[str, str]) -> None:
    english = stack.emergency("amber-guide")
    assert english.returncode == 2 and "Refused: only a Senior Clinician" in english.stderr
    french = stack.emergency("ambre-guide")
    assert french.returncode == 2 and "Refusé : seul un clinicien principal" in french.stderr
    nobody = stack.emergency("no-such-clinician")
    assert nobody.returncode == 2 and "Refused: only" in nobody.stderr and "Refusé : seul" in nobody.stderr
    for refused in (english, french, nobody):
        assert "127.0.0.1" not in refused.stdout + refused.stderr and "river.person" not in refused.stdout
        assert "Last login" not in refused.stdout


async def test_each_look_up_is_audited_without_the_address_or_the_data(stack: Demo, newcomer: tuple[str, str]) -> None:
    before = await audited(stack)
    assert stack.emergency("cedar-senior").returncode == 0
    assert stack.emergency("amber-guide").returncode == 2
    entries = (await audited(stack))[len(before) :]
    assert [(e.actor, e.realm, e.target, e.detail["outcome"]) for e in entries] == [
        ("cedar-senior", "en", NEWCOMER, "shown"),
        ("amber-guide", "en", NEWCOMER, "refused: not a Senior Clinician"),
    ]
    assert all(e.detail["reason"] == REASON for e in entries)
    written = json.dumps([dict(e.detail) for e in await audited(stack)])
    assert "127.0.0.1" not in written and "river.person" not in written and "613" not in written
    verified = stack.chatd("audit", "verify", "--config", stack.described["chatd_config"])
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_in_chat_a_wall_guide_is_refused_in_their_language_and_a_senior_clinician_sent_to_the_vault(
    stack: Demo, newcomer: tuple[str, str]
) -> None:
    asked = [
        ("guide-en", "en-queue", "amber-guide", "!emergency gentle-puffin", "Refused: only a Senior Clinician"),
        ("guide-fr", "fr-queue", "ambre-guide", "!emergency doux-castor", "Refusé : seul un clinicien principal"),
        ("senior", "en-queue", "cedar-senior", "!emergency gentle-puffin", "vault emergency --member gentle-puffin"),
    ]
    for user, queue, nick, line, answer in asked:
        client = await Client(*stack.account(user), stack.c2s_port).connect()
        try:
            room = f"{queue}@watch.localhost"
            await join(client, room, nick)
            say(client, room, f"{line} stopped answering after a severe alert")
            told = await client.expect(groupchat(room, answer), timeout=10)
            assert "127.0.0.1" not in ET.tostring(told, encoding="unicode")
        finally:
            await client.close()
    entries = [e for e in await audited(stack) if e.detail["reason"] == "stopped answering after a severe alert"]
    assert [(e.actor, e.realm, e.target) for e in entries] == [
        ("amber-guide", "en", "gentle-puffin"),
        ("ambre-guide", "fr", "doux-castor"),
    ]


async def test_the_address_is_in_no_log(stack: Demo, newcomer: tuple[str, str]) -> None:
    assert stack.emergency("cedar-senior").returncode == 0  # the member logged in, the address was shown
    logs = [Path(p) for p in stack.described["logs"].values()]
    logs += [p for p in stack.run_dir.rglob("*") if p.suffix in (".log", ".out") and p.is_file()]
    assert (stack.run_dir / "prosody" / "prosody.log") in logs
    for path in logs:
        assert "127.0.0.1" not in path.read_text(errors="replace"), path


async def audited(stack: Demo) -> list:  # type: ignore[type-arg]
    audit_log = await AuditLog.open(stack.run_dir / "chatd" / "chatd.sqlite3")
    try:
        return [e for e in await audit_log.records("vault.emergency")]
    finally:
        await audit_log.close()
