"""The core pipeline as a harness: a member's text and state in, effects out, no network."""

import pytest

from chatd.core.fragments import Completion, Piece
from chatd.core.model import Member, Realm, Role, Status
from chatd.core.pipeline import (
    THREAD_QUIET_SECONDS,
    Archive,
    Deliver,
    Hold,
    Notice,
    Refuse,
    Reject,
    Report,
    Retract,
    Review,
    State,
    TextEvent,
    submit,
)
from policies import Action, Conversation, Field, Finding, Verdict

EN = Realm("en", "en", "en.example", "rooms.en.example")
ALEX = Member(1, "alex@x", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)
SAM = Member(2, "sam@x", "en", "brave-heron", Role.MEMBER, Status.ACTIVE, 0.0)
BOT = Member(3, "bot@x", "en", "helper-bot", Role.BOT, Status.ACTIVE, 0.0)
NOW = 10_000.0

# every place a member's text is archived: one-on-one, room, room-private, Ask a Wall Guide, a bot's post
ARCHIVED_PLACES = {
    "direct": TextEvent(ALEX, EN, "hello", Field.BODY, Conversation.DIRECT, "dm:1:2", "message", SAM, "c1", "x"),
    "correction": TextEvent(
        ALEX, EN, "hello", Field.CORRECTION, Conversation.DIRECT, "dm:1:2", "correction", SAM, "c1", "x"
    ),
    "room": TextEvent(ALEX, EN, "hello", Field.BODY, Conversation.ROOM, "room:en:general", "message", None, "c1"),
    "private": TextEvent(
        ALEX, EN, "hello", Field.BODY, Conversation.ROOM_PRIVATE, "roompm:en:general:1:2", "private", SAM, "c1"
    ),
    "guide": TextEvent(ALEX, EN, "hello", Field.BODY, Conversation.GUIDE, "guide:1", "guide", None, "c1"),
    "bot": TextEvent(BOT, EN, "hello", Field.BODY, Conversation.ROOM, "room:en:general", "message"),
}
# texts that are reviewed but not archived: subjects, invitation reasons, group names and descriptions
SUBJECT = TextEvent(ALEX, EN, "our walks", Field.SUBJECT, Conversation.GROUP, "room:en:walks", "subject")
STATUS = TextEvent(ALEX, EN, "away", Field.STATUS, Conversation.ROOM, "room:en:general", "config")
NEW_GROUP = TextEvent(
    ALEX, EN, "our-walks", Field.GROUP_NAME, Conversation.GROUP, "room:en:our-walks", "config", verbatim=True
)

EMAIL = Finding("pii.email", 2, 2, 7, "pii")
HELD = Verdict(Action.HOLD, "hello", (EMAIL,), rules=("pii",))
REDACTED = Verdict(Action.REDACT, "he[email removed]", (EMAIL,), rules=("pii",))
REJECTED = Verdict(Action.REJECT, "hello", rules=("harassment",))
DELIVERED = Verdict(Action.DELIVER, "hello")


def kinds(effects: tuple[object, ...]) -> list[str]:
    return [type(e).__name__ for e in effects]


def archived(effects: tuple[object, ...]) -> Archive:
    return next(e for e in effects if isinstance(e, Archive))


@pytest.mark.parametrize("place", sorted(ARCHIVED_PLACES))
def test_a_held_text_is_archived_without_a_body_everywhere(place: str) -> None:
    event = ARCHIVED_PLACES[place]
    outcome = submit(event, State(), NOW, HELD, "s-1")
    record = archived(outcome.effects).record
    assert (record.body, record.original, record.verdict) == (None, "hello", "hold")
    assert record.findings == [EMAIL.as_dict()] and record.conversation == event.conversation
    assert outcome.delivered is None


@pytest.mark.parametrize("place", sorted(ARCHIVED_PLACES))
@pytest.mark.parametrize("verdict", [DELIVERED, REDACTED, HELD, REJECTED], ids=lambda v: v.action.value)
def test_only_one_on_one_texts_that_are_delivered_wait_for_the_servers_confirmation(
    place: str, verdict: Verdict
) -> None:
    record = archived(submit(ARCHIVED_PLACES[place], State(), NOW, verdict, "s-1").effects).record
    assert record.unsent == (place in ("direct", "correction") and verdict.delivers)


@pytest.mark.parametrize("place", sorted(ARCHIVED_PLACES))
def test_a_redacted_text_keeps_its_original_beside_the_delivered_body(place: str) -> None:
    outcome = submit(ARCHIVED_PLACES[place], State(), NOW, REDACTED, "s-1")
    record = archived(outcome.effects).record
    assert (record.body, record.original, record.verdict) == ("he[email removed]", "hello", "redact")


