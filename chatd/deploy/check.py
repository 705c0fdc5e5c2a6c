"""`chatd check`: is this deployment ready for members? One plain line per problem or warning.

Problems make the command exit 1; warnings are things an operator should know (it exits 0 with
warnings only).
"""

from __future__ import annotations

import ipaddress
import smtplib
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from chatd.config import Config, ConfigError, load_config
from chatd.deploy.findings import REPO, Findings, outside_checkout
from chatd.deploy.prosody_check import check_prosody
from chatd.store.db import is_postgres
from chatd.vault.seal import VaultError, load_public_key

EXAMPLE_CONFIG = REPO / "conf" / "chatd.example.toml"
MIN_SECRET_CHARS = 16
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "afs", "lustre", "davfs"}
SMTP_TIMEOUT = 5.0


def example_secrets() -> set[str]:
    """The secrets written in conf/chatd.example.toml: a deployment must not keep them."""
    try:
        data = tomllib.loads(EXAMPLE_CONFIG.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return set()
    found = {str(data.get("watch", {}).get("secret", ""))}
    for realm in data.get("realms", []):
        found |= {str(realm.get("people_secret", "")), str(realm.get("rooms_secret", ""))}
    return found - {""}


def check_secrets(config: Config, findings: Findings) -> None:
    secrets = {"watch.secret": config.watch.secret}
    for n, realm in enumerate(config.realms):
        secrets[f"realms.{n}.people_secret"] = realm.people_secret
        secrets[f"realms.{n}.rooms_secret"] = realm.rooms_secret
    secrets |= {f"bus.action_tokens.{name}": token for name, token in config.bus.action_tokens.items()}
    if config.uploads is not None:
        secrets["uploads.secret"] = config.uploads.secret
    examples = example_secrets()
    for key, value in secrets.items():
        if value in examples or value.lower().startswith("change-me"):
            findings.problem(f"secrets: {key} is still the example value (make one with `openssl rand -hex 24`)")
        elif len(value) < MIN_SECRET_CHARS:
            findings.problem(f"secrets: {key} is shorter than {MIN_SECRET_CHARS} characters")
    if len(set(secrets.values())) < len(secrets):
        findings.warning("secrets: the same secret is used twice; give each component its own")


def filesystem_of(path: Path, mounts: str) -> tuple[str, str]:
    """(mount point, file system type) that holds path, from /proc/mounts' text."""
    best = ("/", "")
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        if path.is_relative_to(point) and len(point) >= len(best[0]):
            best = (point, parts[2])
    return best


def check_store(config: Config, findings: Findings, mounts: str) -> None:
    if is_postgres(config.store.path):
        return  # a database server: nothing of it on this machine's disks
    path = Path(config.store.path)
    if not path.is_absolute():
        findings.problem(f"store: {path} is a relative path: give an absolute one (e.g. /var/lib/chatd/chatd.sqlite3)")
        return
    outside_checkout(findings, "store:", path)
    point, kind = filesystem_of(path, mounts)
    if kind.split(".")[-1] in NETWORK_FILESYSTEMS or kind == "fuse.sshfs":
        findings.problem(f"store: {path} is on a network file system ({kind} at {point}): SQLite needs a local disk")
    if not path.parent.is_dir():
        findings.warning(
            f"store: the folder {path.parent} does not exist yet (systemd makes /var/lib/chatd at chatd's first start)"
        )


def check_files(config: Config, findings: Findings) -> None:
    named = {"moderation.policies_file": config.moderation.policies_file, "resources.file": config.resources.file}
    for key, value in named.items():
        if value and not Path(value).is_absolute():
            findings.problem(f"{key}: {value} is a relative path: chatd starts in /var/lib/chatd; give an absolute one")
        elif value and not Path(value).is_file():
            findings.problem(f"{key}: {value} not found")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_network(config: Config, findings: Findings) -> None:
    if config.server.members_host == "localhost" or config.server.members_host.endswith(".localhost"):
        findings.problem(f"server.members_host is {config.server.members_host}: set the domain members log in to")
    if not is_loopback(config.server.host):
        findings.warning(
            f"server.host is {config.server.host}: keep chatd beside Prosody and its component port on loopback"
        )
    if not is_loopback(config.http.host):
        findings.warning(
            f"http: chatd listens on {config.http.listen}: /metrics and /healthz are public; "
            "listen on 127.0.0.1 behind a reverse proxy that serves /register"
        )
    if config.bus.nats_url:
        url = urlsplit(config.bus.nats_url)
        if url.scheme == "nats" and not is_loopback(url.hostname or ""):
            findings.warning(f"bus: events go to {url.hostname} unencrypted (use tls:// or a NATS on this machine)")


def check_registration(config: Config, findings: Findings) -> None:
    registration = config.registration
    if registration is None:
        findings.warning("registration: not configured (people cannot sign up; add members with `chatd member add`)")
        return
    try:
        load_public_key(registration.vault_public_key)
    except VaultError as exc:
        findings.problem(f"registration: {exc}")
    if "DEMO-ONLY" in Path(registration.vault_public_key).name:
        findings.problem(
            f"registration: {registration.vault_public_key} is the demo stack's vault key (its private key lies "
            "beside it): make the Senior Clinical team's key with `chatd vault keygen`"
        )
    if not registration.public_url.startswith("https://"):
        findings.problem(
            f"registration: public_url {registration.public_url} is not https: passwords would cross in clear"
        )
    if registration.sender.endswith("example.org"):
        findings.problem(f"registration: sender {registration.sender} is the example address")
    if not registration.smtp_host:
        findings.problem("registration: no SMTP server set (smtp_host): activation mails cannot be sent")
        return
    try:
        with smtplib.SMTP(registration.smtp_host, registration.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if registration.smtp_starttls and not smtp.has_extn("starttls"):
                findings.problem(f"registration: the mail server {registration.smtp_host} does not offer STARTTLS")
    except (OSError, smtplib.SMTPException) as exc:
        where = f"{registration.smtp_host}:{registration.smtp_port}"
        findings.problem(f"registration: no mail server answers at {where} ({exc}): activation mails cannot be sent")


def check_uploads(config: Config, findings: Findings) -> None:
    """Members' phones fetch shared files from uploads.public_url: over TLS only (docs/uploads.md)."""
    uploads = config.uploads
    if uploads is not None and urlsplit(uploads.public_url).scheme != "https":
        findings.problem(
            f"uploads: public_url {uploads.public_url} is not https: put chatd's /upload/ behind a TLS reverse proxy"
        )


def check_push(config: Config, findings: Findings) -> None:
    if not config.push.app_servers:
        findings.warning("push: no app servers listed (members on iPhones will not be notified)")


def check(
    config_path: Path, prosody_config: Path | None = None, logrotate_dir: Path = Path("/etc/logrotate.d")
) -> Findings:
    findings = Findings()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        findings.problem(f"chatd config: {exc}")
        return findings
    check_secrets(config, findings)
    check_network(config, findings)
    try:
        mounts = Path("/proc/mounts").read_text()
    except OSError:
        mounts = ""
    check_store(config, findings, mounts)
    check_files(config, findings)
    check_registration(config, findings)
    check_push(config, findings)
    check_uploads(config, findings)
    if prosody_config is None:
        prosody_config = Path(
            config.registration.prosody_config if config.registration else "/etc/prosody/prosody.cfg.lua"
        )
    check_prosody(config, prosody_config, findings, logrotate_dir)
    return findings


def run(config_path: Path, prosody_config: Path | None, logrotate_dir: Path) -> int:
    findings = check(config_path, prosody_config, logrotate_dir)
    for line in findings.lines():
        print(line)
    summary = f"{len(findings.problems)} problem(s), {len(findings.warnings)} warning(s)"
    print(f"chatd check: {'not ready' if findings.problems else 'ready'}: {summary}")
    return 1 if findings.problems else 0
