"""What `chatd check` reads in Prosody's rendered config, its certificate and logrotate's rules."""

from __future__ import annotations

import datetime
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from chatd.config import Config
from chatd.deploy.findings import Findings, outside_checkout

EXPIRY_WARNING_DAYS = 14


@dataclass
class Section:
    """The settings of one part of a Prosody config: the global part, a VirtualHost or a Component."""

    settings: dict[str, str] = field(default_factory=dict)


def _without_comment(line: str) -> str:
    return re.sub(r"\s*--.*$", "", line)


def parse(text: str) -> dict[str, Section]:
    """Top-level `name = value` settings per section: "*" (global), "VirtualHost HOST", "Component DOMAIN"."""
    sections: dict[str, Section] = {"*": Section()}
    current = sections["*"]
    pending: tuple[str, list[str]] | None = None
    for raw in text.splitlines():
        line = _without_comment(raw)
        if pending is not None:
            pending[1].append(line)
            value = " ".join(pending[1])
            if value.count("{") <= value.count("}"):
                current.settings[pending[0]] = value.strip()
                pending = None
            continue
        header = re.match(r'^(VirtualHost|Component)\s+"([^"]+)"', line)
        if header:
            current = sections.setdefault(f"{header.group(1)} {header.group(2)}", Section())
            continue
        setting = re.match(r"^\s{0,2}([a-z_0-9]+)\s*=\s*(.*)$", line)
        if setting and not raw.startswith("   "):  # deeper lines belong to a function body
            name, value = setting.groups()
            if value.count("{") > value.count("}"):
                pending = (name, [value])
            else:
                current.settings[name] = value.strip()
    return sections


def strings(value: str) -> list[str]:
    return re.findall(r'"([^"]*)"', value)


def numbers(value: str) -> list[int]:
    return [int(n) for n in re.findall(r"\b\d+\b", value)]


def check_prosody(config: Config, path: Path, findings: Findings, logrotate_dir: Path) -> None:
    try:
        text = path.read_text()
    except OSError as exc:
        findings.problem(
            f"prosody: cannot read its config {path} ({exc.strerror}); render one with `chatd deploy render`"
        )
        return
    sections = parse(text)
    main = sections["*"].settings
    here = path.parent
    if main.get("c2s_require_encryption") != "true":
        findings.problem(f"prosody: encryption is not required (set c2s_require_encryption = true in {path})")
    if main.get("allow_unencrypted_plain_auth") == "true":
        findings.problem("prosody: passwords may be sent over unencrypted links (allow_unencrypted_plain_auth = true)")
    if main.get("run_as_root") == "true":
        findings.problem("prosody: run_as_root = true; Prosody must run as the prosody user")
    if not numbers(main.get("c2s_direct_tls_ports", "")):
        findings.warning(
            "prosody: no direct TLS port (c2s_direct_tls_ports): clients that try XEP-0368 first are slower"
        )
    if "limits" not in strings(main.get("modules_enabled", "")):
        findings.problem('prosody: rate limits are off (add "limits" to modules_enabled)')
    public = [i for i in strings(main.get("component_interfaces", "")) if i not in ("127.0.0.1", "::1")]
    if public:  # Prosody's default is loopback
        findings.problem("prosody: the component port is not limited to 127.0.0.1 (component_interfaces)")
    if config.server.component_port not in numbers(main.get("component_ports", "")):
        findings.problem(
            f"prosody: component_ports does not list chatd's server.component_port {config.server.component_port}"
        )
    interfaces = set(strings(main.get("c2s_interfaces", main.get("interfaces", ""))))
    if interfaces and interfaces <= {"127.0.0.1", "::1"}:
        findings.warning("prosody: clients can connect on this machine only (interfaces are loopback)")
    for name in ("data_path", "pidfile", "certificates"):
        for value in strings(main.get(name, "")):
            outside_checkout(findings, f"prosody: {name}", here / value)
    _check_log(text, main, logrotate_dir, findings)
    _check_modules(main, findings)
    _check_hosts(config, sections, findings, here)
    certificates = strings(main.get("certificates", "")) or ["certs"]
    check_certificate(config.server.members_host, here / certificates[0], findings)


def _check_log(text: str, main: dict[str, str], logrotate_dir: Path, findings: Findings) -> None:
    sinks = re.findall(r'\bto\s*=\s*"[^"]*"[^{}]*', main.get("log", ""))  # from `to =` to the sink's end
    if not sinks:
        findings.problem("prosody: no log sinks found (log = { ... })")
    if (
        any("filter = without_identities" not in sink for sink in sinks)
        or "local function without_identities" not in text
    ):
        findings.problem(
            "prosody: a log sink has no identity filter (filter = without_identities): logs could name members"
        )
    for sink in sinks:
        for log_file in re.findall(r'filename\s*=\s*"([^"]+)"', sink):
            if not rotated(log_file, logrotate_dir):
                findings.warning(f"prosody: nothing in {logrotate_dir} rotates its log {log_file}")


