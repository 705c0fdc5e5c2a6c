"""The loopback stack's choice of server: what `build` wires differently for ejabberd (no server runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatd.stack import Ejabberd, Prosody, StackError, build


def test_prosody_stays_the_default_with_a_secret_per_domain(tmp_path: Path) -> None:
    server, chatd = build(tmp_path)
    assert isinstance(server, Prosody)
    assert len(set(chatd.components().values())) == len(chatd.components())


def test_ejabberd_gets_one_component_password_for_all_of_chatds_domains(tmp_path: Path) -> None:
    server, chatd = build(tmp_path, server="ejabberd")
    assert isinstance(server, Ejabberd)
    secrets = set(chatd.components().values())
    assert len(secrets) == 1
    text = server.config_file.read_text()
    assert f'password: "{secrets.pop()}"' in text
    assert "hosts:\n      " not in text  # no per-domain map: it would route every domain to every stream
    assert f"port: {server.component_port}" in text and f"port: {server.c2s_port}" in text
    assert '"rooms.en.localhost", "rooms.fr.localhost"' in text  # the rooms services, in disco#items
    assert "mod_chatd_isolation:" in text
    control = (server.run_dir / "ejabberdctl.cfg").read_text()
    assert server.node in control and server.cookie in control and f'ERL_DIST_PORT="{server.dist_port}"' in control


def test_ejabberd_refuses_components_with_different_secrets(tmp_path: Path) -> None:
    server = Ejabberd(tmp_path, components={"en.localhost": "one", "rooms.en.localhost": "two"})
    with pytest.raises(StackError, match="share one secret"):
        server.config_text()


def test_an_unknown_server_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="unknown server"):
        build(tmp_path, server="openfire")


def test_ejabberd_balances_a_domain_over_fixed_slots_only_when_asked(tmp_path: Path) -> None:
    server, _ = build(tmp_path, server="ejabberd")
    assert isinstance(server, Ejabberd)
    assert "domain_balancing:" not in server.config_file.read_text()  # the stack: one chatd, one stream per domain
    server.domain_balancing = {"rooms.en.localhost": 3}
    # both keys: `type` alone breaks the domain's routes (docs/scale-out.md)
    expected = '\ndomain_balancing:\n  "rooms.en.localhost":\n    type: bare_destination\n    component_number: 3\n'
    assert expected in server.config_text()
