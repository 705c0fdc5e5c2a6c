"""Checking a pseudonym before it is given: the shape, then the same moderation as any member text."""

from __future__ import annotations

import time

from chatd.config import Config
from chatd.core import pseudonym as pseudonyms
from chatd.core.model import Member, Realm, Role, Status
from chatd.core.moderation import Moderation
from chatd.policy_loader import configured_policy
from policies import Action, Conversation, Field


class CommandError(Exception):
    """A command cannot be done as asked; the message says why."""


def check_pseudonym(config: Config, realm_id: str, name: str, moderation: Moderation | None = None) -> None:
    """Pseudonyms pass the same moderation hook as any member-authored text."""
    if not pseudonyms.is_valid(name):
        raise CommandError(
            f"pseudonym {name!r} is not valid: use two or three lowercase words joined by '-', e.g. calm-otter"
        )
    realm_config = next(r for r in config.realms if r.id == realm_id)
    realm = Realm(realm_config.id, realm_config.language, realm_config.people_domain, realm_config.rooms_domain)
    moderation = moderation or Moderation(configured_policy(config))
    author = Member(0, "", realm_id, name, Role.MEMBER, Status.ACTIVE, time.time())
    # Capitalized ("Jane Doe") so that the name detectors see a written name, not plain words.
    words = name.replace("-", " ").title()
    context = moderation.context(author, realm, Field.PSEUDONYM, Conversation.NONE, time.time())
    verdict = moderation.check(words, context)
    if verdict.action is not Action.DELIVER:
        kinds = ", ".join(sorted({f.kind for f in verdict.findings})) or verdict.action.value
        raise CommandError(f"pseudonym {name!r} refused by moderation ({kinds})")
