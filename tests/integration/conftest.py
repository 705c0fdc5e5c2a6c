"""A real Prosody (or ejabberd) and a real chatd process on free loopback ports, shared by a test session."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chatd.core.model import Role
from chatd.stack import REPO, Chatd, Ejabberd, Prosody, build
from chatd.store import Store
from tests.support.client import Client
from tests.support.nats import NatsServer
from tests.support.postgres import postgres_server  # noqa: F401 (a fixture for the tests on PostgreSQL)

# name -> (realm, pseudonym, role); realm None: an account that is not a member
ACCOUNTS: dict[str, tuple[str | None, str, Role]] = {
    "alice": ("en", "calm-otter", Role.MEMBER),
    "bob": ("en", "brave-heron", Role.MEMBER),
    "carol": ("en", "quiet-lynx", Role.MEMBER),
    "dan": ("en", "steady-moose", Role.MEMBER),
    "eve": ("en", "swift-hare", Role.MEMBER),
    "frank": ("en", "kind-robin", Role.MEMBER),
    "denise": ("fr", "doux-castor", Role.MEMBER),
    "gilles": ("fr", "calme-loutre", Role.MEMBER),
    "gina": ("en", "gentle-crane", Role.MEMBER),
    "hank": ("en", "humble-bison", Role.MEMBER),
    "ivy": ("en", "bright-wren", Role.MEMBER),
    "wendy": ("en", "sturdy-owl", Role.WALL_GUIDE),
    "gaston": ("fr", "sage-hibou", Role.WALL_GUIDE),
    "robo": ("en", "helper-bot", Role.BOT),
    "mallory": (None, "", Role.MEMBER),
}

needs_prosody = pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody is not installed")
# what each server needs on the machine (ejabberd: its control script and the Erlang compiler for chatd's module)
SERVER_COMMANDS = {"prosody": ("prosody",), "ejabberd": ("ejabberdctl", "erlc")}


@dataclass
class Account:
    name: str
    jid: str
    password: str
    realm: str | None
    pseudonym: str

    def address(self, realm_domain: str) -> str:
        return f"{self.pseudonym}@{realm_domain}"


@dataclass
class Stack:
    prosody: Prosody | Ejabberd  # the server, whichever it is (see `server`)
    chatd: Chatd
    accounts: dict[str, Account]

    @property
    def server(self) -> Prosody | Ejabberd:
        return self.prosody

    @property
    def en(self) -> str:
        return self.chatd.realms[0].people_domain

    @property
    def fr(self) -> str:
        return self.chatd.realms[1].people_domain

    def pseudonym_jid(self, name: str) -> str:
        account = self.accounts[name]
        return f"{account.pseudonym}@{self.en if account.realm == 'en' else self.fr}"

    async def store(self) -> Store:
        return await Store.open(self.chatd.store)


def launch(
    run_dir: Path, prosody_settings: dict[str, object] | None = None, slots: int = 0, **chatd_options: object
) -> Stack:
    """Starts the server (settings: its fields) and chatd with the test accounts; the caller stops them.

    slots: on ejabberd, each of chatd's domains balanced over that many connections (docs/scale-out.md)."""
    options: dict[str, object] = {
        "policy": "tests.support.seam_policy:make",
        "policies_file": "",
        "limits": {"burst_messages": 20, "burst_seconds": 10.0, "max_stanza_bytes": 8192},
        "log_level": "debug",
    }
    options.update(chatd_options)
    prosody, chatd = build(run_dir, **options)
    for name, value in (prosody_settings or {}).items():
        setattr(prosody, name, value)
    if slots and isinstance(prosody, Ejabberd):
        prosody.domain_balancing = dict.fromkeys(chatd.components(), slots)
    prosody.write_config()
    chatd.write_config()  # the settings may be the chatd config's too (e.g. push app servers)
    prosody.start()
    accounts = {}
    for name, (realm, pseudonym, _role) in ACCOUNTS.items():
        password = f"pw-{name}-secret"
        accounts[name] = Account(name, prosody.register(name, password), password, realm, pseudonym)

    async def add_members() -> None:
        store = await Store.open(chatd.store)
        for name, (realm, pseudonym, role) in ACCOUNTS.items():
            if realm is not None:
                await store.add_member(accounts[name].jid, realm, pseudonym, role)
        await store.close()

    asyncio.run(add_members())
    try:
        chatd.start()
    except Exception:  # e.g. not healthy in time: stop the process too, or it retries forever
        chatd.stop()
        prosody.stop()
        raise
    return Stack(prosody, chatd, accounts)


