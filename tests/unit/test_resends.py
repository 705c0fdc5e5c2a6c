"""Resends: the same id and text from the same account within the window is recognised once claimed."""

from __future__ import annotations

from chatd.core.resends import Resends, message_key


def test_a_resend_within_the_window_is_recognised() -> None:
    resends = Resends(window=60)
    key = message_key("alice@host", None, "m1", "hello")
    assert key is not None
    assert resends.claim(key, 0.0)
    assert not resends.claim(key, 30.0)
    assert resends.recognised == 1


def test_after_the_window_the_same_key_is_new_again() -> None:
    resends = Resends(window=60)
    key = message_key("alice@host", None, "m1", "hello")
    assert key is not None
    assert resends.claim(key, 0.0)
    assert resends.claim(key, 61.0)


def test_origin_id_wins_and_other_accounts_texts_or_ids_are_different_messages() -> None:
    assert message_key("a@h", "o1", "s1", "x") == message_key("a@h", "o1", "s2", "x")
    base = message_key("a@h", None, "s1", "x")
    assert base != message_key("b@h", None, "s1", "x")
    assert base != message_key("a@h", None, "s1", "y")  # a client that reuses ids: a new text is a new message
    assert base != message_key("a@h", None, "s2", "x")


def test_texts_without_an_id_or_a_body_are_never_taken_for_resends() -> None:
    assert message_key("a@h", None, None, "x") is None
    assert message_key("a@h", None, "s1", None) is None


def test_a_released_key_can_be_sent_again() -> None:
    resends = Resends(window=60)
    key = message_key("a@h", None, "s1", "x")
    assert key is not None
    resends.claim(key, 0.0)
    resends.release(key)
    assert resends.claim(key, 1.0)


def test_capacity_bounds_memory() -> None:
    resends = Resends(window=1000, capacity=3)
    keys = [message_key("a@h", None, f"s{i}", "x") for i in range(5)]
    for key in keys:
        assert key is not None and resends.claim(key, 0.0)
    assert len(resends) == 3
