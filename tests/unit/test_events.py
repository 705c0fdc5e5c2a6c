import pytest
from pydantic import ValidationError

from chatd.bus import LocalBus
from chatd.events import EVENT_TYPES, AlertRaised, Event, MessageHeld, message_event


def test_event_names_and_subjects() -> None:
    names = [t.name for t in EVENT_TYPES]
    assert len(set(names)) == len(names)
    assert "message_held" in names and "member_joined" in names
    event = MessageHeld(realm="fr", conversation="dm:1:2", stanza_id="s1", sender="a-b", recipient="c-d")
    assert event.subject == "chatd.fr.message_held"
    assert message_event("redact").name == "message_redacted"


def test_events_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        AlertRaised(realm="en", conversation="x", member="a-b", kind="risk.x", severity=3, account="a@h")  # type: ignore[call-arg]


def test_local_bus_delivers_in_order_and_survives_a_failing_subscriber() -> None:
    bus = LocalBus()
    seen: list[Event] = []

    def broken(_: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    first = AlertRaised(realm="en", conversation="x", member="a-b", kind="risk.x", severity=3)
    second = MessageHeld(realm="en", conversation="x", stanza_id="s", sender="a-b", recipient="c-d")
    bus.publish(first)
    bus.publish(second)
    assert seen == [first, second] and bus.published == 2


def test_a_bus_is_heard_once_something_subscribes() -> None:
    bus = LocalBus()
    assert not bus.heard  # the desk then builds no message event (one per message)
    bus.subscribe(lambda _: None)
    assert bus.heard
