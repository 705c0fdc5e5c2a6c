import asyncio
import contextlib
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from chatd.core.follows import Pace
from chatd.core.model import Role, Status
from chatd.stack import free_port
from chatd.store import ArchivedMessage, Store, StoreError
from chatd.store.follows import FollowStore
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import Sealed
from tests.support.postgres import PostgresServer, needs_postgres


async def test_members_blocks_and_grouped_archive(store_url: str) -> None:
    store = await Store.open(store_url)
    alice = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    bob = await store.add_member("b@h", "en", "brave-heron", Role.WALL_GUIDE)
    with pytest.raises(StoreError, match="taken"):
        await store.add_member("c@h", "en", "calm-otter", Role.MEMBER)
    with pytest.raises(StoreError, match="already a member"):
        await store.add_member("a@h", "fr", "doux-castor", Role.MEMBER)
    assert (await store.set_status("en", "calm-otter", Status.SUSPENDED)).status is Status.SUSPENDED
    with pytest.raises(StoreError):
        await store.set_status("en", "nobody-here", Status.ACTIVE)
    await store.set_block(alice.id, bob.id, True)
    assert await store.blocks() == [(alice.id, bob.id)]

    def message(n: int) -> ArchivedMessage:
        return ArchivedMessage(f"id{n}", "dm:1:2", alice.id, bob.id, None, f"m{n}", None, "deliver", [], float(n))

    await asyncio.gather(*(store.archive(message(n)) for n in range(50)))
    assert [m.body for m in await store.conversation("dm:1:2", limit=3)] == ["m47", "m48", "m49"]
    await store.close()

    reopened = await Store.open(store_url)  # migrations are not applied twice
    assert len(await reopened.members()) == 2
    await reopened.close()


async def test_a_full_store_refuses_reports_the_fault_and_recovers_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chatd.store.PROBE_SECONDS", 0.05)
    store = await Store.open(tmp_path / "s.sqlite3")
    free = {"bytes": 0}  # what the disk reports free while the test fills it
    monkeypatch.setattr("chatd.store.free_bytes", lambda _folder: free["bytes"])

    def message(n: int) -> ArchivedMessage:
        return ArchivedMessage(f"id{n}", "dm:1:2", 1, 2, None, "x" * 500, None, "deliver", [], float(n))

    async with store.db.execute("PRAGMA page_count") as cursor:
        pages = (await cursor.fetchone())[0]
    await store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own size cap: the "disk" is full
    refused = []
    for n in range(20):
        try:
            await store.archive(message(n))
        except StoreError as exc:
            refused.append(n)
            assert str(exc) == "archive failed: the disk is full"
    assert refused and store.fault == "the disk is full" and store.write_failures == len(refused)
    await asyncio.sleep(0.3)
    assert store.fault == "the disk is full"  # probed again and again, still full

    await store.db.execute("PRAGMA max_page_count = 1073741823")  # room again
    free["bytes"] = 10 * 1024 * 1024
    for _ in range(100):
        if store.fault is None:
            break
        await asyncio.sleep(0.05)
    assert store.fault is None  # found out by itself, with nothing written meanwhile
    await store.archive(message(100))
    bodies = [m.stanza_id for m in await store.conversation("dm:1:2", limit=100)]
    assert "id100" in bodies and not {f"id{n}" for n in refused} & set(bodies)
    await store.close()


async def test_opening_a_store_that_cannot_be_written_says_why(tmp_path: Path) -> None:
    (tmp_path / "s.sqlite3").write_text("not a database")
    with pytest.raises(StoreError, match=r"s.sqlite3 cannot be written: the file is not a SQLite database"):
        await Store.open(tmp_path / "s.sqlite3")


async def test_unsent_messages_until_marked_and_what_a_killed_run_logged_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    await store.open_sent_log()

    def message(n: int) -> ArchivedMessage:
        return ArchivedMessage(f"id{n}", "dm:1:2", 1, 2, f"c{n}", f"m{n}", None, "deliver", [], float(n), unsent=True)

    await asyncio.gather(*(store.archive(message(n)) for n in range(4)))
    store.mark_sent(["id0"])
    await store.archive(ArchivedMessage("id9", "room:en:x", 1, None, None, "r", None, "deliver", [], 9.0))
    assert [m.stanza_id for m in await store.unsent()] == ["id1", "id2", "id3"]
    store.mark_sent(["id1"])
    store._sent.clear()  # as if the process died before the next commit: id1 is in the sent log only
    await store.close()

    again = await Store.open(path)
    assert [m.stanza_id for m in await again.unsent()] == ["id1", "id2", "id3"]
    await again.open_sent_log()  # the service folds the last run's log into the archive
    assert [m.stanza_id for m in await again.unsent()] == ["id2", "id3"]
    assert [m.body for m in await again.by_stanza_ids(["id3", "id2"])] == ["m2", "m3"]
    await again.close()


