"""The emergency look-up's parts that need no server: reading mod_lastlog2's output, the demo vault key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatd import demo
from chatd.config import load_config
from chatd.deploy.check import check_registration
from chatd.deploy.findings import Findings
from chatd.stack import REPO, free_port
from chatd.vault.lastlog import LastLogin, parse

BANNER = "\n**************************\nProsody was unable to find lua-unbound\n**************************\n\n"


def test_the_login_is_read_whatever_order_the_events_come_in() -> None:
    output = BANNER + (
        "Last logout: 2026-12-03 16:03:50\nIP address: 192.0.2.9\n"
        "Last login: 2026-12-03 16:03:48\nIP address: 192.0.2.7\n"
    )
    assert parse(output) == LastLogin("2026-12-03 16:03:48", "192.0.2.7")
    assert parse("Last login: 2026-12-03 16:03:48\nLast logout: 2026-12-03 16:04:00\nIP address: 2001:db8::1\n") == (
        LastLogin("2026-12-03 16:03:48", "")
    )
    assert parse(BANNER + "Last logout: 2026-12-03 16:03:50\n") is None
    assert parse(BANNER + "No record found\n") is None


def test_the_demo_key_is_made_once_and_never_when_a_real_key_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(demo.VAULT_KEY_ENV, "/etc/chatd/team.pub.pem")
    assert demo.demo_vault_key(tmp_path / "vault") == {"public_key": "/etc/chatd/team.pub.pem", "demo": "no"}
    assert not (tmp_path / "vault").exists()
    monkeypatch.delenv(demo.VAULT_KEY_ENV)
    made = demo.demo_vault_key(tmp_path / "vault")
    assert made["demo"] == "yes" and all("DEMO-ONLY" in Path(made[k]).name for k in made if k != "demo")
    key = Path(made["public_key"]).read_bytes()
    assert demo.demo_vault_key(tmp_path / "vault") == made and Path(made["public_key"]).read_bytes() == key


def test_chatd_check_names_the_demo_key_as_a_problem(tmp_path: Path) -> None:
    made = demo.demo_vault_key(tmp_path / "vault")
    example = (REPO / "conf" / "chatd.example.toml").read_text()
    registration = (
        '[registration]\npublic_url = "https://chat.example.net"\nsender = "no-reply@chat.example.net"\n'
        f"smtp_port = {free_port()}\nvault_public_key = {json.dumps(made['public_key'])}\n"
    )
    path = tmp_path / "chatd.toml"
    path.write_text(example + "\n" + registration)
    findings = Findings()
    check_registration(load_config(path), findings)
    assert [p for p in findings.problems if "is the demo stack's vault key" in p and "chatd vault keygen" in p]
    findings = Findings()
    check_registration(
        load_config(path, {"CHATD_REGISTRATION__VAULT_PUBLIC_KEY": str(tmp_path / "team.pub")}), findings
    )
    assert not [p for p in findings.problems if "demo" in p]
