"""Conversation keys: what str() writes, parse_key reads back; anything else is refused."""

import pytest

from chatd.core import keys
from chatd.core.keys import KeyKind, parse_key
from chatd.core.shadow import shadow_local


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (keys.dm(7, 3), "dm:3:7"),
        (keys.room("en", "general"), "room:en:general"),
        (keys.room_private("fr", "tsm", 9, 2), "roompm:fr:tsm:2:9"),
        (keys.guide(5), "guide:5"),
        (keys.watch("en-room-general"), "watch:en-room-general"),
    ],
)
def test_a_key_reads_back_as_written(key: keys.ConversationKey, text: str) -> None:
    assert str(key) == text and parse_key(text) == key


@pytest.mark.parametrize("text", ["", "dm:1", "dm:a:b", "room:en", "roompm:en:x:1", "guide:", "chat:1:2", "watch:"])
def test_anything_else_is_not_a_key(text: str) -> None:
    with pytest.raises(ValueError, match="not a conversation key"):
        parse_key(text)


def test_room_private_messages_are_mirrored_in_their_rooms_shadow() -> None:
    assert (
        parse_key("roompm:en:general:1:2").in_room and parse_key("roompm:en:general:1:2").kind is KeyKind.ROOM_PRIVATE
    )
    assert shadow_local("en", "roompm:en:general:1:2") == shadow_local("en", "room:en:general") == "en-room-general"
    assert shadow_local("en", "dm:2:1") == "en-dm-1-2" and shadow_local("en", "guide:4") == "en-guide-4"
