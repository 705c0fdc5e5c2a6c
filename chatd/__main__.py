"""chatd command line: run the service, manage members, start and stop a local stack."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from pathlib import Path

from chatd.config import Config, ConfigError, load_config
from chatd.core import pseudonym as pseudonyms
from chatd.core.audit import verify
from chatd.core.model import Role, Status
from chatd.core.moderation import Moderation
from chatd.policy_loader import PolicyLoadError, configured_policy
from chatd.pseudonyms import CommandError, check_pseudonym
from chatd.stack import SERVERS, StackError
from chatd.store import Store, StoreError
from chatd.store.audit import AuditLog
from chatd.vault import cli as vault_cli
from chatd.vault.seal import VaultError

DEFAULT_CONFIG = os.environ.get("CHATD_CONFIG", "conf/chatd.toml")


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def suggest_accepted(config: Config, realm_id: str, taken: set[str], moderation: Moderation) -> str:
    """A free suggested pseudonym that the moderation hook accepts (some look like real names)."""
    refused = set(taken)
    for _ in range(50):
        name = pseudonyms.suggest(refused)
        try:
            check_pseudonym(config, realm_id, name, moderation)
        except CommandError:
            refused.add(name)
            continue
        return name
    raise CommandError("no acceptable pseudonym found; give one with --pseudonym")


async def member_add(args: argparse.Namespace) -> None:
    config = _config(args)
    if args.realm not in {r.id for r in config.realms}:
        raise CommandError(f"unknown realm {args.realm!r}")
    local, _, host = args.account.partition("@")
    if not local or host != config.server.members_host:
        raise CommandError(f"account must look like name@{config.server.members_host}")
    store = await Store.open(config.store.path)
    try:
        taken = {m.pseudonym for m in await store.members(args.realm)}
        # the policy is built once (seconds: its lexicons and models) for the suggestion and the check
        moderation = Moderation(configured_policy(config))
        name = args.pseudonym or suggest_accepted(config, args.realm, taken, moderation)
        check_pseudonym(config, args.realm, name, moderation)
        member = await store.add_member(args.account, args.realm, name, Role(args.role))
    finally:
        await store.close()
    await _audit(config, args, "member.add", member.realm, member.pseudonym, {"role": member.role.value})
    print(f"added {member.pseudonym} ({member.role.value}) to realm {member.realm}")


async def member_list(args: argparse.Namespace) -> None:
    config = _config(args)
    store = await Store.open(config.store.path)
    try:
        members = await store.members(args.realm)
    finally:
        await store.close()
    for m in members:
        account = m.account if args.show_accounts else "-"
        print(f"{m.realm}\t{m.pseudonym}\t{m.role.value}\t{m.status.value}\t{account}")


async def member_status(args: argparse.Namespace, status: Status) -> None:
    config = _config(args)
    store = await Store.open(config.store.path)
    try:
        member = await store.set_status(args.realm, args.pseudonym, status)
    finally:
        await store.close()
    await _audit(config, args, f"member.{args.action}", member.realm, member.pseudonym, {"reason": args.reason or ""})
    print(f"{member.pseudonym} in realm {member.realm} is now {member.status.value}")


async def _audit(config: Config, args: argparse.Namespace, action: str, realm: str, target: str, detail: dict) -> None:
    audit_log = await AuditLog.open(config.store.path)
    try:
        await audit_log.append(args.actor or getpass.getuser(), action, realm, target, detail)
    finally:
        await audit_log.close()


async def audit_command(args: argparse.Namespace) -> int:
    config = _config(args)
    store = await Store.open(config.store.path)  # applies migrations
    await store.close()
    audit_log = await AuditLog.open(config.store.path)
    try:
        records = await audit_log.records()
    finally:
        await audit_log.close()
    if args.action == "head":
        print(f"{records[-1].seq} {records[-1].hash}" if records else "empty")
        return 0
    if args.action == "list":
        for r in records[-args.limit :]:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(r.at))
            print(f"{r.seq}\t{when}\t{r.actor}\t{r.action}\t{r.realm}\t{r.target}\t{json.dumps(r.detail)}")
        return 0
    problems = verify(records, head=args.head)
    for problem in problems:
        print(f"audit: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"audit log intact: {len(records)} entries" + (f", head {records[-1].hash}" if records else ""))
    return 0


def run_service(args: argparse.Namespace) -> None:
    from chatd.app import configure_logging, run

    config = _config(args)
    configure_logging(config.log_level)
    asyncio.run(run(config))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="chatd", description="Moderated peer-support chat on XMPP")
    commands = top.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", default=DEFAULT_CONFIG, help="chatd TOML file (default: %(default)s)")
        return p

    with_config(commands.add_parser("run", help="run the service"))
    member = commands.add_parser("member", help="manage members").add_subparsers(dest="action", required=True)
    add = with_config(member.add_parser("add", help="add a member"))
    add.add_argument("--account", required=True, help="bare JID of the member's account")
    add.add_argument("--realm", required=True)
    add.add_argument("--pseudonym", help="word-word name; suggested when left out")
    add.add_argument("--role", default="member", choices=[r.value for r in Role])
    listing = with_config(member.add_parser("list", help="list members"))
    listing.add_argument("--realm")
    listing.add_argument("--show-accounts", action="store_true", help="also print account JIDs")
    for action in ("suspend", "reinstate"):
        p = with_config(member.add_parser(action, help=f"{action} a member"))
        p.add_argument("--realm", required=True)
        p.add_argument("--reason", help="kept in the audit log")
        p.add_argument("pseudonym")
    for p in (add, *(member.choices[a] for a in ("suspend", "reinstate"))):
        p.add_argument("--actor", help="who does this, for the audit log (default: the OS user)")
    audit = commands.add_parser("audit", help="the hash-chained audit log").add_subparsers(dest="action", required=True)
    verify_parser = with_config(audit.add_parser("verify", help="check that no entry was edited or deleted"))
    verify_parser.add_argument(
        "--head", help="the head hash recorded earlier (`chatd audit head`): also catches removals at the end"
    )
    with_config(audit.add_parser("head", help="print the last entry's number and hash, to keep elsewhere"))
    list_parser = with_config(audit.add_parser("list", help="print the last entries"))
    list_parser.add_argument("--limit", type=int, default=50)
    vault_cli.add_parser(commands, with_config)
    check = with_config(commands.add_parser("check", help="is this deployment ready? one line per problem"))
    check.add_argument(
        "--prosody-config", type=Path, help="default: registration.prosody_config or /etc/prosody/prosody.cfg.lua"
    )
    check.add_argument("--logrotate-dir", type=Path, default=Path("/etc/logrotate.d"), help="logrotate's rules")
    deploy = commands.add_parser("deploy", help="files for a real server").add_subparsers(dest="action", required=True)
    rendering = with_config(deploy.add_parser("render", help="render Prosody's config, systemd units, certbot hook"))
    rendering.add_argument("--domain", help="the domain members log in to (must be server.members_host)")
    rendering.add_argument("--out", type=Path, required=True, help="a new folder; it mirrors the server's file system")
    rendering.add_argument("--chatd-command", default="/opt/chatd/venv/bin/chatd", help="chatd on the server")
    rendering.add_argument("--chatd-config", default="/etc/chatd/chatd.toml", help="chatd's config on the server")
    stack = commands.add_parser("stack", help="a local Prosody (or ejabberd) + chatd on loopback")
    stack_actions = stack.add_subparsers(dest="action", required=True)
    for action in ("up", "down", "status"):
        p = stack_actions.add_parser(action)
        p.add_argument("--run-dir", default=".run", type=Path)
        if action == "up":
            p.add_argument("--server", choices=SERVERS, default="prosody", help="the XMPP server (default: prosody)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "run":
            run_service(args)
        elif args.command == "member":
            if args.action == "add":
                asyncio.run(member_add(args))
            elif args.action == "list":
                asyncio.run(member_list(args))
            else:
                status = Status.SUSPENDED if args.action == "suspend" else Status.ACTIVE
                asyncio.run(member_status(args, status))
        elif args.command == "vault":
            vault_cli.run(args)
        elif args.command == "audit":
            return asyncio.run(audit_command(args))
        elif args.command == "check":
            from chatd.deploy.check import run as run_check

            return run_check(Path(args.config), args.prosody_config, args.logrotate_dir)
        elif args.command == "deploy":
            from chatd.deploy.render import render_command

            render_command(_config(args), args.domain, args.out, args.chatd_command, args.chatd_config)
        elif args.command == "stack":
            from chatd import demo

            if args.action == "up":
                demo.up(args.run_dir, server=args.server)
            else:
                getattr(demo, args.action)(args.run_dir)
    except (ConfigError, PolicyLoadError, StoreError, CommandError, VaultError, StackError) as exc:
        print(f"chatd: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