@pytest.mark.parametrize("place", ["direct", "room", "private", "bot"])
def test_archive_then_review_then_delivery_then_the_authors_notice(place: str) -> None:
    outcome = submit(ARCHIVED_PLACES[place], State(), NOW, REDACTED, "s-1")
    assert kinds(outcome.effects) == ["Archive", "Review", "Deliver", "Notice"]
    assert outcome.effects[2] == Deliver("he[email removed]", "s-1")
    notice = outcome.effects[3]
    assert isinstance(notice, Notice) and notice.key == "notice.redacted" and notice.verdict is REDACTED


def test_held_and_rejected_texts_reach_nobody() -> None:
    event = ARCHIVED_PLACES["direct"]
    held = submit(event, State(), NOW, HELD, "s-1")
    assert kinds(held.effects) == ["Archive", "Review", "Hold", "Notice"]
    assert held.effects[3] == Notice("notice.held", {"target": "x"})
    rejected = submit(event, State(), NOW, REJECTED, "s-1")
    assert kinds(rejected.effects) == ["Archive", "Review", "Reject"]


def test_the_review_record_names_the_conversation_and_the_archived_id() -> None:
    outcome = submit(ARCHIVED_PLACES["private"], State(), NOW, DELIVERED, "s-1")
    review = next(e for e in outcome.effects if isinstance(e, Review)).record
    assert (review.conversation, review.kind, review.recipient, review.stanza_id) == (
        "roompm:en:general:1:2",
        "private",
        SAM,
        "s-1",
    )
    subject = submit(SUBJECT, State(), NOW, DELIVERED, "s-2")
    assert kinds(subject.effects) == ["Review", "Deliver"]  # a subject is not archived: no id to act on
    assert next(e for e in subject.effects if isinstance(e, Review)).record.stanza_id is None


def test_reactions_are_archived_in_rooms_only_with_what_they_point_at() -> None:
    """A room's archive (MAM) shows reactions again; in a chat or a room's private messages the server's own
    archive of the accounts keeps them."""
    refs = '{"reactions_to": "s-0"}'
    emoji = Verdict(Action.DELIVER, "👍")
    for place, conversation, kept in (
        (Conversation.ROOM, "room:en:general", True),
        (Conversation.GROUP, "room:en:walks", True),
        (Conversation.DIRECT, "dm:1:2", False),
        (Conversation.ROOM_PRIVATE, "roompm:en:general:1:2", False),
    ):
        event = TextEvent(ALEX, EN, "👍", Field.BODY, place, conversation, "reaction", None, "c1", verbatim=True,
                          refs=refs)  # fmt: skip
        effects = submit(event, State(), NOW, emoji, "s-1").effects
        assert kinds(effects)[0] == ("Archive" if kept else "Review")
        if kept:
            assert (archived(effects).record.refs, archived(effects).record.client_id) == (refs, "c1")


def test_a_replys_quote_is_kept_as_it_was_delivered() -> None:
    """The quote's range is kept for the text delivered (redaction may change its length)."""
    text = "> my mail is a@b.c\nthanks, got it"
    reply = TextEvent(ALEX, EN, text, Field.BODY, Conversation.ROOM, "room:en:general", "message", quote_end=19)
    redacted = Verdict(Action.REDACT, "> my mail is [email removed]\nthanks, got it", (EMAIL,), rules=("pii",))
    assert archived(submit(reply, State(), NOW, redacted, "s-1").effects).record.quote_end == 29
    assert archived(submit(reply, State(), NOW, DELIVERED, "s-1").effects).record.quote_end == 0  # no quote left
    assert archived(submit(reply, State(), NOW, HELD, "s-1").effects).record.quote_end == 0  # nothing delivered
    assert archived(submit(reply, State(), NOW, Verdict(Action.DELIVER, text), "s-1").effects).record.quote_end == 19


def test_without_a_verdict_the_text_needs_review() -> None:
    outcome = submit(ARCHIVED_PLACES["room"], State(watched=True, recent_messages=5), NOW)
    assert outcome.needs_verdict and outcome.effects == ()


def test_a_muted_author_is_refused_before_review_but_may_still_ask_a_wall_guide() -> None:
    state = State(muted_until=NOW + 60)
    outcome = submit(ARCHIVED_PLACES["room"], state, NOW)
    assert not outcome.needs_verdict and kinds(outcome.effects) == ["Refuse"]
    refuse = outcome.effects[0]
    assert isinstance(refuse, Refuse) and refuse.refusal.text == "error.muted" and refuse.refusal.kind == "wait"
    assert submit(ARCHIVED_PLACES["guide"], state, NOW).needs_verdict
    assert submit(STATUS, state, NOW).effects == ()  # a status text is dropped, the presence still goes
    assert submit(ARCHIVED_PLACES["room"], State(muted_until=NOW - 1), NOW).needs_verdict  # the mute ended


