"""The lines of Prosody's config that differ between the loopback test stack and a real deployment.

There is one template (conf/prosody/prosody.cfg.lua.in) and one way to render it (chatd.stack.Prosody);
a profile gives the values of the lines that differ: loopback() for tests, benchmarks and `chatd stack`,
production() for `chatd deploy render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Where a Debian server keeps things (the Debian prosody package's own paths).
PROSODY_CONFIG_DIR = Path("/etc/prosody")
PROSODY_MODULES_DIR = Path("/usr/local/lib/chatd/prosody-modules")  # chatd's Lua modules, copied there
C2S_PORT = 5222  # STARTTLS
C2S_DIRECT_TLS_PORT = 5223  # XEP-0368
S2S_PORT = 5269  # push app servers answer over it (server-to-server toward them only)
COMPONENT_PORT = 5347  # loopback only, always
C2S_RATE = "10kb/s"  # per client connection, with mod_limits


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_list(items: tuple[object, ...]) -> str:
    return "; ".join(lua_string(item) if isinstance(item, str) else str(item) for item in items)


@dataclass(frozen=True)
class ServerProfile:
    run_as_root: bool
    interfaces: tuple[str, ...]
    direct_tls_ports: tuple[int, ...]
    encryption_required: bool  # also: no PLAIN authentication over an unencrypted link
    certificates: Path  # a folder: HOST.crt and HOST.key (`prosodyctl cert import` writes them so)
    data_dir: Path
    pid_file: Path
    log_file: Path
    modules_dir: Path  # chatd's own Prosody modules (conf/prosody/mod_*.lua)
    # Push app servers are other servers on the Internet (server-to-server, toward them only);
    # in the loopback profile they are local components (a test's fake app server), so no s2s.
    push_over_s2s: bool
    s2s_ports: tuple[int, ...]

    @classmethod
    def loopback(cls, run_dir: Path, modules_dir: Path) -> ServerProfile:
        return cls(
            run_as_root=True,
            interfaces=("127.0.0.1",),
            direct_tls_ports=(),
            encryption_required=False,
            certificates=run_dir / "certs",
            data_dir=run_dir / "data",
            pid_file=run_dir / "prosody.pid",
            log_file=run_dir / "prosody.log",
            modules_dir=modules_dir,
            push_over_s2s=False,
            s2s_ports=(),
        )

    @classmethod
    def production(cls) -> ServerProfile:
        return cls(
            run_as_root=False,
            interfaces=("*", "::"),
            direct_tls_ports=(C2S_DIRECT_TLS_PORT,),
            encryption_required=True,
            certificates=PROSODY_CONFIG_DIR / "certs",  # certbot's deploy hook imports into it
            data_dir=Path("/var/lib/prosody"),
            pid_file=Path("/run/prosody/prosody.pid"),
            log_file=Path("/var/log/prosody/prosody.log"),  # rotated by Debian's /etc/logrotate.d/prosody
            modules_dir=PROSODY_MODULES_DIR,
            push_over_s2s=True,
            s2s_ports=(S2S_PORT,),
        )

    def values(self) -> dict[str, object]:
        """The template's placeholders for these lines."""
        return {
            "run_as_root": str(self.run_as_root).lower(),
            "interfaces": lua_list(self.interfaces),
            "c2s_direct_tls_ports": lua_list(self.direct_tls_ports),
            "s2s_ports": lua_list(self.s2s_ports),
            "c2s_require_encryption": str(self.encryption_required).lower(),
            "allow_unencrypted_plain_auth": str(not self.encryption_required).lower(),
            "certificates": self.certificates,
            "data_dir": self.data_dir,
            "pid_file": self.pid_file,
            "log_file": self.log_file,
            "modules_dir": self.modules_dir,
        }