def shut(stack: Stack) -> None:
    stack.chatd.stop()
    stack.prosody.stop()


@contextlib.contextmanager
def running_stack(tmp_path_factory: pytest.TempPathFactory, name: str, **options: object) -> Iterator[Stack]:
    """A stack for a fixture (options: launch's; server="ejabberd" for ejabberd): skipped without the server."""
    server = str(options.get("server", "prosody"))
    missing = [command for command in SERVER_COMMANDS[server] if shutil.which(command) is None]
    if missing:
        pytest.skip(f"{server} is not installed ({', '.join(missing)} not found; apt-get install {server})")
    running = launch(tmp_path_factory.mktemp(name), **options)
    try:
        yield running
    finally:
        shut(running)


@contextlib.contextmanager
def running_nats(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[NatsServer]:
    if shutil.which("nats-server") is None:
        pytest.skip("nats-server is not installed")
    server = NatsServer(tmp_path_factory.mktemp(name))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prosody + chatd with the keyword test policy (tests/support/seam_policy.py)."""
    with running_stack(tmp_path_factory, "stack") as running:
        yield running


@pytest.fixture(scope="session")
def ejabberd_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ejabberd + chatd with the keyword test policy: the second supported server (docs/ejabberd.md)."""
    with running_stack(tmp_path_factory, "ejabberd-stack", server="ejabberd") as running:
        yield running


@pytest.fixture(params=["prosody", "ejabberd"])
def any_stack(request: pytest.FixtureRequest) -> Stack:
    """The test runs once on each supported server (the same stacks as `stack` and `ejabberd_stack`).

    Function-scoped on purpose: a session-scoped parameter would make pytest move every such test
    ahead of the others, and tests of the shared stack would no longer run in their files' order.
    """
    return request.getfixturevalue("stack" if request.param == "prosody" else "ejabberd_stack")


@pytest.fixture
async def connect_any(any_stack: Stack) -> AsyncIterator[Callable[[str], Awaitable[Client]]]:
    opened: list[Client] = []
    yield connector(any_stack, opened)
    for client in opened:
        await client.close()


@pytest.fixture(scope="session")
def policy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prosody + chatd with the real moderation policies (conf/policies.toml)."""
    with running_stack(
        tmp_path_factory,
        "policy-stack",
        policy="policies.engine:PolicyEngine.from_settings",
        policies_file=str(REPO / "conf" / "policies.toml"),
        reannounce_seconds=6.0,
    ) as running:
        yield running


def connector(stack: Stack, opened: list[Client]) -> Callable[[str], Awaitable[Client]]:
    async def open_client(name: str) -> Client:
        account = stack.accounts[name]
        client = await Client(account.jid, account.password, stack.prosody.c2s_port).connect()
        opened.append(client)
        return client

    return open_client


@pytest.fixture
async def connect(stack: Stack) -> AsyncIterator[Callable[[str], Awaitable[Client]]]:
    opened: list[Client] = []
    yield connector(stack, opened)
    for client in opened:
        await client.close()


@pytest.fixture
async def connect_to() -> AsyncIterator[Callable[[Stack, str], Awaitable[Client]]]:
    """Clients of a test's own stack (a module fixture), closed after the test."""
    opened: list[Client] = []

    async def open_client(stack: Stack, name: str) -> Client:
        return await connector(stack, opened)(name)

    yield open_client
    for client in opened:
        await client.close()


@pytest.fixture
async def connect_policy(policy_stack: Stack) -> AsyncIterator[Callable[[str], Awaitable[Client]]]:
    opened: list[Client] = []
    yield connector(policy_stack, opened)
    for client in opened:
        await client.close()