def test_a_report_is_filed_and_never_reviewed_or_delivered() -> None:
    event = TextEvent(
        ALEX, EN, "!report rude to me", Field.BODY, Conversation.ROOM, "room:en:general", "message", reply_to="m-7"
    )
    outcome = submit(event, State(muted_until=NOW + 60), NOW)
    assert outcome.effects == (
        Report("room:en:general", "rude to me", reply_to="m-7"),
        Notice("notice.report_received"),
    )


def test_a_report_to_wallguide_names_the_quoted_text() -> None:
    event = TextEvent(
        ALEX, EN, "> you are worthless\n!report insult", Field.BODY, Conversation.GUIDE, "guide:1", "guide"
    )
    outcome = submit(event, State(), NOW)
    assert outcome.effects[0] == Report("guide:1", "insult", quote="you are worthless")


def test_a_guide_thread_says_a_guide_will_answer_only_after_a_quiet_while() -> None:
    event = ARCHIVED_PLACES["guide"]
    first = submit(event, State(), NOW, DELIVERED, "s-1")
    assert kinds(first.effects) == ["Archive", "Review", "Notice"]  # nothing is delivered to members
    recent = submit(event, State(last_in_conversation=NOW - 60), NOW, DELIVERED, "s-2")
    assert kinds(recent.effects) == ["Archive", "Review"]
    later = submit(event, State(last_in_conversation=NOW - THREAD_QUIET_SECONDS - 1), NOW, HELD, "s-3")
    assert kinds(later.effects) == ["Archive", "Review", "Notice"]


def test_a_new_groups_name_is_delivered_as_written_or_refused() -> None:
    assert submit(NEW_GROUP, State(), NOW, Verdict(Action.DELIVER, "our-walks"), "s").delivered == "our-walks"
    redacted = submit(NEW_GROUP, State(), NOW, REDACTED, "s")
    assert kinds(redacted.effects) == ["Review", "Reject"] and redacted.delivered is None


def test_a_status_text_is_delivered_or_dropped_without_a_word() -> None:
    assert kinds(submit(STATUS, State(), NOW, REJECTED, "s").effects) == ["Review"]
    assert submit(STATUS, State(), NOW, REDACTED, "s").delivered == "he[email removed]"
    assert isinstance(submit(ARCHIVED_PLACES["room"], State(), NOW, HELD, "s").effects[2], Hold)
    assert isinstance(submit(SUBJECT, State(), NOW, REJECTED, "s").effects[1], Reject)


def test_a_text_completing_earlier_pieces_takes_them_back_after_its_delivery() -> None:
    earlier = (Piece("s-1", "c-1", "my number is 613", NOW - 20), Piece("s-2", "c-2", "555", NOW - 10))
    joined_verdict = Verdict(Action.REDACT, "my number is [phone number removed]", (EMAIL,), rules=("pii",))
    newest = Verdict(Action.REDACT, "[phone number removed] text me", (EMAIL,), rules=("pii",))
    pieces = Completion(newest, earlier, "my number is 613 555 0142 text me", joined_verdict)
    event = ARCHIVED_PLACES["direct"]
    outcome = submit(event, State(), NOW, DELIVERED, "s-3", pieces)
    assert kinds(outcome.effects) == [
        "Archive",
        "Review",
        "Deliver",
        "Retract",
        "Retract",
        "Review",
        "Notice",
        "Notice",
    ]
    assert archived(outcome.effects).record.body == "[phone number removed] text me"  # the completing text redacted
    assert [e.piece.stanza_id for e in outcome.effects if isinstance(e, Retract)] == ["s-1", "s-2"]
    joined = [e.record for e in outcome.effects if isinstance(e, Review)][-1]
    assert (joined.kind, joined.original, joined.stanza_id) == ("pieces", pieces.joined, "s-3")
    told = [e for e in outcome.effects if isinstance(e, Notice)]
    assert told[0] == Notice("notice.pieces_removed", {"target": "brave-heron", "count": "2"}, joined_verdict)
    assert told[1].key == "notice.redacted"


def test_only_members_messages_enter_the_pieces_window() -> None:
    assert ARCHIVED_PLACES["direct"].in_pieces_window and ARCHIVED_PLACES["private"].in_pieces_window
    assert not ARCHIVED_PLACES["correction"].in_pieces_window  # corrections do not
    assert not ARCHIVED_PLACES["bot"].in_pieces_window and not ARCHIVED_PLACES["guide"].in_pieces_window
    assert not SUBJECT.in_pieces_window
