"""Several chatd instances on one store (docs/scale-out.md): each one's connection stands for an instance here."""

from pathlib import Path

from chatd.core.model import Directory, Realm, Role
from chatd.recovery import Recovery
from chatd.sanctions import Sanctions
from chatd.store import ArchivedMessage, Store
from tests.support.postgres import PostgresServer, needs_postgres


async def test_a_mute_or_watch_made_by_one_instance_changes_the_store_version_the_other_reloads_on(
    store_url: str,
) -> None:
    one, other = await Store.open(store_url), await Store.open(store_url)
    alex = await one.add_member("alex@h", "en", "calm-otter", Role.MEMBER)
    sam = await one.add_member("sam@h", "en", "brave-heron", Role.MEMBER)
    here = Sanctions(one, Directory([alex, sam]), lambda: 1000.0)
    there = Sanctions(other, Directory([alex, sam]), lambda: 1000.0)
    await there.load()
    for change in (
        here.mute(alex, 1060.0, "flooding", "amber-guide"),
        here.watch(sam, "risk", "amber-guide", True),
        here.unmute(alex),
    ):
        version = await other.data_version()
        await change
        assert await other.data_version() != version  # what Runtime.watch_store waits for
    assert there.muted_until(alex) is None and not there.is_watched(sam)  # the cache before the reload
    await there.load()
    assert there.is_watched(sam) and there.sizes() == (0, 1)
    await here.mute(sam, 1060.0, "flooding", "amber-guide")
    await there.load()
    assert there.muted_until(sam) == 1060.0
    await one.close()
    await other.close()


class Sent:
    """Stands for a component stream: what was sent on it, by stanza id."""

    def __init__(self, domain: str):
        self.domain = domain
        self.ids: list[str] = []

    async def send(self, stanza: str, stanza_id: str) -> None:
        self.ids.append(stanza_id)


@needs_postgres
async def test_on_a_shared_store_what_another_instance_confirms_meanwhile_is_not_sent_again(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = await postgres_server.new_database()
    store = await Store.open(url)
    store.path = tmp_path / "chatd"  # the instance's own folder: journal and sent log
    alex = await store.add_member("alex@h", "en", "calm-otter", Role.MEMBER)
    sam = await store.add_member("sam@h", "en", "brave-heron", Role.MEMBER)
    for n in range(3):
        await store.archive(
            ArchivedMessage(f"id{n}", "dm:x", alex.id, sam.id, None, f"m{n}", None, "deliver", [], 1.0 + n, unsent=True)
        )
    recovery = Recovery(store, Directory([alex, sam]), {"en": Realm("en", "en", "en.h", "rooms.en.h")})
    await recovery.load()
    stream = Sent("en.h")
    await recovery._send_again(stream)  # type: ignore[arg-type]  # the stream is up: nothing sent at once
    assert stream.ids == []

    living = await Store.open(url)  # the instance that archived id1 confirms it meanwhile
    living.mark_sent(["id1"])
    await living.close()
    await recovery.send_unclaimed({"en.h": stream}, wait=0)  # type: ignore[dict-item]
    assert stream.ids == ["id0", "id2"]
    recovery.journal.close()
    await store.close()


async def test_one_rooms_row_with_its_members_is_what_another_instance_reads_again(store_url: str) -> None:
    one, other = await Store.open(store_url), await Store.open(store_url)
    alex = await one.add_member("alex@h", "en", "calm-otter", Role.MEMBER)
    sam = await one.add_member("sam@h", "en", "brave-heron", Role.MEMBER)
    await one.rooms.add_room("en", "walk", "group", "walk", "", b"s" * 16, alex.id)
    await one.rooms.add_room("en", "read", "group", "read", "", b"t" * 16, sam.id)
    await one.rooms.set_member("en", "walk", sam.id, True)
    [walk] = await other.rooms.rooms("en", "walk")
    assert (walk.local, walk.owner_id, walk.members) == ("walk", alex.id, frozenset({alex.id, sam.id}))
    assert await other.rooms.rooms("en", "nowhere") == [] and await other.rooms.rooms("fr", "walk") == []
    assert {r.local for r in await other.rooms.rooms("en")} == {"walk", "read"}
    await one.close()
    await other.close()