async def test_welcomes_are_claimed_once_and_members_from_before_count_as_welcomed(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    old = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    await store.archive(ArchivedMessage("r1", "room:en:general", old.id, None, None, "hi", None, "deliver", [], 1.0))
    await store.close()
    with sqlite3.connect(path) as db:  # the store as it was before the welcome existed
        db.execute("DROP TABLE welcomed")
        db.execute("DELETE FROM schema_migrations WHERE version = 12")
    store = await Store.open(path)
    assert not await store.claim_welcome(old.id, "", 2.0)
    assert not await store.claim_welcome(old.id, "room:en:general", 2.0)
    assert await store.claim_welcome(old.id, "room:en:sleep", 2.0)
    new = await store.add_member("b@h", "en", "brave-heron", Role.MEMBER)
    assert await store.claim_welcome(new.id, "", 3.0)
    assert not await store.claim_welcome(new.id, "", 4.0)
    await store.close()


async def test_a_postgresql_store_that_cannot_be_reached_says_where_without_the_password() -> None:
    url = f"postgresql://chatd:secret@127.0.0.1:{free_port()}/chatd"
    with pytest.raises(StoreError, match=r"^the store at 127.0.0.1:\d+/chatd cannot be reached") as raised:
        await Store.open(url)
    assert "secret" not in str(raised.value)


async def test_welcomes_and_held_messages_on_both_backends(store_url: str) -> None:
    store = await Store.open(store_url)
    member = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    assert await store.claim_welcome(member.id, "", 1.0) and not await store.claim_welcome(member.id, "", 2.0)
    held = ArchivedMessage("h1", "dm:1:2", member.id, 2, "c1", None, "secret words", "hold", ["pii"], 1.0)
    await store.archive(held)
    await store.settle_held("h1", "deliver", "secret words")
    await store.moderate("h1", "", removed_by=None)
    [removed] = await store.conversation("dm:1:2")
    assert (removed.body, removed.original, removed.verdict, removed.findings) == (
        "",
        "secret words",
        "removed",
        ["pii"],
    )
    assert await store.recent_client_ids() == {(member.id, "c1")}
    assert await store.find_message("h1", ("removed",)) is None  # a short id is the tail after a dash
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await store.set_block(member.id, 999, True)  # no such member
    assert await store.add_member("b@h", "en", "brave-heron", Role.MEMBER)  # the store goes on after a failure
    assert await store.blocks() == []
    await store.close()


async def test_registrations_the_vault_and_follows_on_both_backends(store_url: str) -> None:
    store = await Store.open(store_url)
    vault, follows = RegistrationStore(store.db), FollowStore(store.db)
    sealed = Sealed("k1", b"\x00wrapped", b"nonce", b"\xffcipher")
    pending = await vault.add_pending("en", "calm-otter", "en", b"token", 100.0, sealed, 1.0)
    assert await vault.pseudonym_taken("en", "calm-otter", 50.0) and not await vault.pseudonym_taken("en", "x", 50.0)
    claimed = await vault.claim(b"token", 50.0)
    assert claimed is not None and claimed.id == pending and await vault.claim(b"token", 50.0) is None
    member = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    await vault.complete(pending, member.id, [("onboarding", sealed)], 60.0)
    assert [(e.kind, e.sealed) for e in await vault.entries_of("en", "calm-otter")] == [
        ("registration", sealed),
        ("onboarding", sealed),
    ]

    assert await follows.follow(member.id, "room:sleep", 10.0, Pace.DAILY, 20.0)
    assert not await follows.follow(member.id, "room:sleep", 11.0, Pace.DAILY, 20.0)
    assert [f.member_id for f in await follows.due(20.0)] == [member.id]
    assert await follows.claim_window(member.id, 10.0, 20.0, 30.0, "digest-1")
    assert not await follows.claim_window(member.id, 10.0, 20.0, 30.0, "digest-1")  # once
    await follows.seen(member.id, 40.0)
    follower = await follows.follower(member.id)
    assert follower is not None and (follower.due_at, follower.waiting_id) == (40.0, None)  # the later of the two
    assert await follows.unfollow(member.id, "room:sleep") and await follows.follower(member.id) is None
    await store.close()


@needs_postgres
async def test_a_postgresql_store_connects_again_after_its_connection_was_lost(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chatd.store.PROBE_SECONDS", 0.05)
    url = await postgres_server.new_database()
    store = await Store.open(url)
    member = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    admin = await asyncpg.connect(postgres_server.url())
    try:  # as when the server restarts or an operator ends the session
        ended = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1"
        assert await admin.fetchval(ended, url.rsplit("/")[-1])
    finally:
        await admin.close()
    with contextlib.suppress(StoreError):  # refused when this write finds the loss; the prober connects again
        await store.archive(ArchivedMessage("m1", "dm:1:2", member.id, 2, None, "hi", None, "deliver", [], 1.0))
    for _ in range(100):
        if store.fault is None:
            break
        await asyncio.sleep(0.05)
    await store.archive(ArchivedMessage("m2", "dm:1:2", member.id, 2, None, "again", None, "deliver", [], 2.0))
    assert store.fault is None and "again" in [m.body for m in await store.conversation("dm:1:2")]
    await store.close()
