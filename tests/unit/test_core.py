import pytest

from chatd.core.commands import Command, parse_command
from chatd.core.direct import admit, conversation_key, find_recipient
from chatd.core.message import ChatMessage, check_message
from chatd.core.model import Directory, Member, Realm, Role, Status
from chatd.core.pseudonym import is_valid, suggest
from chatd.core.ratelimit import RateLimiter
from chatd.core.refusal import Refusal

EN = Realm("en", "en", "en.example", "rooms.en.example")


def member(id: int, realm: str = "en", name: str = "calm-otter", status: Status = Status.ACTIVE) -> Member:
    return Member(id, f"user{id}@example", realm, name, Role.MEMBER, status, 0.0)


@pytest.fixture
def directory() -> Directory:
    return Directory(
        [
            member(1),
            member(2, name="brave-heron"),
            member(3, "fr", "doux-castor"),
            member(4, name="gone-away", status=Status.SUSPENDED),
        ]
    )


def test_admit(directory: Directory) -> None:
    assert admit("user1@example", EN, directory) == directory.by_account("user1@example")
    stranger = admit("stranger@example", EN, directory)
    assert isinstance(stranger, Refusal) and stranger.condition == "registration-required" and stranger.bilingual
    other = admit("user3@example", EN, directory)
    assert isinstance(other, Refusal) and other.condition == "forbidden" and other.text == "error.other_realm"
    suspended = admit("user4@example", EN, directory)
    assert isinstance(suspended, Refusal) and suspended.text == "error.suspended"


def test_find_recipient_and_blocks(directory: Directory) -> None:
    alice, bob = directory.by_account("user1@example"), directory.by_account("user2@example")
    assert alice and bob
    assert find_recipient(alice, EN, "brave-heron", directory) == bob
    for name, condition in [
        ("nobody", "item-not-found"),
        ("gone-away", "item-not-found"),
        ("doux-castor", "item-not-found"),
        ("calm-otter", "not-acceptable"),
    ]:
        refusal = find_recipient(alice, EN, name, directory)
        assert isinstance(refusal, Refusal) and refusal.condition == condition, name
    directory.set_block(bob, alice, True)
    refused = find_recipient(alice, EN, "brave-heron", directory)
    assert isinstance(refused, Refusal) and refused.condition == "service-unavailable"
    own = find_recipient(bob, EN, "calm-otter", directory)
    assert isinstance(own, Refusal) and own.text == "error.you_blocked"
    assert directory.blocked_by(bob) == [alice]
    directory.set_block(bob, alice, False)
    assert find_recipient(alice, EN, "brave-heron", directory) == bob
    assert conversation_key(alice, bob) == conversation_key(bob, alice) == "dm:1:2"


def test_commands() -> None:
    assert parse_command("hello") is None
    assert parse_command("  !Block Calm-Otter ") == Command("block", "calm-otter")
    assert parse_command("!unblock") == Command("unblock", "")
    assert parse_command("!dance") == Command("unknown", "dance")


def test_pseudonyms() -> None:
    for good in ("calm-otter", "brave-little-heron", "ab-cd"):
        assert is_valid(good), good
    for bad in ("calm", "Calm-Otter", "calm_otter", "calm-otter-1", "a-b", "wall-guide", "x" * 20 + "-" + "y" * 20, ""):
        assert not is_valid(bad), bad
    taken = {suggest() for _ in range(5)}
    name = suggest(taken)
    assert is_valid(name) and name not in taken


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(burst=3, per_seconds=3.0)
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 0.0)
    assert limiter.recent("a", 0.0) == 3
    assert limiter.allow("a", 1.01)
    assert not limiter.allow("a", 1.02)


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(burst=2, per_seconds=1.0, max_keys=10)
    for n in range(100):
        limiter.allow(f"k{n}", float(n))
    assert len(limiter._buckets) <= 11


def test_check_message() -> None:
    ok = ChatMessage("1", "chat", body="hi")
    assert check_message(ok, 100) is None
    cases = {
        "error.encrypted": ChatMessage("1", "chat", body="x", encrypted=True),
        "error.wrong_type": ChatMessage("1", "groupchat", body="x"),
        "error.empty_body": ChatMessage("1", "chat", body=" \n\t"),
        "error.too_long": ChatMessage("1", "chat", body="x" * 101),
        "error.nothing_to_deliver": ChatMessage("1", "chat"),
    }
    for key, message in cases.items():
        refusal = check_message(message, 100)
        assert refusal is not None and refusal.text == key
    otr = check_message(ChatMessage("1", "chat", body="?OTR:AAMG"), 100)
    assert otr is not None and otr.text == "error.encrypted"
    assert check_message(ChatMessage("1", "chat", chat_state="composing"), 100) is None
