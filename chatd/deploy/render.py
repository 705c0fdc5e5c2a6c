"""`chatd deploy render`: the files an operator installs on a Debian server, from chatd's config.

The output folder mirrors the server's file system (DIR/etc/prosody/prosody.cfg.lua is
/etc/prosody/prosody.cfg.lua), so that `cp -r DIR/. /` installs it; docs/deploy.md walks through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from chatd.config import Config
from chatd.deploy.profile import C2S_PORT, C2S_RATE, PROSODY_CONFIG_DIR, ServerProfile
from chatd.stack import PROSODY_TEMPLATE, REPO, Prosody, StackError, render

SYSTEMD = REPO / "conf" / "systemd"
CERTBOT_HOOK = REPO / "conf" / "certbot" / "prosody-deploy-hook.sh"


def components(config: Config) -> dict[str, str]:
    """Every domain chatd serves, with the secret of its component stream."""
    found = {config.watch.domain: config.watch.secret}
    for realm in config.realms:
        found[realm.people_domain] = realm.people_secret
        found[realm.rooms_domain] = realm.rooms_secret
    if config.uploads is not None:
        found[config.uploads.domain] = config.uploads.secret
    return found


def production_prosody(
    config: Config, profile: ServerProfile | None = None, run_dir: Path = PROSODY_CONFIG_DIR
) -> Prosody:
    """Prosody for a real domain: the production profile, rate limits on, chatd's domains as components."""
    return Prosody(
        run_dir,
        members_host=config.server.members_host,
        components=components(config),
        realm_domains=tuple(realm.people_domain for realm in config.realms),
        c2s_port=C2S_PORT,
        component_port=config.server.component_port,
        extra_modules=("limits",),
        push_app_servers=tuple(config.push.app_servers),
        c2s_rate=C2S_RATE,
        profile=profile or ServerProfile.production(),
    )


@dataclass(frozen=True)
class Rendered:
    path: Path  # where it goes on the server
    text: str
    mode: int = 0o644


def deployment_files(config: Config, chatd_command: str, chatd_config: str) -> list[Rendered]:
    prosody = production_prosody(config)
    profile = prosody.server_profile
    files = [
        Rendered(prosody.config_file, prosody.config_text(), 0o640),  # holds the component secrets
        Rendered(prosody.run_dir / "members-isolation.pfw", prosody.firewall_rules()),
        *(
            Rendered(profile.modules_dir / module.name, module.read_text())
            for module in sorted(PROSODY_TEMPLATE.parent.glob("mod_*.lua"))
        ),
        Rendered(Path("/etc/letsencrypt/renewal-hooks/deploy/prosody"), CERTBOT_HOOK.read_text(), 0o755),
        Rendered(
            Path("/etc/systemd/system/prosody.service.d/chatd.conf"),
            (SYSTEMD / "prosody.service.d" / "chatd.conf").read_text(),
        ),
    ]
    after = "prosody.service"
    if config.bus.nats_url:
        after += " nats-server.service"
        port = urlsplit(config.bus.nats_url).port or 4222
        files += [
            Rendered(
                Path("/etc/nats-server.conf"),
                render((SYSTEMD / "nats-server.conf.in").read_text(), {"nats_port": port}),
            ),
            Rendered(
                Path("/etc/systemd/system/nats-server.service.d/chatd.conf"),
                (SYSTEMD / "nats-server.service.d" / "chatd.conf").read_text(),
            ),
        ]
    unit = render(
        (SYSTEMD / "chatd.service.in").read_text(),
        {
            "after": after,
            "chatd_command": chatd_command,
            "chatd_config": chatd_config,
            "prosody_data_dir": profile.data_dir,
        },
    )
    files.append(Rendered(Path("/etc/systemd/system/chatd.service"), unit))
    return files


def write(files: list[Rendered], out: Path) -> list[Path]:
    written = []
    for item in files:
        target = out / item.path.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text)
        target.chmod(item.mode)
        written.append(target)
    return written


def render_command(config: Config, domain: str | None, out: Path, chatd_command: str, chatd_config: str) -> None:
    if domain and domain != config.server.members_host:
        raise StackError(
            f"the config's server.members_host is {config.server.members_host}, not {domain}: "
            "set it to the domain members log in to"
        )
    if not (chatd_command.startswith("/") and chatd_config.startswith("/")):
        raise StackError("--chatd-command and --chatd-config must be absolute paths (systemd needs them so)")
    if out.exists() and any(out.iterdir()):
        raise StackError(f"{out} is not empty: render into a new folder")
    for path in write(deployment_files(config, chatd_command, chatd_config), out):
        print(path)
    print(f"\nNext: install them (cp -r {out}/. /), then `chatd check --config {chatd_config}` (docs/deploy.md).")
