"""Registrations in progress and the vault's sealed entries (unseals go to the audit log)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatd.store.db import Database
from chatd.vault.seal import Sealed


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    realm: str
    pseudonym: str
    language: str


@dataclass(frozen=True, slots=True)
class VaultEntry:
    id: int
    realm: str
    pseudonym: str
    kind: str
    sealed: Sealed
    created_at: float


ENTRY_QUERY = (
    "SELECT e.id, r.realm, r.pseudonym, e.kind, e.key_id, e.wrapped_key, e.nonce, e.ciphertext, e.created_at"
    " FROM vault_entries e JOIN registrations r ON r.id = e.registration_id"
)


def _entry(row: Any) -> VaultEntry:
    sealed = Sealed(row[4], bytes(row[5]), bytes(row[6]), bytes(row[7]))
    return VaultEntry(row[0], row[1], row[2], row[3], sealed, row[8])


class RegistrationStore:
    """Works on the chat store's connection (same file, separate tables)."""

    def __init__(self, db: Database):
        self.db = db

    async def _insert_entry(self, registration_id: int, kind: str, sealed: Sealed, now: float) -> None:
        await self.db.execute(
            "INSERT INTO vault_entries (registration_id, kind, key_id, wrapped_key, nonce, ciphertext, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (registration_id, kind, sealed.key_id, sealed.wrapped_key, sealed.nonce, sealed.ciphertext, now),
        )

    async def purge_expired(self, now: float) -> None:
        await self.db.execute(
            "DELETE FROM registrations WHERE member_id IS NULL AND claimed_at IS NULL AND expires_at < ?", (now,)
        )
        await self.db.commit()

    async def pseudonym_taken(self, realm: str, pseudonym: str, now: float) -> bool:
        """Taken by a member, or by a registration whose link is still valid or in use."""
        async with self.db.execute(
            "SELECT 1 FROM members WHERE realm = ? AND pseudonym = ?"
            " UNION ALL SELECT 1 FROM registrations WHERE realm = ? AND pseudonym = ?"
            " AND (expires_at > ? OR claimed_at IS NOT NULL OR member_id IS NOT NULL) LIMIT 1",
            (realm, pseudonym, realm, pseudonym, now),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def add_pending(
        self,
        realm: str,
        pseudonym: str,
        language: str,
        token_hash: bytes,
        expires_at: float,
        sealed: Sealed,
        now: float,
    ) -> int:
        cursor = await self.db.execute(
            "INSERT INTO registrations (realm, pseudonym, language, token_hash, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (realm, pseudonym, language, token_hash, expires_at, now),
        )
        registration_id = cursor.lastrowid or 0
        await self._insert_entry(registration_id, "registration", sealed, now)
        await self.db.commit()
        return registration_id

    async def forget(self, registration_id: int) -> None:
        await self.db.execute("DELETE FROM registrations WHERE id = ? AND member_id IS NULL", (registration_id,))
        await self.db.commit()

    async def usable(self, token_hash: bytes, now: float) -> Pending | None:
        """The registration behind an activation link that has not expired and was not used."""
        async with self.db.execute(
            "SELECT id, realm, pseudonym, language FROM registrations"
            " WHERE token_hash = ? AND claimed_at IS NULL AND member_id IS NULL AND expires_at > ?",
            (token_hash, now),
        ) as cursor:
            row = await cursor.fetchone()
        return Pending(row[0], row[1], row[2], row[3]) if row else None

    async def claim(self, token_hash: bytes, now: float) -> Pending | None:
        """Takes the link for one activation; a second claim of the same link gets None."""
        pending = await self.usable(token_hash, now)
        if pending is None:
            return None
        cursor = await self.db.execute(
            "UPDATE registrations SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL", (now, pending.id)
        )
        await self.db.commit()
        return pending if cursor.rowcount == 1 else None

    async def release(self, registration_id: int) -> None:
        """The activation failed for a reason the person can fix: the link works again."""
        await self.db.execute(
            "UPDATE registrations SET claimed_at = NULL WHERE id = ? AND member_id IS NULL", (registration_id,)
        )
        await self.db.commit()

    async def complete(
        self, registration_id: int, member_id: int, extra: Sequence[tuple[str, Sealed]], now: float
    ) -> None:
        """Binds the sealed record to the new member; the link is gone for good."""
        for kind, sealed in extra:
            await self._insert_entry(registration_id, kind, sealed, now)
        await self.db.execute(
            "UPDATE registrations SET member_id = ?, token_hash = NULL, expires_at = NULL WHERE id = ?",
            (member_id, registration_id),
        )
        await self.db.commit()

    async def add_shared(
        self, member_id: int, realm: str, pseudonym: str, language: str, sealed: Sealed, now: float
    ) -> None:
        """Contact details a member chose to share with the guides, sealed like registration data."""
        async with self.db.execute("SELECT id FROM registrations WHERE member_id = ?", (member_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:  # a member added by an operator has no registration yet
            cursor = await self.db.execute(
                "INSERT INTO registrations (realm, pseudonym, language, member_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (realm, pseudonym, language, member_id, now),
            )
            registration_id = cursor.lastrowid or 0
        else:
            registration_id = row[0]
        await self._insert_entry(registration_id, "shared", sealed, now)
        await self.db.commit()

    # the vault (clinicians' command line)

    async def entries_of(self, realm: str, pseudonym: str) -> list[VaultEntry]:
        async with self.db.execute(
            f"{ENTRY_QUERY} WHERE r.member_id IS NOT NULL AND r.realm = ? AND r.pseudonym = ? ORDER BY e.id",
            (realm, pseudonym),
        ) as cursor:
            return [_entry(row) for row in await cursor.fetchall()]

    async def all_entries(self) -> list[VaultEntry]:
        async with self.db.execute(f"{ENTRY_QUERY} ORDER BY e.id") as cursor:
            return [_entry(row) for row in await cursor.fetchall()]

    async def replace_wrapped_keys(self, rewrapped: Sequence[tuple[int, Sealed]]) -> None:
        """One transaction: either every entry moves to the new key or none does."""
        try:
            for entry_id, sealed in rewrapped:
                await self.db.execute(
                    "UPDATE vault_entries SET key_id = ?, wrapped_key = ? WHERE id = ?",
                    (sealed.key_id, sealed.wrapped_key, entry_id),
                )
            await self.db.commit()
        except Exception:
            await self.db.rollback()
            raise
