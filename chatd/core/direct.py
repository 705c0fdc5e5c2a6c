"""Who may write to whom: admission to a realm and one-on-one chat by pseudonym."""

from __future__ import annotations

from chatd.core import keys
from chatd.core.model import Directory, Member, Realm
from chatd.core.refusal import Refusal


def admit(account: str, realm: Realm, directory: Directory) -> Member | Refusal:
    """The sender's member record if it may use this realm, else why not."""
    member = directory.by_account(account)
    if member is None:
        return Refusal("registration-required", "error.not_member", kind="auth", bilingual=True)
    if member.realm != realm.id:
        return Refusal("forbidden", "error.other_realm", kind="auth", bilingual=True)
    if not member.active:
        return Refusal("forbidden", "error.suspended", kind="auth")
    return member


def admit_sender(
    sender: tuple[str, str, str], members_host: str, realm: Realm, directory: Directory
) -> Member | Refusal:
    """A stanza's sender (local, domain, resource) as a member of this realm, or why not: only members' accounts."""
    if sender[1] != members_host or not sender[0]:
        return Refusal("forbidden", "error.not_member", kind="auth", bilingual=True)
    return admit(f"{sender[0]}@{sender[1]}", realm, directory)


def find_recipient(sender: Member, realm: Realm, pseudonym: str, directory: Directory) -> Member | Refusal:
    """The member behind a pseudonym in the sender's realm, if the sender may reach them."""
    target = directory.by_pseudonym(realm.id, pseudonym)
    if target is None or not target.active:
        return Refusal("item-not-found", "error.unknown_pseudonym", params={"name": pseudonym})
    if target.id == sender.id:
        return Refusal("not-acceptable", "error.self_message")
    if directory.has_blocked(sender, target):
        return Refusal(
            "not-acceptable",
            "error.you_blocked",
            params={"name": pseudonym, "guide": realm.guide_jid},
        )
    if directory.has_blocked(target, sender):
        return Refusal("service-unavailable", "error.not_delivered")
    return target


def conversation_key(a: Member, b: Member) -> str:
    return str(keys.dm(a.id, b.id))
