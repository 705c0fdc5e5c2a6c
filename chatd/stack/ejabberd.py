"""An ejabberd process of the stack's own: the second supported server (docs/ejabberd.md).

Config, spool (Mnesia), logs and chatd's isolation module live in run_dir. Each instance has
its own Erlang node name, cookie and distribution port (no epmd), so two never clash and
`ejabberdctl` (given the same flags) reaches this one only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from chatd.stack.common import REPO, StackError, free_port, group_alive, make_certificate, render, wait_for_port

EJABBERD_DIR = REPO / "conf" / "ejabberd"
EJABBERD_TEMPLATE = EJABBERD_DIR / "ejabberd.yml.in"
ISOLATION_MODULE = EJABBERD_DIR / "mod_chatd_isolation.erl"
ISOLATION_TEXT = "Direct contact between members is disabled / Le contact direct entre membres est désactivé"
ERLANG_LIBS = "/usr/lib/x86_64-linux-gnu"  # where Debian's ejabberd keeps its Erlang applications


@dataclass
class Ejabberd:
    """Same interface as Prosody for the stack: run_dir, ports, components, start/stop, register."""

    run_dir: Path
    members_host: str = "localhost"
    components: dict[str, str] = field(default_factory=dict)  # domain -> secret
    realm_domains: tuple[str, ...] = ()
    rooms_domains: tuple[str, ...] = ()  # listed in the server's disco#items (mod_disco extra_domains)
    c2s_port: int = 0
    component_port: int = 0
    push_app_servers: tuple[str, ...] = ()  # not offered on ejabberd yet (docs/ejabberd.md)
    log_level: str = "warning"  # info names each account that logs in, debug prints stanzas; no filter as on Prosody
    c2s_rate: int = 1_000_000  # bytes per second per client connection (shaper)
    c2s_stanza_size_limit: int = 262144
    component_stanza_size_limit: int = 262144
    multicast_limit: int = 100  # addresses per XEP-0033 stanza from chatd's domains (mod_multicast)
    multicast_senders: tuple[str, ...] | None = None  # who may use mod_multicast; None: chatd's component domains
    extra_modules: str = ""  # YAML appended to `modules:` (the room benchmark's mod_muc), two spaces in
    # domain -> connection slots: the domain's stanzas go to slot hash(bare `to`) mod N (docs/scale-out.md)
    domain_balancing: dict[str, int] = field(default_factory=dict)
    node: str = field(default_factory=lambda: f"chatd-{secrets.token_hex(4)}@localhost")
    cookie: str = field(default_factory=lambda: secrets.token_hex(16))
    dist_port: int = 0  # Erlang distribution, loopback only; ejabberdctl talks to the node over it
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_file(self) -> Path:
        return self.run_dir / "ejabberd.yml"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "logs" / "ejabberd.log"

    def write_config(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "spool").mkdir(exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.c2s_port = self.c2s_port or free_port()
        self.component_port = self.component_port or free_port()
        self.dist_port = self.dist_port or free_port()
        make_certificate(self.members_host, self.run_dir / "certs")
        self.config_file.write_text(self.config_text())
        (self.run_dir / "inetrc").write_text('{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n')
        # ejabberdctl sources this file (shell): node, cookie, distribution port, module path
        ebin = self.run_dir / "ebin"
        lines = {
            "ERLANG_NODE": self.node,
            "ERL_OPTIONS": f"-setcookie {self.cookie} -pa {ebin}",
            "ERL_DIST_PORT": str(self.dist_port),
            "INET_DIST_INTERFACE": "127.0.0.1",
            "EJABBERD_PID_PATH": str(self.run_dir / "ejabberd.pid"),
        }
        text = "".join(f'{name}="{value}"\n' for name, value in lines.items())
        # ejabberd looks for its translations next to its own application, which Debian's layout does not match
        for msgs in sorted(Path(ERLANG_LIBS).glob("ejabberd-*/priv/msgs"))[-1:]:
            text += f'export EJABBERD_MSGS_PATH="{msgs}"\n'
        if os.geteuid() == 0:  # the loopback stack runs as root, as its Prosody does (run_as_root)
            text += "EXEC_CMD=as_current_user\n"
        (self.run_dir / "ejabberdctl.cfg").write_text(text)
        (self.run_dir / "ejabberdctl.cfg").chmod(0o600)

    def config_text(self) -> str:
        # One password for the component listener, not a `hosts` map: with a map, every
        # connection that authenticates registers routes for ALL the map's domains, and
        # ejabberd then balances each domain's stanzas over all of chatd's streams (seen
        # here: a message to en.HOST arrived on rooms.fr.HOST's stream). With one password,
        # a connection routes only the domain it opened its stream for, and may send only from it.
        secrets_used = set(self.components.values())
        if len(secrets_used) > 1:
            raise StackError("ejabberd: all of chatd's component streams must share one secret")
        certs = self.run_dir / "certs"
        values: dict[str, object] = {
            "members_host": self.members_host,
            "log_level": self.log_level,
            "certificate": certs / f"{self.members_host}.crt",
            "certificate_key": certs / f"{self.members_host}.key",
            "c2s_port": self.c2s_port,
            "component_port": self.component_port,
            "c2s_require_encryption": "false",  # loopback profile
            "c2s_stanza_size_limit": self.c2s_stanza_size_limit,
            "component_stanza_size_limit": self.component_stanza_size_limit,
            "component_secret": json.dumps(next(iter(secrets_used), secrets.token_hex(12))),
            "c2s_rate": self.c2s_rate,
            "rooms_domains": ", ".join(json.dumps(d) for d in self.rooms_domains),
            "isolation_text": json.dumps(ISOLATION_TEXT, ensure_ascii=False),
            "component_domains": ", ".join(
                json.dumps(d)
                for d in sorted(self.components if self.multicast_senders is None else self.multicast_senders)
            ),
            "multicast_limit": self.multicast_limit,
            "extra_modules": self.extra_modules,
            "domain_balancing": self.balancing_text(),
        }
        return render(EJABBERD_TEMPLATE.read_text(), values)

    def balancing_text(self) -> str:
        """ejabberd's `domain_balancing`: bare destination, a fixed number of slots (both are needed)."""
        if not self.domain_balancing:
            return ""
        domains = "".join(
            f"  {json.dumps(domain)}:\n    type: bare_destination\n    component_number: {slots}\n"
            for domain, slots in sorted(self.domain_balancing.items())
        )
        return "domain_balancing:\n" + domains

    def ctl(self, *args: str) -> list[str]:
        """ejabberdctl for this instance (its config dir, spool, logs and node)."""
        return [
            "ejabberdctl",
            "--config-dir", str(self.run_dir),
            "--ctl-config", str(self.run_dir / "ejabberdctl.cfg"),
            "--spool", str(self.run_dir / "spool"),
            "--logs", str(self.run_dir / "logs"),
            *args,
        ]  # fmt: skip

    def compile_modules(self) -> None:
        ebin = self.run_dir / "ebin"
        ebin.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["erlc", "-o", str(ebin), str(ISOLATION_MODULE)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "ERL_LIBS": ERLANG_LIBS},
        )
        if result.returncode != 0:
            raise StackError(f"erlc {ISOLATION_MODULE.name} failed: {result.stdout.strip()} {result.stderr.strip()}")

    def start(self, timeout: float = 60.0) -> None:
        if shutil.which("ejabberdctl") is None or shutil.which("erlc") is None:
            raise StackError("ejabberd is not installed (apt-get install ejabberd)")
        if not self.config_file.exists():
            self.write_config()
        self.compile_modules()
        log = open(self.run_dir / "ejabberd.out", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            self.ctl("foreground"),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # ejabberdctl runs erl as its child: stop() ends the whole group
        )
        wait_for_port(self.c2s_port, timeout, self.process)
        wait_for_port(self.component_port, timeout, self.process)
        self._ctl_ok("status", timeout=timeout)

    def reload_config(self) -> None:
        """The config rendered again and applied to the running server (`ejabberdctl reload_config`)."""
        self.config_file.write_text(self.config_text())
        self._ctl_ok("reload_config")

    def _ctl_ok(self, *args: str, timeout: float = 30.0) -> str:
        result = subprocess.run(self.ctl(*args), capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise StackError(f"ejabberdctl {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def stop(self) -> None:
        if self.process is None:
            return
        group = self.process.pid  # ejabberdctl's shell and the Erlang VM it started
        if group_alive(group):
            os.killpg(group, signal.SIGTERM)  # the VM stops cleanly on SIGTERM
            deadline = time.monotonic() + 20
            while group_alive(group) and time.monotonic() < deadline:
                self.process.poll()  # reaps the shell
                time.sleep(0.1)
            if group_alive(group):
                os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def register(self, user: str, password: str, host: str = "") -> str:
        """An account on the members' host, with `ejabberdctl register`."""
        host = host or self.members_host
        self._ctl_ok("register", user, host, password)
        return f"{user}@{host}"
