"""Registration through the pages, in process: real store, real SMTP server (aiosmtpd), real policies."""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller

from chatd.config import Config
from chatd.core.moderation import Moderation
from chatd.policy_loader import load_policy
from chatd.registration import Registration, forms
from chatd.registration.mail import Mailer
from chatd.stack import REPO, free_port
from chatd.store import Store
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import Sealer, associated_data
from chatd.vault.unseal import generate, load_private_key, open_sealed

PASSPHRASE = "correct horse battery staple"
PERSON = {
    "rules": "accepted",
    "pseudonym": "gentle-puffin",
    "email": "river.person@example.org",
    "phone": "613-555-0142",
    "postal_code": "k1a0b1",
    "birth_date": "1990-05-31",
    "affiliation": "former",
}
SECRETS = (b"river.person@example.org", b"+16135550142", b"613-555-0142", b"5550142", b"K1A 0B1", b"1990-05-31")


class Mailbox:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived = asyncio.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        self.arrived.set()
        return "250 OK"

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def link(self, index: int = -1) -> str:
        body = message_from_bytes(self.messages[index]).get_payload(decode=True).decode()
        found = re.search(r"https?://\S+/activate\?token=[\w-]+", body)
        assert found, body
        return found[0]


def keypair(folder: Path) -> tuple[Path, Path]:
    private, public = folder / "team.pem", folder / "team.pub.pem"
    if not private.exists():
        generate(private, public, PASSPHRASE)
    return private, public


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


@dataclass
class FakeAccounts:
    created: dict[str, str] = field(default_factory=dict)  # jid -> password

    async def create(self, localpart: str, password: str) -> str:
        jid = f"{localpart}@localhost"
        self.created[jid] = password
        return jid

    async def delete(self, jid: str) -> None:
        self.created.pop(jid, None)


@dataclass
class Site:
    client: TestClient  # type: ignore[type-arg]
    mailbox: Mailbox
    store: Store
    accounts: FakeAccounts
    private_key: Path
    db_path: Path
    now: list[float]

    async def form(self, path: str) -> str:
        response = await self.client.get(path)
        assert response.status == 200
        return csrf_of(await response.text())

    async def signup(self, language: str = "en", **changes: str) -> tuple[int, str]:
        data = {**PERSON, **changes, "csrf": await self.form(f"/register/{language}")}
        response = await self.client.post(f"/register/{language}", data=data)
        return response.status, await response.text()

    async def activate(self, link: str, password: str = "a long enough password", **answers: str) -> tuple[int, str]:
        path = link.split("://", 1)[1].partition("/")[2]
        response = await self.client.get("/" + path)
        if response.status != 200:
            return response.status, await response.text()
        html = await response.text()
        token = re.search(r'name="token" value="([^"]+)"', html)
        assert token
        data = {"csrf": csrf_of(html), "token": token[1], "password": password, "password_again": password, **answers}
        response = await self.client.post(path.partition("?")[0] and "/" + path.partition("?")[0], data=data)
        return response.status, await response.text()


def make_config(public_key: Path, smtp_port: int, db_path: Path) -> Config:
    data = tomllib.loads((REPO / "conf" / "chatd.example.toml").read_text())
    data["store"] = {"path": str(db_path)}
    data["registration"] = {
        "public_url": "http://chat.example.org",
        "smtp_port": smtp_port,
        "sender": "no-reply@example.org",
        "vault_public_key": str(public_key),
        "activation_minutes": 60,
    }
    return Config.model_validate(data)


