"""Stanza and event ids: random tails from the operating system's generator, never handed out twice."""

from __future__ import annotations

import os
import re
import uuid

from chatd import ids


def test_stanza_ids_are_time_ordered_and_unique_across_pool_refills() -> None:
    made = [ids.new_stanza_id() for _ in range(3 * ids.POOL_BYTES // 4)]  # three refills of the pool
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(r"[0-9a-f]+-[0-9a-f]{8}", i) for i in made)
    stamps = [int(i.partition("-")[0], 16) for i in made]
    assert stamps == sorted(stamps)


def test_event_ids_are_random_uuids_in_hex() -> None:
    made = {ids.new_event_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).hex == i for i in made)


def test_a_forked_child_never_repeats_its_parents_bytes() -> None:
    ids.random_bytes(1)  # the pool holds bytes the parent has not handed out yet
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        os.write(writer, ids.random_bytes(64))
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as pipe:
        childs = pipe.read()
    assert len(childs) == 64
    assert childs != ids.random_bytes(64)
