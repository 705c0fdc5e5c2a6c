"""Taking a delivered message back: by its author (XEP-0424), by a group's owner or a Wall Guide (XEP-0425).

Members see it retracted; the archive keeps the original for the Wall Guides, with a tombstone in its place.
"""

from __future__ import annotations

from chatd.core.model import Member, Realm
from chatd.core.pipeline import ArchivedMessage
from chatd.core.refusal import Refusal
from chatd.core.rooms import Room, may_manage
from chatd.core.shadow import Reviewed
from policies import Action, Verdict

RETRACTED = "retracted"  # by its author
REMOVED = "removed"  # by a Wall Guide or a group's owner
TAKEN_BACK = frozenset({RETRACTED, REMOVED})


def may_retract(found: ArchivedMessage | None, author: Member) -> Refusal | None:
    """An author takes back only their own messages."""
    if found is None:
        return Refusal("item-not-found", "error.retract_unknown")
    if found.sender_id != author.id:
        return Refusal("forbidden", "error.retract_not_yours", kind="auth")
    return None


def may_moderate(room: Room, member: Member, found: ArchivedMessage | None) -> Refusal | None:
    """A group's owner (and a Wall Guide) removes members' messages of the room; not the Wall Guides' posts."""
    refusal = may_manage(room, member)
    if refusal is not None:
        return refusal
    if found is None:
        return Refusal("item-not-found", "error.moderate_unknown")
    if found.sender_id == 0:
        return Refusal("forbidden", "error.moderate_guide_post", kind="auth")
    return None


def written(found: ArchivedMessage) -> str:
    """What the author wrote (the original is kept when it differs from what was delivered)."""
    return found.original if found.original is not None else (found.body or "")


def taken_back(
    realm: Realm, found: ArchivedMessage, actor: Member, author: Member | None, now: float, kind: str = RETRACTED
) -> Reviewed:
    """What the Wall Guides see: the original, who took it back (the actor), and whose it was."""
    text = written(found)
    recipient = None if author is None or author.id == actor.id else author
    return Reviewed(
        realm.id, found.conversation, kind, actor, recipient, text, Verdict(Action.DELIVER, text), found.stanza_id, now
    )
