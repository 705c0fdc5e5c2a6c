"""A production deployment on loopback: chatd's config, the production Prosody profile, a local CA.

Only what a test must change differs from what `chatd deploy render` writes: the interfaces
(loopback), the ports (free ones) and the folders (a temporary one instead of /var/lib, /etc, /run).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chatd.config import load_config
from chatd.deploy.profile import ServerProfile
from chatd.deploy.render import production_prosody
from chatd.stack import REPO, Prosody, free_port
from tests.support.tls import make_ca_and_certificate

DOMAIN = "chat.deploy.test"
PUSH_SERVER = "push.deploy.test"  # listed; nothing answers for it (no DNS on loopback)
STRANGER = "stranger.deploy.test"  # another server, not listed


def vault_key(path: Path, bits: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(pem)


def chatd_toml(root: Path, component_port: int, smtp_port: int) -> str:
    def secret() -> str:
        return secrets.token_hex(16)

    realms = "".join(
        f'[[realms]]\nid = "{lang}"\nlanguage = "{lang}"\npeople_domain = "{lang}.{DOMAIN}"\n'
        f'rooms_domain = "rooms.{lang}.{DOMAIN}"\npeople_secret = "{secret()}"\nrooms_secret = "{secret()}"\n'
        for lang in ("en", "fr")
    )
    return f"""[server]
host = "127.0.0.1"
component_port = {component_port}
members_host = "{DOMAIN}"
{realms}
[watch]
domain = "watch.{DOMAIN}"
secret = "{secret()}"
[store]
path = "{root / "chatd-data" / "chatd.sqlite3"}"
[http]
listen = "127.0.0.1:{free_port()}"
[resources]
file = "{REPO / "conf" / "resources.toml"}"
[moderation]
policies_file = "{REPO / "conf" / "policies.toml"}"
[registration]
public_url = "https://{DOMAIN}"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
sender = "no-reply@{DOMAIN}"
vault_public_key = "{root / "vault.pub.pem"}"
prosody_config = "{root / "prosody" / "prosody.cfg.lua"}"
[push]
app_servers = ["{PUSH_SERVER}"]
"""


@dataclass
class Deployment:
    root: Path
    config_file: Path
    ca_file: Path
    prosody: Prosody
    direct_tls_port: int
    logrotate_dir: Path

    def close(self) -> None:
        self.prosody.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def prepare(smtp_port: int) -> Deployment:
    """Renders the production profile into a fresh folder; Prosody is not started yet."""
    # Prosody runs as the prosody user (as under systemd): pytest's own temporary folders are root's only.
    root = Path(tempfile.mkdtemp(prefix="chatd-deploy-"))
    root.chmod(0o755)
    component_port, direct_tls_port = free_port(), free_port()
    config_file = root / "chatd.toml"
    config_file.write_text(chatd_toml(root, component_port, smtp_port))
    vault_key(root / "vault.pub.pem", 3072)
    (root / "chatd-data").mkdir()
    ca_file = root / "ca.pem"
    make_ca_and_certificate(DOMAIN, ca_file, root / "certs", servers=(PUSH_SERVER, STRANGER))
    profile = dataclasses.replace(
        ServerProfile.production(),
        interfaces=("127.0.0.1",),
        direct_tls_ports=(direct_tls_port,),
        s2s_ports=(free_port(),),
        certificates=root / "certs",
        data_dir=root / "prosody-data",
        pid_file=root / "prosody-run" / "prosody.pid",
        log_file=root / "prosody-log" / "prosody.log",
        modules_dir=root / "prosody-modules",  # copied as `chatd deploy render` does: the checkout may be root's only
    )
    profile.modules_dir.mkdir()
    for module in (REPO / "conf" / "prosody").glob("mod_*.lua"):
        shutil.copy(module, profile.modules_dir / module.name)
    prosody = production_prosody(load_config(config_file, environ={}), profile, run_dir=root / "prosody")
    prosody.c2s_port = free_port()
    # the local CA is trusted for the certificates of other servers (server-to-server tests)
    prosody.extra_config = f'VirtualHost "{DOMAIN}"\n  ssl = {{ cafile = "{ca_file}" }}\n'
    prosody.write_config()
    for folder in (root / "prosody-data", root / "prosody-run", root / "prosody-log", root / "certs"):
        folder.mkdir(exist_ok=True)
        give_to_prosody(folder)
    logrotate_dir = root / "logrotate.d"
    logrotate_dir.mkdir()
    (logrotate_dir / "prosody").write_text(f"{root}/prosody-log/*.log {{\n  weekly\n}}\n")
    return Deployment(root, config_file, ca_file, prosody, direct_tls_port, logrotate_dir)


def give_to_prosody(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    for path in (folder, *folder.rglob("*")):
        shutil.chown(path, "prosody", "prosody")
