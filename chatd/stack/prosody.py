"""A Prosody process of the stack's own (rendered config, data and log in its run folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from chatd.deploy.profile import ServerProfile, lua_list, lua_string
from chatd.i18n import LANGUAGES, text
from chatd.stack.common import (
    FIREWALL_TEMPLATE,
    PROSODY_TEMPLATE,
    StackError,
    free_port,
    make_certificate,
    render,
    wait_for_port,
)


@dataclass
class Prosody:
    """A Prosody process of our own: its config, data and log live in run_dir."""

    run_dir: Path
    members_host: str = "localhost"
    components: dict[str, str] = field(default_factory=dict)  # domain -> secret
    realm_domains: tuple[str, ...] = ()  # chatd's people domains: they say which services a member sees
    c2s_port: int = 0
    component_port: int = 0
    extra_modules: tuple[str, ...] = ()
    push_app_servers: tuple[str, ...] = ()  # chatd's [push] app_servers (conf/prosody/mod_chatd_push.lua)
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
            f'Component "{domain}"\n  component_secret = "{secret}"\n  disco_hidden = true\n'
            for domain, secret in self.components.items()
        )
        values: dict[str, object] = {
            "run_dir": self.run_dir,
            "members_host": self.members_host,
            "c2s_port": self.c2s_port,
            "component_port": self.component_port,
            "extra_modules": "".join(f'"{m}"; ' for m in self.extra_modules),
            "realm_domains": "".join(f'"{d}"; ' for d in self.realm_domains),
            "disabled_modules": "".join(f'"{m}"; ' for m in self.disabled_modules),
            "c2s_rate": self.c2s_rate,
            "log_level": self.log_level,
            "c2s_stanza_size_limit": self.c2s_stanza_size_limit,
            "c2s_send_buffer_limit": self.c2s_send_buffer_limit,
            "component_stanza_size_limit": self.component_stanza_size_limit,
            "components": components + "\n" + self.extra_config,
            **self.push_values(),
            **self.server_profile.values(),
        }
        return render(PROSODY_TEMPLATE.read_text(), values)

    def push_values(self) -> dict[str, object]:
        """Push toward the listed app servers; server-to-server only where the profile reaches them so."""
        s2s = self.server_profile.push_over_s2s and bool(self.push_app_servers)
        return {
            "push_app_servers": lua_list(self.push_app_servers),
            "members_host_modules": lua_list(("s2s",) if s2s else ()),
            "push_marker": lua_string(" / ".join(text(language, "push.marker") for language in LANGUAGES)),
            "push_refused_text": lua_string(" / ".join(text(language, "push.refused") for language in LANGUAGES)),
        }

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

    def register(self, user: str, password: str, host: str = "") -> str:
        """An account on the members' host (or on another VirtualHost of this Prosody)."""
        host = host or self.members_host
        result = subprocess.run(
            ["prosodyctl", "--config", str(self.config_file), "register", user, host, password],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"prosodyctl register {user} failed: {result.stderr.strip() or result.stdout.strip()}")
        return f"{user}@{host}"
