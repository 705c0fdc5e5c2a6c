"""`chatd stack up|down|status`: the Quick start stack with demo accounts and sign-up pages.

Sign-up in the demo: the registration pages on chatd's HTTP port, activation mail kept as files by a
local mail sink (chatd/stack/mailsink.py; `status` prints the links) and a demo vault key pair made
under the run folder, named as such, unless a real public key is configured
(CHATD_REGISTRATION__VAULT_PUBLIC_KEY, which chatd reads anyway).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from chatd.core.model import Role
from chatd.stack import Chatd, Ejabberd, Prosody, build, free_port, group_alive, port_is_free, spawn, wait_for_port
from chatd.stack.mailsink import activation_links
from chatd.store import Store

# (user, realm, pseudonym, role)
DEMO_ACCOUNTS = [
    ("alex", "en", "calm-otter", Role.MEMBER),
    ("sam", "en", "brave-heron", Role.MEMBER),
    ("camille", "fr", "doux-castor", Role.MEMBER),
    ("dominique", "fr", "brave-huard", Role.MEMBER),
    ("guide-en", "en", "amber-guide", Role.WALL_GUIDE),
    ("guide-fr", "fr", "ambre-guide", Role.WALL_GUIDE),
    ("senior", "en", "cedar-senior", Role.SENIOR_CLINICIAN),
    ("bot", "en", "helper-bot", Role.BOT),
]


VAULT_KEY_ENV = "CHATD_REGISTRATION__VAULT_PUBLIC_KEY"
DEMO_KEY_WARNING = (
    "DEMO VAULT KEY: registration data of this stack is sealed with a key pair made for the demo, private key "
    "and passphrase lying beside it in {folder}. Never use it for real people's data."
)


def _pick(port: int, fixed_ports: bool = True) -> int:
    return port if fixed_ports and port_is_free(port) else free_port()


def demo_vault_key(folder: Path) -> dict[str, str]:
    """The demo key pair (made once; its files say DEMO-ONLY), or the configured real public key."""
    configured = os.environ.get(VAULT_KEY_ENV, "")
    if configured:
        return {"public_key": configured, "demo": "no"}
    from chatd.vault.unseal import generate

    private, public = folder / "DEMO-ONLY-vault-private.pem", folder / "DEMO-ONLY-vault-public.pem"
    passphrase_file = folder / "DEMO-ONLY-vault-passphrase.txt"
    if not (private.exists() and public.exists() and passphrase_file.exists()):
        for path in (private, public, passphrase_file):
            path.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        passphrase = secrets.token_urlsafe(18)
        passphrase_file.touch(mode=0o600)
        passphrase_file.write_text(passphrase + "\n")
        generate(private, public, passphrase)
    return {
        "public_key": str(public),
        "private_key": str(private),
        "passphrase_file": str(passphrase_file),
        "demo": "yes",
    }


def start_mail_sink(folder: Path, port: int) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    command = [sys.executable, "-m", "chatd.stack.mailsink", "--port", str(port), "--folder", str(folder)]
    process = spawn(command, folder / "mailsink.out")
    wait_for_port(port, 20, process)
    return process


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _described(run_dir: Path) -> dict[str, object] | None:
    path = run_dir / "stack.json"
    return json.loads(path.read_text()) if path.exists() else None


async def _add_members(chatd: Chatd, accounts: list[dict[str, str]]) -> None:
    store = await Store.open(chatd.store_path)
    try:
        for account in accounts:
            await store.add_member(account["jid"], account["realm"], account["pseudonym"], Role(account["role"]))
    finally:
        await store.close()


def up(run_dir: Path, fixed_ports: bool = True, server: str = "prosody") -> None:
    """Starts the stack; fixed_ports: the usual ports where free (the tests take free ones only).

    server: "prosody" (the default) or "ejabberd" (docs/ejabberd.md; no sign-up pages there yet:
    chatd creates accounts with prosodyctl).
    """
    run_dir = run_dir.resolve()
    described = _described(run_dir)
    if described and all(_alive(int(pid)) for pid in described["pids"].values()):  # type: ignore[union-attr]
        print(f"The stack is already running (see {run_dir / 'stack.json'}).")
        return
    if run_dir.exists():
        for sub in ("prosody", "ejabberd", "chatd", "mail"):
            for path in sorted((run_dir / sub).glob("**/*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
    http_port, smtp_port = _pick(8765, fixed_ports), _pick(8025, fixed_ports)
    signup = server == "prosody"
    vault = demo_vault_key(run_dir / "vault") if signup else {}
    registration: dict[str, object] = {
        "public_url": f"http://127.0.0.1:{http_port}",
        "smtp_port": smtp_port,
        "sender": "no-reply@localhost",
        "vault_public_key": vault.get("public_key", ""),
    }
    prosody, chatd = build(
        run_dir,
        c2s_port=_pick(5222, fixed_ports),
        component_port=_pick(5347, fixed_ports),
        http_port=http_port,
        registration=registration if signup else {},
        server=server,
    )
    mail_sink = start_mail_sink(run_dir / "mail", smtp_port) if signup else None
    try:
        prosody.start()
        accounts = []
        for user, realm, pseudonym, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(9)
            jid = prosody.register(user, password)
            accounts.append(
                {"jid": jid, "password": password, "realm": realm, "pseudonym": pseudonym, "role": role.value}
            )
        asyncio.run(_add_members(chatd, accounts))
        chatd.start()
    except BaseException:  # nothing of a half-started stack keeps running
        chatd.stop()
        prosody.stop()
        if mail_sink is not None:
            mail_sink.terminate()
        raise
    assert prosody.process is not None and chatd.process is not None
    pids = {server: prosody.process.pid, "chatd": chatd.process.pid}
    if mail_sink is not None:
        pids["mail sink"] = mail_sink.pid
    description: dict[str, object] = {
        "server": server,
        "c2s": {"host": "127.0.0.1", "port": prosody.c2s_port, "tls": "starttls optional (self-signed)"},
        "members_host": prosody.members_host,
        "realms": {
            r.id: {
                "language": r.language,
                "people_domain": r.people_domain,
                "rooms_domain": r.rooms_domain,
                "wallguide": f"wallguide@{r.people_domain}",
            }
            for r in chatd.realms
        },
        "watch_domain": chatd.watch_domain,
        "http": chatd.http_url,
        "accounts": accounts,
        "pids": pids,
        "logs": {server: str(_server_log(prosody)), "chatd": str(chatd.log_file)},
        "chatd_config": str(chatd.config_file),
    }
    if mail_sink is not None:
        description["registration"] = {
            "signup": f"{chatd.http_url}/register",
            "mail_folder": str(run_dir / "mail"),
            "vault": vault,
        }
    path = run_dir / "stack.json"
    path.write_text(json.dumps(description, indent=2))
    path.chmod(0o600)
    _print_how_to_connect(description)


def _server_log(server: Prosody | Ejabberd) -> Path:
    return server.log_file if isinstance(server, Ejabberd) else server.run_dir / "prosody.log"


def _print_how_to_connect(d: dict[str, object]) -> None:
    c2s = d["c2s"]
    accounts = d["accounts"]
    realms = d["realms"]
    assert isinstance(c2s, dict) and isinstance(accounts, list) and isinstance(realms, dict)
    print(f"chatd stack is up (on {d.get('server', 'prosody')}).")
    print(f"  XMPP server: {c2s['host']} port {c2s['port']} (plain or STARTTLS with a self-signed certificate)")
    print(f"  Health:      {d['http']}/healthz")
    print("  Demo accounts (log in with any XMPP client):")
    for a in accounts:
        print(
            f"    {a['jid']:<24} password {a['password']:<14} realm {a['realm']}"
            f"  pseudonym {a['pseudonym']} ({a['role']})"
        )
    en = realms.get("en", {})
    print(
        "  Try: log in as alex@localhost and send a chat message to "
        f"brave-heron@{en.get('people_domain')}; log in as sam@localhost to read and reply."
    )
    print(f"  Commands: send !help to {en.get('wallguide')}; topics to resources@{en.get('people_domain')}")
    print(f"  Rooms: join general@{en.get('rooms_domain')} (any MUC client)")
    print(f"  Wall Guides: log in as guide-en@localhost and join en-queue@{d['watch_domain']} (send !help there)")
    if "registration" in d:
        _print_signup(d)
    print("  Everything is described in .run/stack.json. Stop with: ./stack down")


def _print_signup(d: dict[str, object]) -> None:
    registration = d["registration"]
    assert isinstance(registration, dict)
    vault = registration["vault"]
    print(f"  Sign up:     open {registration['signup']} in a browser; the activation mail is kept (not sent) in")
    print(f"               {registration['mail_folder']}: `./stack status` prints its link. Open it, choose a")
    print("               password, then log in with the account the last page shows (m-…@localhost).")
    if vault["demo"] == "yes":
        print("  WARNING " + DEMO_KEY_WARNING.format(folder=Path(vault["public_key"]).parent))
        print(
            f"               Open a record: chatd vault unseal --config {d['chatd_config']} --member NAME --reason "
            f"'...' --private-key {vault['private_key']} --passphrase-file {vault['passphrase_file']}"
        )
        print(
            "               Emergency (last login address, Senior Clinicians): chatd vault emergency with the same "
            "options and --clinician cedar-senior"
        )
    else:
        print(f"  Vault:       registration data is sealed with the configured key {vault['public_key']}")


def down(run_dir: Path) -> None:
    described = _described(run_dir.resolve())
    if not described:
        print("No stack is described in", run_dir / "stack.json")
        return
    for name, pid in reversed(described["pids"].items()):  # type: ignore[union-attr]  # chatd before the server
        if _alive(int(pid)):
            # each was started in its own session: its group holds what it started
            # (ejabberdctl runs the Erlang VM as its child)
            os.killpg(int(pid), signal.SIGTERM)
            deadline = time.monotonic() + 20
            while group_alive(int(pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            print(f"stopped {name} (pid {pid})")
    (run_dir / "stack.json").unlink()


def status(run_dir: Path) -> None:
    described = _described(run_dir.resolve())
    if not described:
        print("No stack is running.")
        return
    for name, pid in described["pids"].items():  # type: ignore[union-attr]
        print(f"{name}: pid {pid} {'running' if _alive(int(pid)) else 'not running'}")
    registration = described.get("registration")
    if isinstance(registration, dict):
        print(f"sign-up page: {registration['signup']}")
        links = activation_links(Path(registration["mail_folder"]))
        print(f"activation links in the mail sink ({len(links)}, newest last; each works once):")
        for link in links:
            print(f"  {link}")
        if registration["vault"]["demo"] == "yes":
            print("WARNING " + DEMO_KEY_WARNING.format(folder=Path(registration["vault"]["public_key"]).parent))


__all__ = ["DEMO_ACCOUNTS", "Prosody", "down", "status", "up"]
