import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

from chatd.__main__ import main
from chatd.core.audit import GENESIS, AuditRecord, chain_hash, verify
from chatd.store import Store
from chatd.store.audit import AuditLog


def chain(count: int) -> list[AuditRecord]:
    records, prev = [], GENESIS
    for seq in range(1, count + 1):
        detail = {"n": seq}
        digest = chain_hash(prev, seq, float(seq), "op", "member.suspend", "en", f"m-{seq}", detail)
        records.append(AuditRecord(seq, float(seq), "op", "member.suspend", "en", f"m-{seq}", detail, prev, digest))
        prev = digest
    return records


def test_an_intact_chain_verifies() -> None:
    records = chain(5)
    assert verify(records) == []
    assert verify(records, head=records[-1].hash) == []
    assert verify([]) == []


def test_edits_and_deletions_are_detected() -> None:
    records = chain(5)
    edited = [*records[:2], replace(records[2], target="someone-else"), *records[3:]]
    assert any("entry 3 was edited" in p for p in verify(edited))
    middle_deleted = records[:2] + records[3:]
    assert any("missing" in p for p in verify(middle_deleted))
    first_deleted = records[1:]
    assert any("entries 1..1 are missing" in p for p in verify(first_deleted))
    truncated = records[:-1]
    assert verify(truncated) == []  # only an anchor kept elsewhere catches a cut at the end
    assert any("head" in p for p in verify(truncated, head=records[-1].hash))


def test_concurrent_appenders_keep_one_chain(store_url: str) -> None:
    path = store_url

    async def scenario() -> list[AuditRecord]:
        await (await Store.open(path)).close()
        logs = [await AuditLog.open(path) for _ in range(3)]
        await asyncio.gather(
            *(log.append("op", "x.y", "en", f"t{i}-{n}") for i, log in enumerate(logs) for n in range(10))
        )
        records = await logs[0].records()
        for log in logs:
            await log.close()
        return records

    records = asyncio.run(scenario())
    assert len(records) == 30 and verify(records) == []


def write_config(folder: Path) -> Path:
    """The example config with its store in folder and the repository's policies."""
    repo = Path(__file__).resolve().parents[2]
    config = folder / "chatd.toml"
    config.write_text(
        (repo / "conf" / "chatd.example.toml")
        .read_text()
        .replace('path = "var/chatd.sqlite3"', f'path = "{folder / "s.sqlite3"}"')
        .replace('policies_file = "conf/policies.toml"', f'policies_file = "{repo / "conf" / "policies.toml"}"')
    )
    return config


def test_cli_verify_fails_after_tampering(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    store = tmp_path / "s.sqlite3"
    args = ["--config", str(config), "--actor", "operator-1"]
    assert main(["member", "add", "--account", "a@localhost", "--realm", "en", "--pseudonym", "calm-otter", *args]) == 0
    assert main(["member", "suspend", "--realm", "en", "calm-otter", "--reason", "spam", *args]) == 0
    assert main(["member", "reinstate", "--realm", "en", "calm-otter", *args]) == 0
    capsys.readouterr()
    assert main(["audit", "list", "--config", str(config)]) == 0
    listing = capsys.readouterr().out
    assert "member.add" in listing and "member.suspend" in listing and "operator-1" in listing
    assert "a@localhost" not in listing  # pseudonyms only
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert main(["audit", "head", "--config", str(config)]) == 0
    head = capsys.readouterr().out.split()[-1]

    with sqlite3.connect(store) as db:
        db.execute("UPDATE audit SET detail = '{\"reason\": \"nothing\"}' WHERE action = 'member.suspend'")
    assert main(["audit", "verify", "--config", str(config)]) == 1
    assert "was edited" in capsys.readouterr().err

    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM audit WHERE action <> 'member.add'")
    assert main(["audit", "verify", "--config", str(config)]) == 0  # a clean cut at the end ...
    assert main(["audit", "verify", "--config", str(config), "--head", head]) == 1  # ... is caught by the head


def test_member_add_without_a_pseudonym_gets_an_accepted_suggestion(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    for n in range(15):
        assert main(["member", "add", "--config", str(config), "--account", f"u{n}@localhost", "--realm", "en"]) == 0
    added = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert len(set(added)) == 15
