import asyncio
from pathlib import Path

import pytest

from chatd.core.model import Role, Status
from chatd.store import ArchivedMessage, Store, StoreError


async def test_members_blocks_and_grouped_archive(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite3")
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

    reopened = await Store.open(tmp_path / "s.sqlite3")  # migrations are not applied twice
    assert len(await reopened.members()) == 2
    await reopened.close()
