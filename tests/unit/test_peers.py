"""News between instances (chatd.peers): told only with a link, heard by kind, bad news counted and dropped."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from chatd.peers import CRISIS, LINE, WINDOW, Peers


def test_nothing_is_told_without_a_link_and_news_goes_out_as_compact_json() -> None:
    peers = Peers()
    peers.tell(WINDOW, {"member": 1, "text": "hello", "at": 1.0, "alerted": 0})
    assert peers.told == 0
    sent: list[tuple[str, bytes]] = []
    peers.transmit = lambda kind, data: sent.append((kind, data))
    peers.tell(CRISIS, {"member": 7, "severity": 3, "at": 2.5})
    assert sent == [(CRISIS, b'{"member":7,"severity":3,"at":2.5}')] and peers.told == 1


def test_news_reaches_the_listener_of_its_kind_and_unreadable_news_is_counted_without_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    peers = Peers()
    heard: list[dict[str, Any]] = []
    peers.listen(LINE, lambda news: heard.append({"room": news["room"], "body": news["body"]}))
    peers.hear(LINE, json.dumps({"room": "en-queue", "body": "a private line"}).encode())
    peers.hear(WINDOW, b'{"member": 1}')  # no listener for it here: ignored, not counted as heard
    assert heard == [{"room": "en-queue", "body": "a private line"}] and peers.heard == 1
    with caplog.at_level(logging.WARNING, logger="chatd.peers"):
        peers.hear(LINE, b"not json: a private line")
        peers.hear(LINE, b'["a list"]')
        peers.hear(LINE, b'{"room": "en-queue"}')  # no body: the listener's KeyError
    assert peers.unreadable == 3 and peers.heard == 1 and len(heard) == 1
    assert "private line" not in caplog.text and "unreadable line news" in caplog.text
    with pytest.raises(ValueError):
        peers.listen("gossip", lambda news: None)
