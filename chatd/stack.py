"""Starts and stops a real stack on loopback: Prosody (rendered config) and chatd.

Used by `chatd stack up|down`, by the integration tests and by the benchmarks, so there
is one way to render Prosody's config and to run both processes.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from chatd.deploy.profile import ServerProfile

REPO = Path(__file__).resolve().parent.parent
PROSODY_TEMPLATE = REPO / "conf" / "prosody" / "prosody.cfg.lua.in"
FIREWALL_TEMPLATE = REPO / "conf" / "prosody" / "members-isolation.pfw"


class StackError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def render(template: str, values: dict[str, object]) -> str:
    """Fills ${name} placeholders; an unknown name is an error (other $ signs stay)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise StackError(f"template placeholder ${{{name}}} has no value")
        return str(values[name])

    return re.sub(r"\$\{([a-z0-9_]+)\}", fill, template)


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise StackError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def make_certificate(host: str, folder: Path) -> None:
    """A self-signed certificate so that Prosody offers STARTTLS on loopback."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    crt, key_file = folder / f"{host}.crt", folder / f"{host}.key"
    if crt.exists() and key_file.exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    crt.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


@dataclass
class Prosody:
    """A Prosody process of our own: its config, data and log live in run_dir."""

    run_dir: Path
    members_host: str = "localhost"
    components: dict[str, str] = field(default_factory=dict)  # domain -> secret
    c2s_port: int = 0
    component_port: int = 0
    extra_modules: tuple[str, ...] = ()
    disabled_modules: tuple[str, ...] = ()
    extra_config: str = ""  # Lua appended after the components (e.g. a MUC component)
    c2s_rate: str = "1mb/s"
    log_level: str = "info"
    c2s_stanza_size_limit: int = 262144
    c2s_send_buffer_limit: int = 1048576  # conf/prosody/mod_send_buffer_limit.lua
    component_stanza_size_limit: int = 262144
    profile: ServerProfile | None = None  # the lines that differ in production; None: the loopback test profile
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_file(self) -> Path:
        return self.run_dir / "prosody.cfg.lua"

    @property
    def server_profile(self) -> ServerProfile:
        return self.profile or ServerProfile.loopback(self.run_dir, PROSODY_TEMPLATE.parent)

    def write_config(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.server_profile.data_dir.mkdir(parents=True, exist_ok=True)
        self.c2s_port = self.c2s_port or free_port()
        self.component_port = self.component_port or free_port()
        if self.profile is None:
            make_certificate(self.members_host, self.run_dir / "certs")
        self.config_file.write_text(self.config_text())
        (self.run_dir / "members-isolation.pfw").write_text(self.firewall_rules())

    def firewall_rules(self) -> str:
        return render(FIREWALL_TEMPLATE.read_text(), {"members_host": self.members_host})

    def config_text(self) -> str:
        """Prosody's config: the one template, filled with this server's values and its profile's."""
        components = "\n".join(
            f'Component "{domain}"\n  component_secret = "{secret}"\n' for domain, secret in self.components.items()
        )
        values: dict[str, object] = {
            "run_dir": self.run_dir,
            "members_host": self.members_host,
            "c2s_port": self.c2s_port,
            "component_port": self.component_port,
            "extra_modules": "".join(f'"{m}"; ' for m in self.extra_modules),
            "disabled_modules": "".join(f'"{m}"; ' for m in self.disabled_modules),
            "c2s_rate": self.c2s_rate,
            "log_level": self.log_level,
            "c2s_stanza_size_limit": self.c2s_stanza_size_limit,
            "c2s_send_buffer_limit": self.c2s_send_buffer_limit,
            "component_stanza_size_limit": self.component_stanza_size_limit,
            "components": components + "\n" + self.extra_config,
            **self.server_profile.values(),
        }
        return render(PROSODY_TEMPLATE.read_text(), values)

    def start(self, timeout: float = 20.0) -> None:
        if shutil.which("prosody") is None:
            raise StackError("prosody is not installed (apt-get install prosody prosody-modules)")
        if not self.config_file.exists():
            self.write_config()
        log = open(self.run_dir / "prosody.out", "ab")  # noqa: SIM115 - the child keeps it
        # root runs Prosody as the prosody user (as systemd does) unless the profile allows root
        user = "prosody" if os.geteuid() == 0 and not self.server_profile.run_as_root else None
        self.process = subprocess.Popen(
            ["prosody", "--config", str(self.config_file), "-F"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
            group=user,
        )
        wait_for_port(self.c2s_port, timeout, self.process)
        wait_for_port(self.component_port, timeout, self.process)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def register(self, user: str, password: str) -> str:
        result = subprocess.run(
            ["prosodyctl", "--config", str(self.config_file), "register", user, self.members_host, password],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"prosodyctl register {user} failed: {result.stderr.strip() or result.stdout.strip()}")
        return f"{user}@{self.members_host}"


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
    """chatd as its own process, configured to talk to one Prosody."""

    run_dir: Path
    prosody: Prosody
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
    reannounce_seconds: float = 600.0  # unclaimed high-severity queue entries are posted again
    store_folder: Path | None = None  # where the store lives (e.g. a small disk); run_dir when None
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_file(self) -> Path:
        return self.run_dir / "chatd.toml"

    @property
    def store_path(self) -> Path:
        return (self.store_folder or self.run_dir) / "chatd.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "chatd.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def components(self) -> dict[str, str]:
        found = {self.watch_domain: self.watch_secret}
        for realm in self.realms:
            found[realm.people_domain] = realm.people_secret
            found[realm.rooms_domain] = realm.rooms_secret
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
            f"path = {json.dumps(str(self.store_path))}",
            "[http]",
            f'listen = "127.0.0.1:{self.http_port}"',
            "[bus]",
            f"nats_url = {json.dumps(self.nats_url)}",
            f"action_tokens = {{ {tokens} }}",
            "[resources]",
            f"file = {json.dumps(str(REPO / 'conf' / 'resources.toml'))}",
            "[moderation]",
            f"policy = {json.dumps(self.policy)}",
            f"policies_file = {json.dumps(self.policies_file)}",
            f"external_subject = {json.dumps(self.external_subject)}",
            "[limits]",
            *(f"{k} = {json.dumps(v)}" for k, v in self.limits.items()),
        ]
        if self.registration:
            settings = {"prosody_config": str(self.prosody.config_file), **self.registration}
            lines += ["[registration]", *(f"{k} = {json.dumps(v)}" for k, v in settings.items())]
        self.config_file.write_text("\n".join(lines) + "\n")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "chatd", *args]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a chatd CLI command against this instance's config."""
        return subprocess.run(
            self.command(*args, "--config", str(self.config_file)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=REPO,
            env=child_env(),
        )

    def start(self, timeout: float = 90.0) -> None:  # building the policy engine takes seconds on a busy machine
        if not self.config_file.exists():
            self.write_config()
        log = open(self.log_file, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            self.command("run", "--config", str(self.config_file)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env=child_env(),
            start_new_session=True,
        )
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
    **chatd_options: object,
) -> tuple[Prosody, Chatd]:
    """A Prosody and a chatd wired to each other (not started); room_settings: room id -> extra keys."""
    realms = default_realms(host)
    for realm in realms:
        realm.rooms = [{**room, **(room_settings or {}).get(str(room["id"]), {})} for room in realm.rooms]
    prosody = Prosody(run_dir / "prosody", members_host=host, c2s_port=c2s_port, component_port=component_port)
    chatd = Chatd(run_dir / "chatd", prosody, realms, watch_domain=f"watch.{host}", **chatd_options)  # type: ignore[arg-type]
    prosody.components = chatd.components()
    prosody.write_config()
    chatd.write_config()
    return prosody, chatd
