"""The production profile on loopback: Prosody with a locally made CA, clients that verify, `chatd check`."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import slixmpp
from aiosmtpd.controller import Controller

from chatd.stack import REPO, free_port
from tests.integration.conftest import needs_prosody
from tests.support.client import Recorder, error_from, tag
from tests.support.deployment import DOMAIN, PUSH_SERVER, STRANGER, Deployment, prepare, vault_key

pytestmark = needs_prosody
PASSWORD = "pw-alice-deploy"


class Silent:
    """An SMTP server that answers (EHLO) and keeps nothing."""


@pytest.fixture(scope="module")
def smtp_port() -> Iterator[int]:
    controller = Controller(Silent(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield int(controller.port)
    controller.stop()


@pytest.fixture(scope="module")
def deployment(smtp_port: int) -> Iterator[Deployment]:
    prepared = prepare(smtp_port)
    try:
        prepared.prosody.start()
        prepared.prosody.register("alice", PASSWORD)
        yield prepared
    finally:
        prepared.close()


def check(deployment: Deployment, config: Path | None = None, prosody: Path | None = None) -> tuple[int, list[str]]:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "chatd", "check", "--config", str(config or deployment.config_file)),
            *("--prosody-config", str(prosody or deployment.prosody.config_file)),
            *("--logrotate-dir", str(deployment.logrotate_dir)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    return result.returncode, result.stdout.splitlines()


async def log_in(deployment: Deployment, direct_tls: bool) -> slixmpp.ClientXMPP:
    """slixmpp with certificate verification on (its default), trusting the local CA only in addition."""
    client = slixmpp.ClientXMPP(f"alice@{DOMAIN}", PASSWORD)
    client.ca_certs = deployment.ca_file
    client.enable_direct_tls = direct_tls
    client.enable_starttls = not direct_tls
    client.enable_plaintext = False
    started = asyncio.Event()
    secure: list[bool] = []
    client.add_event_handler("session_start", lambda _: started.set())
    client.add_event_handler("ssl_invalid_chain", lambda _: secure.append(False))
    port = deployment.direct_tls_port if direct_tls else deployment.prosody.c2s_port
    client.connect("127.0.0.1", port)
    await asyncio.wait_for(started.wait(), 15)
    assert secure == []
    return client


async def test_a_client_that_verifies_the_certificate_logs_in_with_starttls(deployment: Deployment) -> None:
    client = await log_in(deployment, direct_tls=False)
    assert client.transport.get_extra_info("ssl_object") is not None
    await client.disconnect(wait=0.5)


async def test_a_client_that_verifies_the_certificate_logs_in_with_direct_tls(deployment: Deployment) -> None:
    client = await log_in(deployment, direct_tls=True)
    assert client.transport.get_extra_info("peercert")["subjectAltName"] == (("DNS", DOMAIN),)
    await client.disconnect(wait=0.5)


async def test_server_to_server_reaches_the_listed_push_servers_only(deployment: Deployment) -> None:
    client = await log_in(deployment, direct_tls=False)
    member = Recorder(client)
    try:
        for stanza_id, service, answer in (
            ("listed", PUSH_SERVER, "result"),
            ("unlisted", "push.example.net", "error"),
        ):
            client.send_raw(f"<iq type='set' id='{stanza_id}'><enable xmlns='urn:xmpp:push:0' jid='{service}'/></iq>")
            await member.expect(lambda e, i=stanza_id, a=answer: e.get("id") == i and e.get("type") == a, timeout=10)
        # any other stanza toward another server (or from the member to the push server) is refused here
        for address in ("someone@elsewhere.example", f"someone@{PUSH_SERVER}"):
            client.send_raw(f"<message type='chat' id='out-{address}' to='{address}'><body>hello</body></message>")
            await member.expect(error_from(address, "not-allowed", stanza_id=f"out-{address}"), timeout=10)
        assert not [e for e in member.received if e.tag == tag("message") and e.get("type") != "error"]
    finally:
        await client.disconnect(wait=0.5)


def s2s_stream_in(deployment: Deployment, peer: str) -> str:
    """Another server (peer, with a certificate of the local CA) opens a server-to-server stream to the
    members' host and authenticates with it (SASL EXTERNAL); what the members' host says after that."""
    opening = (
        "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
        f"from='{peer}' to='{DOMAIN}' version='1.0'>"
    )

    def read_until(sock: socket.socket | ssl.SSLSocket, *ends: str) -> str:
        seen = ""
        while not any(end in seen for end in ends):
            chunk = sock.recv(65536)
            if not chunk:
                break
            seen += chunk.decode()
        return seen

    with socket.create_connection(("127.0.0.1", deployment.prosody.server_profile.s2s_ports[0]), timeout=15) as raw:
        raw.sendall(opening.encode())
        assert "starttls" in read_until(raw, "</stream:features>")
        raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        assert "<proceed" in read_until(raw, "<proceed", "<failure")
        context = ssl.create_default_context(cafile=str(deployment.ca_file))
        certificates = deployment.prosody.server_profile.certificates
        context.load_cert_chain(certificates / f"{peer}.crt", certificates / f"{peer}.key")
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            tls.sendall(opening.encode())
            assert "EXTERNAL" in read_until(tls, "</stream:features>")
            tls.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
            answer = read_until(tls, "<success", "<failure")
            assert "<success" in answer
            tls.sendall(opening.encode())  # the stream restarts after authentication
            return answer + read_until(tls, "</stream:features>", "</stream:stream>")


def test_only_listed_push_servers_may_open_a_server_to_server_stream(deployment: Deployment) -> None:
    listed = s2s_stream_in(deployment, PUSH_SERVER)
    assert "stream:error" not in listed and "</stream:features>" in listed
    stranger = s2s_stream_in(deployment, STRANGER)
    assert "policy-violation" in stranger and "listed push app servers" in stranger


def test_a_client_that_does_not_trust_the_certificate_is_refused(deployment: Deployment) -> None:
    """The verification above is real: without the local CA the same handshake fails."""
    context = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        asyncio.run(
            asyncio.open_connection("127.0.0.1", deployment.direct_tls_port, ssl=context, server_hostname=DOMAIN)
        )


async def read_until(reader: asyncio.StreamReader, *ends: bytes) -> bytes:
    data = b""
    while not any(end in data for end in ends):
        chunk = await asyncio.wait_for(reader.read(4096), 10)
        if not chunk:
            break
        data += chunk
    return data


async def test_plain_authentication_without_tls_is_refused(deployment: Deployment) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", deployment.prosody.c2s_port)
    writer.write(
        f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' version='1.0' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams'>".encode()
    )
    features = (await read_until(reader, b"</stream:features>")).decode()
    assert re.search(r"<starttls[^>]*>\s*<required\s*/>", features), features
    assert "PLAIN" not in features  # no mechanism is offered before TLS
    credentials = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
    writer.write(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>".encode())
    answer = (await read_until(reader, b"</failure>", b"</stream:error>", b"<success")).decode()
    writer.close()
    assert "<success" not in answer
    assert "encryption-required" in answer, answer


def test_check_passes_on_the_rendered_production_profile(deployment: Deployment) -> None:
    code, lines = check(deployment)
    assert code == 0, lines
    assert [line for line in lines if line.startswith("problem:")] == []
    assert not [line for line in lines if "push" in line]
    assert lines[-1] == "chatd check: ready: 0 problem(s), 1 warning(s)"


def edited(text: str, edits: dict[str, str], path: Path) -> Path:
    """text with each pattern replaced once (each must be there), written to path."""
    for pattern, replacement in edits.items():
        text, count = re.subn(pattern, replacement, text, count=1)
        assert count == 1, pattern
    path.write_text(text)
    return path


def broken_prosody(deployment: Deployment) -> Path:
    text = deployment.prosody.config_file.read_text()
    edits = {
        r"c2s_require_encryption = true": "c2s_require_encryption = false",
        r"allow_unencrypted_plain_auth = false": "allow_unencrypted_plain_auth = true",
        r"run_as_root = false": "run_as_root = true",
        r'"limits"; ': "",
        r"to = \"stdout\"; filter = without_identities": 'to = "stdout"',
        r'component_secret = "[0-9a-f]+"': 'component_secret = "not-the-same-secret"',
        r'certificates = "[^"]+"': f'certificates = "{deployment.root / "no-certs"}"',
        r"push_notification_with_sender = false": "push_notification_with_sender = true",
    }
    return edited(text, edits, deployment.root / "broken.cfg.lua")


def broken_chatd(deployment: Deployment, smtp_port: int) -> Path:
    text = deployment.config_file.read_text()
    vault_key(deployment.root / "small.pub.pem", 2048)
    dead_port = free_port()
    edits = {
        r'(\[watch\]\ndomain = "[^"]+"\nsecret = )"[0-9a-f]+"': r'\1"change-me-watch"',
        r'path = "[^"]+chatd.sqlite3"': 'path = "var/chatd.sqlite3"',
        r'vault_public_key = "[^"]+"': f'vault_public_key = "{deployment.root / "small.pub.pem"}"',
        rf"smtp_port = {smtp_port}": f"smtp_port = {dead_port}",
        r'public_url = "https://': 'public_url = "http://',
    }
    return edited(text, edits, deployment.root / "broken.toml")


def test_check_names_each_problem_of_a_broken_deployment(deployment: Deployment, smtp_port: int) -> None:
    code, lines = check(deployment, broken_chatd(deployment, smtp_port), broken_prosody(deployment))
    assert code == 1
    problems = [line for line in lines if line.startswith("problem:")]
    expected = [
        "prosody: encryption is not required",
        "prosody: passwords may be sent over unencrypted links",
        "prosody: run_as_root = true",
        "prosody: rate limits are off",
        "prosody: a log sink has no identity filter",
        "prosody: the secret of component watch.",
        f"prosody: no certificate and key for {DOMAIN}",
        "prosody: push notifications could show the message's sender",
        "secrets: watch.secret is still the example value",
        "store: var/chatd.sqlite3 is a relative path",
        "registration: the vault key must be an RSA public key of at least 3072 bits",
        "registration: no mail server answers at 127.0.0.1:",
        "registration: public_url http://",
    ]
    for words in expected:
        assert [p for p in problems if words in p], (words, lines)
    assert len(problems) == len(expected), problems  # one line per problem, nothing else
    assert lines[-1] == f"chatd check: not ready: {len(expected)} problem(s), 1 warning(s)"
