"""The production files `chatd deploy render` writes, and `chatd check`'s rules that need no server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatd.__main__ import main
from chatd.config import ConfigError, StoreConfig, load_config
from chatd.deploy.check import check_push, check_secrets, check_store, check_uploads
from chatd.deploy.findings import Findings
from chatd.deploy.prosody_check import parse, strings
from chatd.stack import Prosody
from tests.support.deployment import DOMAIN, PUSH_SERVER, chatd_toml


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "chatd.toml"
    path.write_text(chatd_toml(tmp_path, 5347, 25))
    return path


def render(config_file: Path, out: Path, *extra: str) -> int:
    return main(["deploy", "render", "--config", str(config_file), "--domain", DOMAIN, "--out", str(out), *extra])


def test_the_production_profile_requires_encryption_and_runs_unprivileged(config_file: Path, tmp_path: Path) -> None:
    assert render(config_file, tmp_path / "out") == 0
    text = (tmp_path / "out" / "etc" / "prosody" / "prosody.cfg.lua").read_text()
    settings = parse(text)["*"].settings
    assert settings["c2s_require_encryption"] == "true"
    assert settings["allow_unencrypted_plain_auth"] == "false"
    assert settings["run_as_root"] == "false"
    assert strings(settings["interfaces"]) == ["*", "::"]
    assert strings(settings["component_interfaces"]) == ["127.0.0.1"]  # chatd's port is never public
    assert settings["c2s_ports"] == "{ 5222 }" and settings["c2s_direct_tls_ports"] == "{ 5223 }"
    assert "limits" in strings(settings["modules_enabled"])
    assert strings(settings["certificates"]) == ["/etc/prosody/certs"]
    assert strings(settings["data_path"]) == ["/var/lib/prosody"]
    assert strings(settings["pidfile"]) == ["/run/prosody/prosody.pid"]
    sinks = re.findall(r"\{ levels = \{[^{}]*\}[^{}]*\}", settings["log"])
    assert len(sinks) == 2 and all("filter = without_identities" in sink for sink in sinks)
    assert 'filename = "/var/log/prosody/prosody.log"' in settings["log"]
    assert "${" not in text


def test_the_test_profile_keeps_loopback_and_root(tmp_path: Path) -> None:
    settings = parse(Prosody(tmp_path, c2s_port=1, component_port=2).config_text())["*"].settings
    assert settings["run_as_root"] == "true"
    assert settings["c2s_require_encryption"] == "false"
    assert strings(settings["interfaces"]) == ["127.0.0.1"]
    assert settings["c2s_direct_tls_ports"] == "{  }"


def test_render_writes_units_hook_and_modules_for_the_server(config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render(config_file, out, "--chatd-command", "/srv/venv/bin/chatd") == 0
    unit = (out / "etc" / "systemd" / "system" / "chatd.service").read_text()
    assert "ExecStart=/srv/venv/bin/chatd run --config /etc/chatd/chatd.toml" in unit
    assert "After=network-online.target prosody.service\n" in unit  # no NATS configured
    assert (out / "etc" / "systemd" / "system" / "prosody.service.d" / "chatd.conf").is_file()
    assert not (out / "etc" / "nats-server.conf").exists()
    hook = out / "etc" / "letsencrypt" / "renewal-hooks" / "deploy" / "prosody"
    assert "prosodyctl --root cert import /etc/letsencrypt/live" in hook.read_text() and hook.stat().st_mode & 0o111
    assert (out / "usr" / "local" / "lib" / "chatd" / "prosody-modules" / "mod_send_buffer_limit.lua").is_file()
    assert (out / "etc" / "prosody" / "prosody.cfg.lua").stat().st_mode & 0o777 == 0o640  # it holds secrets
    config = load_config(config_file, environ={})
    text = (out / "etc" / "prosody" / "prosody.cfg.lua").read_text()
    assert f'Component "watch.{DOMAIN}"\n  component_secret = "{config.watch.secret}"' in text


def test_render_with_nats_adds_its_config_and_unit(config_file: Path, tmp_path: Path) -> None:
    config_file.write_text(
        config_file.read_text().replace("[http]", '[bus]\nnats_url = "nats://127.0.0.1:4333"\n[http]')
    )
    out = tmp_path / "out"
    assert render(config_file, out) == 0
    assert "port: 4333" in (out / "etc" / "nats-server.conf").read_text()
    unit = (out / "etc" / "systemd" / "system" / "chatd.service").read_text()
    assert "After=network-online.target prosody.service nats-server.service" in unit


def with_uploads(config_file: Path, public_url: str) -> None:
    section = f'[uploads]\ndomain = "upload.{DOMAIN}"\nsecret = "{"u" * 24}"\npublic_url = "{public_url}"\n'
    config_file.write_text(config_file.read_text().replace("[http]", section + "[http]"))


def test_render_declares_the_upload_component_and_check_wants_it_over_tls(config_file: Path, tmp_path: Path) -> None:
    with_uploads(config_file, f"http://{DOMAIN}/files")
    out = tmp_path / "out"
    assert render(config_file, out) == 0
    text = (out / "etc" / "prosody" / "prosody.cfg.lua").read_text()
    assert f'Component "upload.{DOMAIN}"\n  component_secret = "{"u" * 24}"' in text
    findings = Findings()
    check_uploads(load_config(config_file, environ={}), findings)
    assert findings.problems == [
        f"uploads: public_url http://{DOMAIN}/files is not https: put chatd's /upload/ behind a TLS reverse proxy"
    ]
    config_file.write_text(config_file.read_text().replace(f"http://{DOMAIN}/files", f"https://{DOMAIN}/files"))
    fine = Findings()
    check_uploads(load_config(config_file, environ={}), fine)
    assert fine.problems == []


def test_render_refuses_another_domain_and_a_used_folder(config_file: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["deploy", "render", "--config", str(config_file), "--domain", "other.org", "--out", str(tmp_path / "a")])
        == 2
    )
    assert f"server.members_host is {DOMAIN}, not other.org" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("")
    assert render(config_file, tmp_path / "b") == 2
    assert "is not empty" in capsys.readouterr().err


def test_a_store_on_a_network_file_system_is_a_problem(config_file: Path) -> None:
    config = load_config(config_file, environ={})
    store = Path(config.store.path)
    findings = Findings()
    check_store(config, findings, f"/dev/sda1 / ext4 rw 0 0\nserver:/export {store.parent.parent} nfs4 rw 0 0\n")
    assert findings.problems == [
        f"store: {store} is on a network file system (nfs4 at {store.parent.parent}): SQLite needs a local disk"
    ]
    local = Findings()
    check_store(config, local, "/dev/sda1 / ext4 rw 0 0\nserver:/export /mnt/elsewhere nfs4 rw 0 0\n")
    assert local.problems == []
    postgres = Findings()
    url = "postgresql://chatd@db.example.org/chatd"
    on_server = config.model_copy(update={"store": StoreConfig(path=url, folder="/var/lib/chatd")})
    check_store(on_server, postgres, "server:/export /var nfs4 rw 0 0\n")
    assert postgres.problems == []  # nothing of the store on this machine's disks


def test_short_or_example_secrets_are_problems(config_file: Path) -> None:
    text = re.sub(
        r'people_secret = "[0-9a-f]+"', 'people_secret = "change-me-en-people"', config_file.read_text(), count=1
    )
    text = re.sub(r'rooms_secret = "[0-9a-f]+"', 'rooms_secret = "shortish1"', text, count=1)
    config_file.write_text(text)
    findings = Findings()
    check_secrets(load_config(config_file, environ={}), findings)
    assert findings.problems == [
        "secrets: realms.0.people_secret is still the example value (make one with `openssl rand -hex 24`)",
        "secrets: realms.0.rooms_secret is shorter than 16 characters",
    ]


def test_push_servers_missing_is_a_warning_only(config_file: Path) -> None:
    listed = Findings()
    check_push(load_config(config_file), listed)
    assert listed.warnings == []
    config_file.write_text(config_file.read_text().replace(f'app_servers = ["{PUSH_SERVER}"]', "app_servers = []"))
    findings = Findings()
    check_push(load_config(config_file), findings)
    assert findings.problems == []
    assert findings.warnings == ["push: no app servers listed (members on iPhones will not be notified)"]


def test_push_renders_its_servers_and_server_to_server_only_in_production(config_file: Path, tmp_path: Path) -> None:
    assert render(config_file, tmp_path / "out") == 0
    hosts = parse((tmp_path / "out" / "etc" / "prosody" / "prosody.cfg.lua").read_text())
    assert "s2s" in strings(hosts["*"].settings["modules_disabled"])  # off everywhere ...
    members = hosts[f"VirtualHost {DOMAIN}"].settings
    assert strings(members["modules_enabled"]) == [
        "firewall",
        "chatd_disco",
        "cloud_notify",
        "chatd_push",
        "lastlog2",
        "s2s",
    ]
    assert strings(members["chatd_push_app_servers"]) == [PUSH_SERVER]  # ... but toward these
    assert members["push_notification_with_body"] == "false"
    assert members["push_notification_with_sender"] == "false"
    assert hosts["*"].settings["s2s_secure_auth"] == "true"
    # the test profile: the app server is a local component, no server-to-server at all
    loopback = parse(Prosody(tmp_path / "t", push_app_servers=("push.localhost",)).config_text())[
        "VirtualHost localhost"
    ]
    assert strings(loopback.settings["modules_enabled"]) == [
        "firewall",
        "chatd_disco",
        "cloud_notify",
        "chatd_push",
        "lastlog2",
    ]


def test_a_push_app_server_cannot_be_one_of_chatds_domains(config_file: Path) -> None:
    config_file.write_text(config_file.read_text().replace(f'"{PUSH_SERVER}"', f'"en.{DOMAIN}"'))
    with pytest.raises(ConfigError, match="push app server cannot be one of chatd's own domains"):
        load_config(config_file)
