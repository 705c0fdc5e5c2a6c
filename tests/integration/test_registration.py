"""A person registers through the web pages (real SMTP server, real Prosody, chatd as its own
process), logs in with a standard XMPP client and chats; nothing readable is left behind."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from chatd.core.model import Role
from chatd.stack import Chatd, Prosody, build
from chatd.store import Store
from tests.support.client import Client, message_from
from tests.unit.test_registration import PASSPHRASE, PERSON, SECRETS, Mailbox, csrf_of, keypair

pytestmark = pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody is not installed")


@dataclass
class Site:
    prosody: Prosody
    chatd: Chatd
    mailbox: Mailbox
    buddy: tuple[str, str]  # an existing member's account and password
    private_key: Path  # the Senior Clinicians' key (passphrase PASSPHRASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    run_dir = tmp_path_factory.mktemp("registration")
    private, public = keypair(tmp_path_factory.getbasetemp())
    mailbox = Mailbox()
    mailbox.controller.start()
    registration: dict[str, object] = {"smtp_port": mailbox.port, "sender": "no-reply@example.org"}
    registration["vault_public_key"] = str(public)
    prosody, chatd = build(run_dir, registration=registration)
    registration["public_url"] = chatd.http_url
    chatd.write_config()
    prosody.start()
    buddy = (prosody.register("buddy", "pw-buddy-secret"), "pw-buddy-secret")

    async def add_buddy() -> None:
        store = await Store.open(chatd.store_path)
        await store.add_member(buddy[0], "en", "calm-otter", Role.MEMBER)
        await store.add_member("lee@localhost", "en", "dr-lee", Role.SENIOR_CLINICIAN)
        await store.close()

    asyncio.run(add_buddy())
    chatd.start()
    try:
        yield Site(prosody, chatd, mailbox, buddy, private)
    finally:
        chatd.stop()
        prosody.stop()
        mailbox.controller.stop()


async def register(
    signup_url: str, activation_link: Callable[[], Awaitable[str]], password: str, language: str = "en"
) -> str:
    """Goes through the pages like a browser, from the sign-up address (the language choice) to the
    welcome page; activation_link: the link of the mail that arrived. Returns the new account's JID."""
    origin = signup_url.removesuffix("/register")
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(origin, cookie_jar=jar) as http:
        async with http.get("/register") as response:
            choice = re.search(f'href="(/register/{language})"', await response.text())
        assert choice
        async with http.get(choice[1]) as response:
            csrf = csrf_of(await response.text())
        async with http.post(choice[1], data={**PERSON, "csrf": csrf}) as response:
            assert response.status == 200 and "Check your email" in await response.text()
        link = await activation_link()
        async with http.get(link.removeprefix(origin)) as response:
            html = await response.text()
        token = re.search(r'name="token" value="([^"]+)"', html)
        assert token
        form = {"csrf": csrf_of(html), "token": token[1], "password": password, "password_again": password}
        async with http.post(f"{choice[1]}/activate", data=form) as response:
            html = await response.text()
            assert response.status == 200, html
        account = re.search(r'<p class="account">([^<]+)</p>', html)
        assert account
        async with http.post(f"{choice[1]}/activate", data=form) as response:
            assert response.status == 410  # the link works once
        return account[1]


async def mailed_link(site: Site) -> str:
    await asyncio.wait_for(site.mailbox.arrived.wait(), 10)
    return site.mailbox.link()


async def test_a_registered_person_logs_in_and_chats(site: Site) -> None:
    password = "a long enough password"
    account = await register(f"{site.chatd.http_url}/register", lambda: mailed_link(site), password)
    port = site.prosody.c2s_port
    newcomer = await Client(account, password, port).connect()
    buddy = await Client(*site.buddy, port).connect()
    try:
        newcomer.send_chat("calm-otter@en.localhost", "hello, I just joined")
        await buddy.expect(message_from("gentle-puffin@en.localhost", "hello, I just joined"), timeout=10)
    finally:
        await newcomer.close()
        await buddy.close()
    stored = b"".join(p.read_bytes() for p in site.chatd.store_path.parent.glob("chatd.sqlite3*"))
    assert not [s for s in SECRETS if s in stored] and password.encode() not in stored
    logged = site.chatd.log_file.read_bytes() + (site.prosody.run_dir / "prosody.log").read_bytes()
    assert not [s for s in SECRETS if s in logged] and password.encode() not in logged
    assert account.encode() not in site.chatd.log_file.read_bytes()


async def test_a_member_shares_contact_details_sealed_for_the_senior_clinicians(site: Site, tmp_path: Path) -> None:
    buddy = await Client(*site.buddy, site.prosody.c2s_port).connect()
    try:
        guide = "wallguide@en.localhost"
        buddy.send_chat(guide, "!share call me at 613-555-0199 if I stop answering")
        await buddy.expect(message_from(guide, "Your details are sealed"), timeout=10)
    finally:
        await buddy.close()
    await asyncio.sleep(0.3)
    stored = b"".join(p.read_bytes() for p in site.chatd.store_path.parent.glob("chatd.sqlite3*"))
    assert b"613-555-0199" not in stored
    assert b"613-555-0199" not in site.chatd.log_file.read_bytes()
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    opened = site.chatd.cli(
        "vault", "unseal", "--member", "calm-otter", "--reason", "the member asked us to call in an emergency",
        "--private-key", str(site.private_key), "--passphrase-file", str(passphrase), "--clinician", "dr-lee",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert "[shared]" in opened.stdout and "613-555-0199" in opened.stdout
