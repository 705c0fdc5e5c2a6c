"""Sanctions: every change reaches the store and the cache together; a restart reads the same."""

from chatd.core.model import Directory, Role
from chatd.sanctions import Sanctions
from chatd.store import Store


async def test_mutes_watchlist_and_blocks_survive_a_restart(store_url: str) -> None:
    store = await Store.open(store_url)
    alex = await store.add_member("alex@h", "en", "calm-otter", Role.MEMBER)
    sam = await store.add_member("sam@h", "en", "brave-heron", Role.MEMBER)
    now = [1000.0]
    sanctions = Sanctions(store, Directory([alex, sam]), lambda: now[0])
    await sanctions.mute(alex, 1060.0, "flooding", "amber-guide")
    await sanctions.watch(sam, "risk", "amber-guide", True)
    await sanctions.block(alex, sam, True)
    assert sanctions.muted_until(alex) == 1060.0 and sanctions.muted_until(sam) is None
    assert sanctions.is_watched(sam) and not sanctions.is_watched(alex)
    assert sanctions.directory.has_blocked(alex, sam)

    again = Sanctions(store, Directory([alex, sam], await store.blocks()), lambda: now[0])
    await again.load()
    assert again.muted_until(alex) == 1060.0 and again.is_watched(sam) and again.directory.has_blocked(alex, sam)
    now[0] = 1061.0
    assert again.muted_until(alex) is None  # the mute ran out

    await sanctions.unmute(alex)
    await sanctions.watch(sam, "", "amber-guide", False)
    await sanctions.block(alex, sam, False)
    assert not sanctions.is_watched(sam) and not sanctions.directory.has_blocked(alex, sam)
    fresh = Sanctions(store, Directory([alex, sam], await store.blocks()), lambda: 0.0)
    await fresh.load()
    assert fresh.muted_until(alex) is None and not fresh.is_watched(sam) and not fresh.directory.has_blocked(alex, sam)
    await store.close()
