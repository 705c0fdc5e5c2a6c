"""chatd as its own process of the stack, configured to talk to one Prosody."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from chatd.stack.common import REPO, StackError, free_port
from chatd.stack.ejabberd import Ejabberd
from chatd.stack.prosody import Prosody

SERVERS = ("prosody", "ejabberd")  # Prosody is the embedded default; docs/ejabberd.md


@dataclass
class Realm:
    id: str
    language: str
    people_domain: str
    rooms_domain: str
    people_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    rooms_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    rooms: list[dict[str, object]] = field(default_factory=list)  # topic rooms, as in [[realms.rooms]]


# Topic rooms of the stack, per language (the same as conf/chatd.example.toml).
DEFAULT_ROOMS: dict[str, list[dict[str, object]]] = {
    "en": [
        {"id": "general", "name": "General", "description": "Peer support on any topic.", "tags": ["general"]},
        {
            "id": "military",
            "name": "Military life",
            "description": "Serving, leaving and life after service.",
            "tags": ["military"],
        },
        {
            "id": "mst",
            "name": "MST community",
            "description": "For members affected by military sexual trauma.",
            "tags": ["military", "abuse", "ptsd-trauma"],
            "resources": "sexual-misconduct",
        },
    ],
    "fr": [
        {"id": "general", "name": "Général", "description": "Soutien entre pairs, tous sujets.", "tags": ["general"]},
        {
            "id": "militaire",
            "name": "Vie militaire",
            "description": "Le service, la transition et la vie après.",
            "tags": ["military"],
        },
        {
            "id": "tsm",
            "name": "Communauté TSM",
            "description": "Pour les membres touchés par un traumatisme sexuel en contexte militaire.",
            "tags": ["military", "abuse", "ptsd-trauma"],
            "resources": "sexual-misconduct",
        },
    ],
}


def default_realms(host: str) -> list[Realm]:
    return [
        Realm(lang, lang, f"{lang}.{host}", f"rooms.{lang}.{host}", rooms=list(DEFAULT_ROOMS[lang]))
        for lang in ("en", "fr")
    ]


@dataclass
class Chatd:
    """chatd as its own process, configured to talk to one XMPP server (Prosody or ejabberd)."""

    run_dir: Path
    prosody: Prosody | Ejabberd  # the server, whichever it is (the name predates ejabberd)
    realms: list[Realm]
    watch_domain: str
    watch_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    http_port: int = 0
    policy: str = "policies.engine:PolicyEngine.from_settings"
    policies_file: str = str(REPO / "conf" / "policies.toml")
    limits: dict[str, object] = field(default_factory=dict)
    registration: dict[str, object] = field(default_factory=dict)  # [registration] keys; empty: none
    log_level: str = "info"
    nats_url: str = ""
    external_subject: str = ""  # the external moderation hook's NATS subject
    action_tokens: dict[str, str] = field(default_factory=dict)  # services allowed to send actions
    several_instances: bool = False  # news between instances over NATS (docs/scale-out.md)
    reannounce_seconds: float = 600.0  # unclaimed high-severity queue entries are posted again
    follows_check_seconds: float = 60.0  # how often due digests are looked for
    store_folder: Path | None = None  # where the store lives (e.g. a small disk); run_dir when None
    store_url: str = ""  # a postgresql:// URL: the store on PostgreSQL (chatd's own files in run_dir)
    uploads: dict[str, object] | None = None  # [uploads] keys beyond the domain, secret and URL; None: no uploads
    upload_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    instruments: str = ""  # selfhelp@'s instrument folder; empty: the config's default (conf/selfhelp)
    day_seconds: float = 0.0  # selfhelp@'s day for goals' check-ins; 0: the config's default (a real day)
    multicast: bool = True  # room fan-out through the server's XEP-0033 service when it has one
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_file(self) -> Path:
        return self.run_dir / "chatd.toml"

    @property
    def store_path(self) -> Path:
        return (self.store_folder or self.run_dir) / "chatd.sqlite3"

    @property
    def store(self) -> str:
        """The store's setting: the PostgreSQL URL, or the SQLite file."""
        return self.store_url or str(self.store_path)

    @property
    def log_file(self) -> Path:
        return self.run_dir / "chatd.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def upload_domain(self) -> str:
        return f"upload.{self.prosody.members_host}"

    @property
    def upload_folder(self) -> Path:
        return self.store_path.parent / "uploads"

    def components(self) -> dict[str, str]:
        found = {self.watch_domain: self.watch_secret}
        for realm in self.realms:
            found[realm.people_domain] = realm.people_secret
            found[realm.rooms_domain] = realm.rooms_secret
        if self.uploads is not None:
            found[self.upload_domain] = self.upload_secret
        return found

    def write_config(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.http_port = self.http_port or free_port()
        tokens = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in self.action_tokens.items())
        lines = [
            f'log_level = "{self.log_level}"',
            "[server]",
            'host = "127.0.0.1"',
            f"component_port = {self.prosody.component_port}",
            f'members_host = "{self.prosody.members_host}"',
            f"multicast = {json.dumps(self.multicast)}",
        ]
        for realm in self.realms:
            lines += [
                "[[realms]]",
                f'id = "{realm.id}"',
                f'language = "{realm.language}"',
                f'people_domain = "{realm.people_domain}"',
                f'rooms_domain = "{realm.rooms_domain}"',
                f'people_secret = "{realm.people_secret}"',
                f'rooms_secret = "{realm.rooms_secret}"',
            ]
            for room in realm.rooms:
                lines += ["[[realms.rooms]]", *(f"{k} = {json.dumps(v)}" for k, v in room.items())]
        lines += [
            "[watch]",
            f'domain = "{self.watch_domain}"',
            f'secret = "{self.watch_secret}"',
            f"reannounce_seconds = {self.reannounce_seconds}",
            "[store]",
            f"path = {json.dumps(self.store)}",
            f"folder = {json.dumps(str(self.run_dir) if self.store_url else '')}",
            "[http]",
            f'listen = "127.0.0.1:{self.http_port}"',
            "[bus]",
            f"nats_url = {json.dumps(self.nats_url)}",
            f"action_tokens = {{ {tokens} }}",
            f"several_instances = {json.dumps(self.several_instances)}",
            "[push]",
            f"app_servers = {json.dumps(list(self.prosody.push_app_servers))}",
            "[resources]",
            f"file = {json.dumps(str(REPO / 'conf' / 'resources.toml'))}",
            "[moderation]",
            f"policy = {json.dumps(self.policy)}",
            f"policies_file = {json.dumps(self.policies_file)}",
            f"external_subject = {json.dumps(self.external_subject)}",
            "[limits]",
            *(f"{k} = {json.dumps(v)}" for k, v in self.limits.items()),
            "[follows]",
            f"check_seconds = {self.follows_check_seconds}",
        ]
        selfhelp = {"instruments": self.instruments, "day_seconds": self.day_seconds}
        lines += ["[selfhelp]", *(f"{k} = {json.dumps(v)}" for k, v in selfhelp.items() if v)]
        if self.uploads is not None:
            service: dict[str, object] = {"domain": self.upload_domain, "secret": self.upload_secret}
            service.update(public_url=self.http_url, **self.uploads)
            lines += ["[uploads]", *(f"{k} = {json.dumps(v)}" for k, v in service.items())]
        if self.registration:
            settings = {"prosody_config": str(self.prosody.config_file), **self.registration}
            lines += ["[registration]", *(f"{k} = {json.dumps(v)}" for k, v in settings.items())]
        self.config_file.write_text("\n".join(lines) + "\n")

    def another(self, run_dir: Path) -> Chatd:
        """One more instance of this chatd on its shared store (docs/scale-out.md): the same domains, secrets and
        settings, its own folder (journal, sent log) and HTTP port."""
        if not self.store_url:
            raise StackError("several chatd instances need a shared store (store_url: PostgreSQL)")
        return dataclasses.replace(self, run_dir=run_dir, http_port=0, process=None)

    def command(self, *args: str) -> list[str]:
        return chatd_command(*args)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a chatd CLI command against this instance's config."""
        return run_cli(*args, "--config", str(self.config_file))

    def start(self, timeout: float = 90.0) -> None:  # building the policy engine takes seconds on a busy machine
        if not self.config_file.exists():
            self.write_config()
        self.process = spawn(self.command("run", "--config", str(self.config_file)), self.log_file)
        self.wait_healthy(timeout)

    def health(self) -> dict[str, object]:
        try:
            with urllib.request.urlopen(f"{self.http_url}/healthz", timeout=2) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            return dict(json.loads(exc.read()))

    def wait_healthy(self, timeout: float) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        last: dict[str, object] = {}
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StackError(f"chatd exited with code {self.process.returncode}; see {self.log_file}")
            try:
                last = self.health()
                if last.get("status") == "ok":
                    return last
            except OSError:
                pass
            time.sleep(0.1)
        raise StackError(f"chatd not healthy after {timeout}s: {last}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def chatd_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chatd", *args]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A chatd CLI command, run from the repository with this Python, its output captured."""
    return subprocess.run(
        chatd_command(*args), capture_output=True, text=True, timeout=60, check=False, cwd=REPO, env=child_env()
    )


def spawn(command: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """A process of the stack: in its own session, output appended to log_file."""
    log = open(log_file, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env=child_env(),
        start_new_session=True,
    )


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def build(
    run_dir: Path,
    host: str = "localhost",
    c2s_port: int = 0,
    component_port: int = 0,
    room_settings: dict[str, dict[str, object]] | None = None,
    server: str = "prosody",
    **chatd_options: object,
) -> tuple[Prosody | Ejabberd, Chatd]:
    """A server and a chatd wired to each other (not started); room_settings: room id -> extra keys.

    server: "prosody" (the default) or "ejabberd".
    """
    if server not in SERVERS:
        raise StackError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    realms = default_realms(host)
    for realm in realms:
        realm.rooms = [{**room, **(room_settings or {}).get(str(room["id"]), {})} for room in realm.rooms]
    kind = Ejabberd if server == "ejabberd" else Prosody
    prosody = kind(run_dir / server, members_host=host, c2s_port=c2s_port, component_port=component_port)
    chatd = Chatd(run_dir / "chatd", prosody, realms, watch_domain=f"watch.{host}", **chatd_options)  # type: ignore[arg-type]
    if server == "ejabberd":  # one secret for all component streams (chatd/stack/ejabberd.py says why)
        for realm in realms:
            realm.people_secret = realm.rooms_secret = chatd.watch_secret
        chatd.upload_secret = chatd.watch_secret
    prosody.components = chatd.components()
    prosody.realm_domains = tuple(realm.people_domain for realm in realms)
    if isinstance(prosody, Ejabberd):
        prosody.rooms_domains = tuple(realm.rooms_domain for realm in realms)
    prosody.write_config()
    chatd.write_config()
    return prosody, chatd
