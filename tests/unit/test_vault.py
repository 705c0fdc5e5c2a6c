"""The vault: envelope encryption, unsealing only with the private key, audit, rotation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from chatd.__main__ import main
from chatd.core.model import Role
from chatd.store import Store
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import Sealer, VaultError, associated_data, load_public_key
from chatd.vault.unseal import generate, load_private_key, open_sealed, rewrap

EXAMPLE = Path(__file__).resolve().parents[2] / "conf" / "chatd.example.toml"
PASSPHRASE = "correct horse battery staple"
RECORD = {"email": "river.person@example.org", "phone": "+1 613 555 0142"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    paths = {}
    for name in ("team", "other"):
        paths[name], paths[f"{name}.pub"] = folder / f"{name}.pem", folder / f"{name}.pub.pem"
        generate(paths[name], paths[f"{name}.pub"], PASSPHRASE)
    paths["passphrase"] = folder / "passphrase"
    paths["passphrase"].write_text(PASSPHRASE + "\n")
    return paths


def test_sealed_record_opens_only_with_the_private_key(keys: dict[str, Path]) -> None:
    aad = associated_data("en", "calm-otter", "registration")
    sealed = Sealer.from_file(keys["team.pub"]).seal(RECORD, aad)
    assert b"river.person" not in sealed.ciphertext + sealed.wrapped_key
    assert open_sealed(load_private_key(keys["team"], PASSPHRASE), sealed, aad) == RECORD
    with pytest.raises(VaultError, match="not for the key given"):
        open_sealed(load_private_key(keys["other"], PASSPHRASE), sealed, aad)
    with pytest.raises(VaultError, match="wrong passphrase"):
        load_private_key(keys["team"], "not the passphrase")
    moved = associated_data("en", "brave-heron", "registration")
    with pytest.raises(VaultError, match="does not belong"):
        open_sealed(load_private_key(keys["team"], PASSPHRASE), sealed, moved)


def test_rotation_rewraps_the_data_key_and_keeps_the_ciphertext(keys: dict[str, Path]) -> None:
    aad = associated_data("fr", "doux-castor", "registration")
    sealed = Sealer.from_file(keys["team.pub"]).seal(RECORD, aad)
    team, other = load_private_key(keys["team"], PASSPHRASE), load_private_key(keys["other"], PASSPHRASE)
    moved = rewrap(team, load_public_key(keys["other.pub"]), sealed)
    assert (moved.nonce, moved.ciphertext) == (sealed.nonce, sealed.ciphertext)
    assert open_sealed(other, moved, aad) == RECORD
    with pytest.raises(VaultError):
        open_sealed(team, moved, aad)


def test_the_sealer_holds_no_secret(keys: dict[str, Path]) -> None:
    sealer = Sealer.from_file(keys["team.pub"])
    assert not hasattr(sealer, "private_key") and not hasattr(sealer.public_key, "decrypt")
    with pytest.raises(VaultError):
        Sealer.from_file(keys["team"])  # a private key file is not accepted as the service's key


def test_the_service_never_loads_the_unsealing_code() -> None:
    code = (
        "import sys, chatd.app, chatd.registration, chatd.__main__;"
        "sys.exit(int(any(m in sys.modules for m in ('chatd.vault.unseal', 'chatd.vault.commands'))))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_keygen_refuses_short_passphrases_and_never_overwrites(keys: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="at least"):
        generate(tmp_path / "k.pem", tmp_path / "k.pub", "short")
    with pytest.raises(VaultError, match="exists already"):
        generate(keys["team"], tmp_path / "k.pub", PASSPHRASE)


@pytest.fixture
def config(tmp_path: Path, keys: dict[str, Path]) -> Path:
    store_path = tmp_path / "chatd.sqlite3"
    text = EXAMPLE.read_text().replace('path = "var/chatd.sqlite3"', f'path = "{store_path}"')
    path = tmp_path / "chatd.toml"
    path.write_text(text)

    async def register() -> None:
        store = await Store.open(store_path)
        vault = RegistrationStore(store.db)
        sealer = Sealer.from_file(keys["team.pub"])
        sealed = sealer.seal(RECORD, associated_data("en", "calm-otter", "registration"))
        pending = await vault.add_pending("en", "calm-otter", "en", b"h" * 32, 2e9, sealed, 1e9)
        member = await store.add_member("m1@localhost", "en", "calm-otter", Role.MEMBER)
        await store.add_member("lee@localhost", "en", "dr-lee", Role.SENIOR_CLINICIAN)
        await store.add_member("amber@localhost", "fr", "amber-guide", Role.WALL_GUIDE)
        answers = sealer.seal({"hopes": "company"}, associated_data("en", "calm-otter", "onboarding"))
        await vault.complete(pending, member.id, [("onboarding", answers)], 1e9)
        await store.close()

    asyncio.run(register())
    return path


def audit(config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["vault", "audit", "--config", str(config)]) == 0
    return capsys.readouterr().out.splitlines()


def unseal(config: Path, keys: dict[str, Path], key: str, reason: str, clinician: str = "dr-lee") -> int:
    return main(
        ["vault", "unseal", "--config", str(config), "--member", "calm-otter", "--reason", reason,
         "--private-key", str(keys[key]), "--passphrase-file", str(keys["passphrase"]), "--clinician", clinician]
    )  # fmt: skip


def test_unseal_prints_the_record_and_audits_it(
    config: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert unseal(config, keys, "team", "member said they would harm themselves tonight") == 0
    out = capsys.readouterr().out
    assert "river.person@example.org" in out and "+1 613 555 0142" in out and "company" in out
    [entry] = audit(config, capsys)
    assert "\tdr-lee\ten\tcalm-otter\tunsealed\tmember said they would harm themselves tonight" in entry


def test_unseal_by_anyone_but_a_senior_clinician_is_refused_in_their_language_and_audited(
    config: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert unseal(config, keys, "team", "the guide wants to call the member", clinician="amber-guide") == 2
    captured = capsys.readouterr()
    assert "river.person" not in captured.out + captured.err and "company" not in captured.out
    assert "seul un clinicien principal" in captured.err and "only a Senior Clinician" not in captured.err
    assert unseal(config, keys, "team", "the guide wants to call the member", clinician="nobody-here") == 2
    captured = capsys.readouterr()  # a name nobody has: told in every language
    assert "only a Senior Clinician" in captured.err and "seul un clinicien principal" in captured.err
    entries = audit(config, capsys)
    assert len(entries) == 2 and all("refused: not a Senior Clinician" in e for e in entries)
    assert "\tamber-guide\ten\tcalm-otter\t" in entries[0]


def test_unseal_with_a_wrong_key_fails_and_is_audited(
    config: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert unseal(config, keys, "other", "checking an emergency report from a guide") == 2
    captured = capsys.readouterr()
    assert "river.person" not in captured.out + captured.err and "not for the key given" in captured.err
    [entry] = audit(config, capsys)
    assert "refused" in entry


def test_unseal_without_a_reason_is_refused(
    config: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert unseal(config, keys, "team", "   ") == 2
    assert "reason" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["vault", "unseal", "--config", str(config), "--member", "calm-otter", "--private-key", "x"])
    assert audit(config, capsys) == []


def test_rotate_moves_every_entry_to_the_new_key(
    config: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["vault", "rotate", "--config", str(config), "--private-key", str(keys["team"])]
    args += ["--passphrase-file", str(keys["passphrase"]), "--new-public-key", str(keys["other.pub"])]
    assert main(args) == 0
    assert "2 sealed entries" in capsys.readouterr().out
    assert unseal(config, keys, "other", "emergency reported by the on-duty guide") == 0
    assert "river.person@example.org" in capsys.readouterr().out
    assert unseal(config, keys, "team", "emergency reported by the on-duty guide") == 2
