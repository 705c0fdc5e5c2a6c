"""Members, realms and the in-memory directory of both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    WALL_GUIDE = "wall_guide"
    SENIOR_CLINICIAN = "senior_clinician"
    BOT = "bot"


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Realm:
    id: str
    language: str
    people_domain: str
    rooms_domain: str

    @property
    def guide_jid(self) -> str:
        return f"wallguide@{self.people_domain}"


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    account: str  # bare JID of the member's account; never shown to anyone
    realm: str
    pseudonym: str
    role: Role
    status: Status
    joined_at: float  # unix seconds

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


class Directory:
    """Who is who, and who blocked whom; rebuilt from the store when it changes."""

    def __init__(self, members: Iterable[Member] = (), blocks: Iterable[tuple[int, int]] = ()):
        self._by_account: dict[str, Member] = {}
        self._by_pseudonym: dict[tuple[str, str], Member] = {}
        self._by_id: dict[int, Member] = {}
        self._blocks: set[tuple[int, int]] = set()
        self.replace(members, blocks)

    def replace(self, members: Iterable[Member], blocks: Iterable[tuple[int, int]]) -> None:
        self._by_account = {m.account: m for m in members}
        self._by_pseudonym = {(m.realm, m.pseudonym): m for m in self._by_account.values()}
        self._by_id = {m.id: m for m in self._by_account.values()}
        self._blocks = set(blocks)

    def __len__(self) -> int:
        return len(self._by_account)

    def by_id(self, member_id: int) -> Member | None:
        return self._by_id.get(member_id)

    def by_account(self, account: str) -> Member | None:
        return self._by_account.get(account)

    def by_pseudonym(self, realm: str, pseudonym: str) -> Member | None:
        return self._by_pseudonym.get((realm, pseudonym))

    def has_blocked(self, blocker: Member, blocked: Member) -> bool:
        return (blocker.id, blocked.id) in self._blocks

    def blocked_by(self, blocker: Member) -> list[Member]:
        ids = {b for a, b in self._blocks if a == blocker.id}
        return sorted((m for m in self._by_account.values() if m.id in ids), key=lambda m: m.pseudonym)

    def set_block(self, blocker: Member, blocked: Member, on: bool) -> None:
        if on:
            self._blocks.add((blocker.id, blocked.id))
        else:
            self._blocks.discard((blocker.id, blocked.id))
