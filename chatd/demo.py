"""`chatd stack up|down|status`: the Quick start stack with demo accounts."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
from pathlib import Path

from chatd.core.model import Role
from chatd.stack import Chatd, Ejabberd, Prosody, build, group_alive, port_is_free
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


def _pick(port: int) -> int:
    return port if port_is_free(port) else 0


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


def up(run_dir: Path, server: str = "prosody") -> None:
    run_dir = run_dir.resolve()
    described = _described(run_dir)
    if described and all(_alive(int(pid)) for pid in described["pids"].values()):  # type: ignore[union-attr]
        print(f"The stack is already running (see {run_dir / 'stack.json'}).")
        return
    if run_dir.exists():
        for sub in ("prosody", "ejabberd", "chatd"):
            for path in sorted((run_dir / sub).glob("**/*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
    prosody, chatd = build(
        run_dir, c2s_port=_pick(5222), component_port=_pick(5347), http_port=_pick(8765), server=server
    )
    prosody.start()
    accounts = []
    for user, realm, pseudonym, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        jid = prosody.register(user, password)
        accounts.append({"jid": jid, "password": password, "realm": realm, "pseudonym": pseudonym, "role": role.value})
    asyncio.run(_add_members(chatd, accounts))
    chatd.start()
    assert prosody.process is not None and chatd.process is not None
    description = {
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
        "pids": {server: prosody.process.pid, "chatd": chatd.process.pid},
        "logs": {server: str(_server_log(prosody)), "chatd": str(chatd.log_file)},
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
    print("  Everything is described in .run/stack.json. Stop with: ./stack down")


def down(run_dir: Path) -> None:
    described = _described(run_dir.resolve())
    if not described:
        print("No stack is described in", run_dir / "stack.json")
        return
    for name, pid in reversed(described["pids"].items()):  # type: ignore[union-attr]  # chatd first, then the server
        if _alive(int(pid)):
            # each was started in its own session: the group holds what it started
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


__all__ = ["DEMO_ACCOUNTS", "Prosody", "down", "status", "up"]