def rotated(log_file: str, logrotate_dir: Path) -> bool:
    rules = sorted(logrotate_dir.glob("*")) if logrotate_dir.is_dir() else []
    for rule in rules:
        for word in re.findall(r"[^\s{}]+", rule.read_text(errors="replace")):
            if word.startswith("/") and fnmatch.fnmatch(log_file, word):
                return True
    return False


def _check_modules(main: dict[str, str], findings: Findings) -> None:
    folders = [Path(p) for p in strings(main.get("plugin_paths", ""))]
    if not any((folder / "mod_send_buffer_limit.lua").is_file() for folder in folders):
        findings.problem("prosody: chatd's modules (mod_send_buffer_limit.lua, …) are in none of its plugin_paths")


def _check_hosts(config: Config, sections: dict[str, Section], findings: Findings, here: Path) -> None:
    host = sections.get(f"VirtualHost {config.server.members_host}")
    if host is None:
        findings.problem(f'prosody: no VirtualHost "{config.server.members_host}" (server.members_host)')
    else:
        scripts = [here / s for s in strings(host.settings.get("firewall_scripts", ""))]
        if not scripts or not all(s.is_file() for s in scripts):
            findings.problem(
                "prosody: the members' isolation rules (firewall_scripts) are missing: members could reach each other"
            )
        _check_push(config, sections["*"].settings, host.settings, findings)
    from chatd.deploy.render import components

    for domain, secret in components(config).items():
        component = sections.get(f"Component {domain}")
        if component is None:
            findings.problem(f'prosody: no Component "{domain}" (chatd serves it)')
        elif strings(component.settings.get("component_secret", "")) != [secret]:
            findings.problem(f"prosody: the secret of component {domain} differs from chatd's config")


def _check_push(config: Config, main: dict[str, str], host: dict[str, str], findings: Findings) -> None:
    if "s2s" not in strings(main.get("modules_disabled", "")):
        findings.problem(
            'prosody: server-to-server is on for every host (keep "s2s" in modules_disabled; '
            "chatd turns it on for the members' host, toward the push app servers only)"
        )
    if not config.push.app_servers:
        return
    if not {"cloud_notify", "chatd_push"} <= set(strings(host.get("modules_enabled", ""))):
        findings.problem('prosody: push is off on the members\' host (modules "cloud_notify" and "chatd_push")')
    for what in ("body", "sender"):
        if host.get(f"push_notification_with_{what}") != "false":
            findings.problem(
                f"prosody: push notifications could show the message's {what} on a lock screen "
                f"(set push_notification_with_{what} = false)"
            )
    if set(strings(host.get("chatd_push_app_servers", ""))) != set(config.push.app_servers):
        findings.problem("prosody: chatd_push_app_servers differs from chatd's [push] app_servers (render again)")


def check_certificate(host: str, folder: Path, findings: Findings) -> None:
    """The certificate Prosody offers for host (HOST.crt, as `prosodyctl cert import` writes it)."""
    found = [
        (folder / f"{host}.crt", folder / f"{host}.key"),
        (folder / host / "fullchain.pem", folder / host / "privkey.pem"),
    ]
    pair = next(((crt, key) for crt, key in found if crt.is_file() and key.is_file()), None)
    if pair is None:
        findings.problem(f"prosody: no certificate and key for {host} in {folder} (run certbot, see docs/deploy.md)")
        return
    try:
        certificate = x509.load_pem_x509_certificate(pair[0].read_bytes())
    except ValueError:
        findings.problem(f"prosody: {pair[0]} is not a PEM certificate")
        return
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        names = []
    if not any(fnmatch.fnmatch(host, name) for name in names):
        findings.problem(f"prosody: the certificate {pair[0]} is for {', '.join(names) or 'no name'}, not {host}")
    left = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    if left.total_seconds() <= 0:
        findings.problem(f"prosody: the certificate {pair[0]} has expired")
    elif left.days < EXPIRY_WARNING_DAYS:
        findings.warning(
            f"prosody: the certificate {pair[0]} expires in {left.days} days (is certbot's timer running?)"
        )
    if certificate.issuer == certificate.subject:
        findings.warning(f"prosody: the certificate {pair[0]} is self-signed: phones will refuse it")
