"""The vault commands' work; imported only when a `chatd vault` command runs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from pathlib import Path

from chatd import i18n
from chatd.config import load_config
from chatd.core.guides import may_see_last_address
from chatd.core.model import Member
from chatd.store import Store
from chatd.store.audit import AuditLog
from chatd.store.registration import RegistrationStore, VaultEntry
from chatd.vault.lastlog import last_login
from chatd.vault.seal import VaultError, associated_data, load_public_key
from chatd.vault.unseal import generate, load_private_key, open_sealed, rewrap

Opened = tuple[VaultEntry, dict[str, object]]


def read_passphrase(path: Path | None, confirm: bool = False) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise VaultError(f"cannot read a passphrase from {path}") from exc
    passphrase = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Passphrase again: ") != passphrase:
        raise VaultError("the passphrases differ")
    return passphrase


def run(args: argparse.Namespace) -> None:
    if args.action == "keygen":
        key = generate(args.private_key, args.public_key, read_passphrase(args.passphrase_file, confirm=True))
        print(f"key {key}: private key in {args.private_key} (keep it off the server), public key in {args.public_key}")
        return
    asyncio.run({"unseal": unseal, "emergency": emergency, "rotate": rotate, "audit": audit}[args.action](args))


async def _open_store(args: argparse.Namespace) -> tuple[Store, RegistrationStore]:
    store = await Store.open(load_config(args.config).store.path)
    return store, RegistrationStore(store.db)


def checked_reason(reason: str | None, language: str = "en") -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < 10:
        raise VaultError(i18n.text(language, "emergency.refused.reason"))
    return reason


async def find_member(store: Store, pseudonym: str, realm: str | None) -> Member:
    found = [m for m in await store.members(realm) if m.pseudonym == pseudonym]
    if not found:
        raise VaultError(f"no member {pseudonym}" + (f" in realm {realm}" if realm else ""))
    if len(found) > 1:
        raise VaultError(f"{pseudonym} exists in realms {', '.join(m.realm for m in found)}: say which with --realm")
    return found[0]


async def record(args: argparse.Namespace, who: str, action: str, member: Member, reason: str, outcome: str) -> None:
    """One audit entry: who, which pseudonym, why, what came of it (never what was shown)."""
    audit_log = await AuditLog.open(load_config(args.config).store.path)
    try:
        await audit_log.append(who, action, member.realm, member.pseudonym, {"reason": reason, "outcome": outcome})
    finally:
        await audit_log.close()


async def open_records(args: argparse.Namespace, vault: RegistrationStore, member: Member) -> list[Opened]:
    private_key = load_private_key(args.private_key, read_passphrase(args.passphrase_file))
    entries = await vault.entries_of(member.realm, member.pseudonym)
    return [(e, open_sealed(private_key, e.sealed, associated_data(e.realm, e.pseudonym, e.kind))) for e in entries]


def print_records(opened: list[Opened], language: str = "en") -> None:
    for entry, fields in opened:
        sealed_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry.created_at))
        print("\n" + i18n.text(language, "emergency.sealed", kind=entry.kind, time=sealed_at))
        for name, value in fields.items():
            print(f"  {name}: {value}")


async def senior_clinician(
    args: argparse.Namespace, store: Store, action: str, member: Member, reason: str
) -> tuple[Member, str]:
    """The Senior Clinician named by --clinician and their language; anyone else is refused (audited, in their
    language, or in every language for a name nobody has)."""
    languages = {realm.id: realm.language for realm in load_config(args.config).realms}
    clinicians = [m for m in await store.members() if m.pseudonym == args.clinician]
    senior = next((m for m in clinicians if may_see_last_address(m)), None)
    language = languages.get((senior or clinicians[0]).realm, "en") if clinicians else ""
    if senior is None:
        await record(args, args.clinician, action, member, reason, "refused: not a Senior Clinician")
        shown = [language] if language else list(i18n.LANGUAGES)
        raise VaultError(" / ".join(i18n.text(lang, "emergency.refused.role", who=args.clinician) for lang in shown))
    return senior, language


async def unseal(args: argparse.Namespace) -> None:
    reason = checked_reason(args.reason)
    store, vault = await _open_store(args)
    try:
        member = await find_member(store, args.member, args.realm)
        who = (await senior_clinician(args, store, "vault.unseal", member, reason))[0].pseudonym
        try:
            opened = await open_records(args, vault, member)
            if not opened:
                raise VaultError(f"{args.member} has no sealed record (added by an operator, not registered)")
        except VaultError as exc:
            await record(args, who, "vault.unseal", member, reason, f"refused: {exc}")
            raise
        await record(args, who, "vault.unseal", member, reason, "unsealed")
    finally:
        await store.close()
    print(f"member {args.member} (realm {member.realm}); opened by {who}; reason recorded in the audit trail")
    print_records(opened)


async def emergency(args: argparse.Namespace) -> None:
    """A member's last login (time, address) with their unsealed records, for a Senior Clinician only."""
    config = load_config(args.config)
    prosody_config = args.prosody_config or (
        config.registration.prosody_config if config.registration else "/etc/prosody/prosody.cfg.lua"
    )
    store, vault = await _open_store(args)
    try:
        member = await find_member(store, args.member, args.realm)
        reason = " ".join((args.reason or "").split())
        senior, language = await senior_clinician(args, store, "vault.emergency", member, reason)
        try:
            reason = checked_reason(reason, language)
        except VaultError:
            await record(args, senior.pseudonym, "vault.emergency", member, reason, "refused: no reason given")
            raise
        try:
            login = last_login(prosody_config, member.account)
            opened = await open_records(args, vault, member)
        except VaultError as exc:
            await record(args, senior.pseudonym, "vault.emergency", member, reason, f"refused: {exc}")
            raise
        await record(args, senior.pseudonym, "vault.emergency", member, reason, "shown")
    finally:
        await store.close()
    print(i18n.text(language, "emergency.header", member=member.pseudonym, realm=member.realm, who=senior.pseudonym))
    if login is None:
        print(i18n.text(language, "emergency.no_login"))
    else:
        address = login.address or i18n.text(language, "emergency.no_address")
        print(i18n.text(language, "emergency.last_login", time=login.at, address=address))
    if not opened:
        print(i18n.text(language, "emergency.no_record"))
    print_records(opened, language)


async def rotate(args: argparse.Namespace) -> None:
    new_public_key = load_public_key(args.new_public_key)
    private_key = load_private_key(args.private_key, read_passphrase(args.passphrase_file))
    store, vault = await _open_store(args)
    try:
        entries = await vault.all_entries()
        rewrapped = [(e.id, rewrap(private_key, new_public_key, e.sealed)) for e in entries]
        await vault.replace_wrapped_keys(rewrapped)
    finally:
        await store.close()
    print(f"{len(rewrapped)} sealed entries now open with the new key; point registration.vault_public_key at it")


async def audit(args: argparse.Namespace) -> None:
    store, _ = await _open_store(args)  # applies migrations, so the audit table exists
    await store.close()
    audit_log = await AuditLog.open(load_config(args.config).store.path)
    try:
        entries = await audit_log.records("vault.")
    finally:
        await audit_log.close()
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(e.at))
        print(f"{when}\t{e.actor}\t{e.realm}\t{e.target}\t{e.detail['outcome']}\t{e.detail['reason']}")
