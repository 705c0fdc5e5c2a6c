"""`chatd vault keygen|unseal|emergency|rotate|audit`: the Senior Clinical team's commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
) -> None:
    vault = commands.add_parser("vault", help="the registration vault (Senior Clinicians)")
    actions = vault.add_subparsers(dest="action", required=True)
    keygen = actions.add_parser("keygen", help="make the team's key pair")
    keygen.add_argument("--private-key", type=Path, required=True, help="where to write the encrypted private key")
    keygen.add_argument("--public-key", type=Path, required=True, help="where to write the public key (for chatd)")
    keygen.add_argument("--passphrase-file", type=Path, help="read the passphrase from this file, not the terminal")
    unseal = with_config(actions.add_parser("unseal", help="open a member's record (recorded in the audit trail)"))
    unseal.add_argument("--member", required=True, help="the member's pseudonym")
    unseal.add_argument("--realm", help="needed when the pseudonym exists in several realms")
    unseal.add_argument("--reason", required=True, help="why the record is opened (kept in the audit trail)")
    unseal.add_argument("--private-key", type=Path, required=True)
    unseal.add_argument("--passphrase-file", type=Path)
    unseal.add_argument("--clinician", required=True, help="your pseudonym: a Senior Clinician's")
    emergency = with_config(
        actions.add_parser(
            "emergency",
            help="a member's last login time and address with the unsealed records (Senior Clinicians; audited)",
        )
    )
    emergency.add_argument("--member", required=True, help="the member's pseudonym")
    emergency.add_argument("--realm", help="needed when the pseudonym exists in several realms")
    emergency.add_argument("--reason", help="why (required in a sentence; kept in the audit trail)")
    emergency.add_argument("--clinician", required=True, help="your pseudonym: a Senior Clinician's")
    emergency.add_argument("--private-key", type=Path, required=True)
    emergency.add_argument("--passphrase-file", type=Path)
    emergency.add_argument(
        "--prosody-config", help="default: registration.prosody_config or /etc/prosody/prosody.cfg.lua"
    )
    rotate = with_config(actions.add_parser("rotate", help="re-wrap every data key for a new public key"))
    rotate.add_argument("--private-key", type=Path, required=True, help="the current private key")
    rotate.add_argument("--passphrase-file", type=Path)
    rotate.add_argument("--new-public-key", type=Path, required=True)
    with_config(actions.add_parser("audit", help="list every unseal attempt"))


def run(args: argparse.Namespace) -> None:
    # Imported here so that the running service never loads the unsealing code.
    from chatd.vault import commands

    commands.run(args)
