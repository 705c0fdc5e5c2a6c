"""The vault commands' work; imported only when a `chatd vault` command runs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from pathlib import Path

from chatd.config import load_config
from chatd.store import Store
from chatd.store.audit import AuditLog
from chatd.store.registration import RegistrationStore
from chatd.vault.seal import VaultError, associated_data, load_public_key
from chatd.vault.unseal import generate, load_private_key, open_sealed, rewrap


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
    asyncio.run({"unseal": unseal, "rotate": rotate, "audit": audit}[args.action](args))


async def _open_store(args: argparse.Namespace) -> tuple[Store, RegistrationStore]:
    store = await Store.open(load_config(args.config).store.path)
    return store, RegistrationStore(store.db)


async def unseal(args: argparse.Namespace) -> None:
    reason = " ".join(args.reason.split())
    if len(reason) < 10:
        raise VaultError("give the reason for opening this record in a sentence (--reason)")
    who = args.clinician or getpass.getuser()
    store, vault = await _open_store(args)
    try:
        realms = [m.realm for m in await store.members(args.realm) if m.pseudonym == args.member]
        if not realms:
            raise VaultError(f"no member {args.member}" + (f" in realm {args.realm}" if args.realm else ""))
        if len(realms) > 1:
            raise VaultError(f"{args.member} exists in realms {', '.join(realms)}: say which with --realm")
        realm = realms[0]

        async def record(outcome: str) -> None:
            audit_log = await AuditLog.open(load_config(args.config).store.path)
            try:
                await audit_log.append(who, "vault.unseal", realm, args.member, {"reason": reason, "outcome": outcome})
            finally:
                await audit_log.close()

        try:
            private_key = load_private_key(args.private_key, read_passphrase(args.passphrase_file))
            entries = await vault.entries_of(realm, args.member)
            if not entries:
                raise VaultError(f"{args.member} has no sealed record (added by an operator, not registered)")
            opened = [
                (e, open_sealed(private_key, e.sealed, associated_data(e.realm, e.pseudonym, e.kind))) for e in entries
            ]
        except VaultError as exc:
            await record(f"refused: {exc}")
            raise
        await record("unsealed")
    finally:
        await store.close()
    print(f"member {args.member} (realm {realm}); opened by {who}; reason recorded in the audit trail")
    for entry, fields in opened:
        sealed_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry.created_at))
        print(f"\n[{entry.kind}] sealed {sealed_at}")
        for name, value in fields.items():
            print(f"  {name}: {value}")


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
