"""Taking over the slots of an instance that fell silent (chatd/takeover.py), instances wired to each other
in process: the news each tells reaches the others as NATS would carry it."""

from __future__ import annotations

import asyncio

from chatd.core.liveness import Liveness
from chatd.peers import Peers
from chatd.takeover import Takeover

BEAT = 0.05  # seconds: a fast heartbeat for the test


class Connection:
    """Stands for one component connection: open until stopped."""

    def __init__(self) -> None:
        self.open = True

    async def stop(self) -> None:
        self.open = False


class Instance:
    def __init__(self, name: str, everyone: list[Instance]):
        self.name, self.everyone = name, everyone
        self.peers = Peers()
        self.opened: list[Connection] = []
        self.peers.transmit = self._transmit
        self.takeover = Takeover(self.peers, name, self._open, Liveness(silent_after=3 * BEAT), heartbeat=BEAT)
        everyone.append(self)

    def _transmit(self, kind: str, data: bytes) -> None:
        for other in self.everyone:
            if other is not self:
                other.peers.hear(kind, data)

    def _open(self) -> list[Connection]:
        made = [Connection(), Connection()]  # one per domain
        self.opened += made
        return made  # type: ignore[return-value]

    def leave(self) -> None:
        self.everyone.remove(self)


def test_liveness_reports_a_silent_instance_once() -> None:
    liveness = Liveness(silent_after=3.0)
    liveness.seen("a", 0.0)
    liveness.seen("b", 2.0)
    assert liveness.fell_silent(3.5) == ["a"] and liveness.fell_silent(4.0) == []
    liveness.seen("b", 4.5)
    assert liveness.fell_silent(7.0) == [] and liveness.alive() == {"b"}


async def test_a_silent_instances_slots_are_taken_and_freed_for_a_newcomer() -> None:
    everyone: list[Instance] = []
    one, two = Instance("one", everyone), Instance("two", everyone)
    one.takeover.start()
    two.takeover.start()
    await asyncio.sleep(4 * BEAT)
    assert not one.opened and not two.opened  # both alive: nothing taken
    await two.takeover.stop()
    two.leave()  # killed: its heartbeats stop
    await asyncio.sleep(6 * BEAT)
    assert len(one.opened) == 2 and all(c.open for c in one.opened) and one.takeover.takeovers == 1
    three = Instance("three", everyone)
    await asyncio.wait_for(three.takeover.greet(), 10 * BEAT)  # one frees what it took and answers
    assert not any(c.open for c in one.opened) and one.takeover.taken == []
    three.takeover.start()
    await asyncio.sleep(6 * BEAT)
    assert len(one.opened) == 2 and not three.opened  # everyone alive: nothing taken again
    for instance in (one, three):
        await instance.takeover.stop()