@pytest.fixture
async def site(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    private, public = keypair(tmp_path_factory.getbasetemp())
    mailbox = Mailbox()
    mailbox.controller.start()
    db_path = tmp_path / "chatd.sqlite3"
    config = make_config(public, mailbox.port, db_path)
    store = await Store.open(db_path)
    moderation = Moderation(load_policy(config.moderation.policy, str(REPO / "conf" / "policies.toml")))
    accounts, now = FakeAccounts(), [1_800_000_000.0]

    async def member_added() -> None:
        pass

    assert config.registration is not None
    registration = Registration(
        config, store, moderation, Sealer.from_file(public), Mailer(config.registration), accounts, member_added,
        clock=lambda: now[0],
    )  # fmt: skip
    app = web.Application()
    registration.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Site(client, mailbox, store, accounts, private, db_path, now)
    finally:
        await client.close()
        await store.close()
        mailbox.controller.stop()


async def test_a_person_registers_activates_and_becomes_a_member(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, html = await site.signup()
    assert status == 200 and "Check your email" in html
    assert not any(s.decode() in html for s in SECRETS)
    assert len(site.mailbox.messages) == 1
    status, html = await site.activate(site.mailbox.link(), answer_hopes="people who understand")
    assert status == 200 and "Welcome" in html and "gentle-puffin" in html
    [(account, password)] = site.accounts.created.items()
    assert account in html and password == "a long enough password"
    [member] = await site.store.members("en")
    assert (member.pseudonym, member.account, member.realm) == ("gentle-puffin", account, "en")
    # the link works once
    status, html = await site.activate(site.mailbox.link())
    assert status == 410 and "cannot be used" in html
    # nothing readable anywhere: the database file (and its WAL), the logs, the pages
    await site.store.db.commit()
    stored = b"".join(p.read_bytes() for p in site.db_path.parent.glob("chatd.sqlite3*"))
    assert not [s for s in SECRETS if s in stored]
    assert b"a long enough password" not in stored and b"people who understand" not in stored
    # what chatd and its web server logged (the test's own SMTP server logs addresses, chatd must not)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("chatd", "aiohttp"))
    assert "registration 1: completed" in logged
    assert not [s for s in SECRETS if s.decode() in logged] and account not in logged
    # the team's private key opens what was sealed
    key = load_private_key(site.private_key, PASSPHRASE)
    entries = await RegistrationStore(site.store.db).entries_of("en", "gentle-puffin")
    opened = {e.kind: open_sealed(key, e.sealed, associated_data(e.realm, e.pseudonym, e.kind)) for e in entries}
    assert opened["registration"]["email"] == "river.person@example.org"
    assert opened["registration"]["phone"] == "+16135550142"
    assert opened["onboarding"] == {"hopes": "people who understand"}


async def test_under_16_is_refused_and_pointed_to_kids_help_phone(site: Site) -> None:
    today = date.today()
    fifteen = (
        today.replace(year=today.year - 16) if (today.month, today.day) != (2, 29) else date(today.year - 16, 3, 1)
    )
    fifteen = date.fromordinal(fifteen.toordinal() + 1)
    for language, phrase in (("en", "Kids Help Phone"), ("fr", "Jeunesse, J’écoute")):
        status, html = await site.signup(language, birth_date=fifteen.isoformat())
        assert status == 200 and phrase in html and "1-800-668-6868" in html and "686868" in html
    assert site.mailbox.messages == []
    async with site.store.db.execute("SELECT count(*) FROM registrations") as cursor:
        assert (await cursor.fetchone())[0] == 0


@pytest.mark.parametrize(
    ("language", "changes", "text"),
    [
        ("en", {"pseudonym": "john-smith"}, "looks like a person’s name"),
        ("fr", {"pseudonym": "marie-tremblay"}, "ressemble au nom d’une personne"),
        ("en", {"pseudonym": "river-otter"}, "shares a word with your email"),
        ("en", {"pseudonym": "Calm Otter!"}, "lowercase words joined by hyphens"),
        ("en", {"email": "not-an-email"}, "Enter an email address"),
        ("fr", {"phone": "12"}, "Entrez un numéro de téléphone"),
        ("en", {"rules": ""}, "Accept the house rules"),
        ("en", {"affiliation": "astronaut"}, "Choose the description"),
    ],
)
async def test_errors_are_shown_next_to_their_field(
    site: Site, language: str, changes: dict[str, str], text: str
) -> None:
    status, html = await site.signup(language, **changes)
    assert status == 422
    [name] = changes
    error = re.search(rf'<p class="error" id="f-{name}-error">([^<]+)</p>', html)
    assert error and text in error[1]
    assert re.search(rf'aria-describedby="[^"]*f-{name}-error"', html)  # the error is tied to its field
    assert f'<a href="#f-{name}">' in html and f'<html lang="{language}">' in html
    assert site.mailbox.messages == []


async def test_a_taken_pseudonym_is_refused(site: Site) -> None:
    assert (await site.signup())[0] == 200
    status, html = await site.signup(email="someone.else@example.org")
    assert status == 422 and "already taken" in html


async def test_an_expired_link_is_refused(site: Site) -> None:
    await site.signup()
    site.now[0] += 61 * 60
    status, html = await site.activate(site.mailbox.link())
    assert status == 410 and "expired" in html
    assert site.accounts.created == {}


async def test_forms_need_the_csrf_token(site: Site) -> None:
    response = await site.client.post("/register/en", data=PERSON)
    assert response.status == 403
    assert site.mailbox.messages == []


def test_age_is_counted_in_whole_years() -> None:
    assert forms.age_on(date(2000, 6, 15), date(2016, 6, 14)) == 15
    assert forms.age_on(date(2000, 6, 15), date(2016, 6, 15)) == 16
