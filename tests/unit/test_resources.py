import re
import tomllib
from pathlib import Path

import pytest

from chatd.core.crisis import CrisisFollowUp
from chatd.core.resources import ResourceError, ResourceLibrary

REPO = Path(__file__).resolve().parents[2]
LIBRARY = tomllib.loads((REPO / "conf" / "resources.toml").read_text())
CHECKED = REPO.parent / "shared" / "RESOURCES.md"


def test_library_loads_with_every_text_in_both_languages() -> None:
    library = ResourceLibrary.from_settings(LIBRARY)
    assert set(library.topics) == {"crisis", "sexual-misconduct", "veterans", "serving", "families", "youth"}
    for topic in library.topics:
        english, french = library.for_topic(topic, "en"), library.for_topic(topic, "fr")
        assert english and len(english) == len(french), topic


def test_topics_are_found_by_their_words_in_both_languages() -> None:
    library = ResourceLibrary.from_settings(LIBRARY)
    assert library.topic_of("Crise!") == "crisis"
    assert library.topic_of("  anciens combattants ") == "veterans"
    assert library.topic_of("sexual-misconduct") == "sexual-misconduct"
    assert library.topic_of("pizza") is None


def test_an_entry_missing_a_language_is_refused() -> None:
    broken = {
        "topics": {"crisis": []},
        "resource": [
            {
                "id": "x",
                "topics": ["crisis"],
                "name_en": "X",
                "contact_en": "1",
                "contact_fr": "1",
                "hours_en": "a",
                "hours_fr": "a",
            }
        ],
    }
    with pytest.raises(ResourceError, match="name missing in fr"):
        ResourceLibrary.from_settings(broken)


@pytest.mark.skipif(not CHECKED.exists(), reason="the checked resource list is not beside this checkout")
def test_every_number_in_the_library_was_checked() -> None:
    checked = CHECKED.read_text()
    numbers = set(re.findall(r"\b\d[\d-]{2,}\d\b", (REPO / "conf" / "resources.toml").read_text()))
    assert numbers
    for number in numbers:
        assert number in checked, f"{number} is not in the checked list"


def test_after_crisis_resources_every_text_to_the_bot_goes_to_a_guide_for_a_while() -> None:
    follow_up = CrisisFollowUp(window=100)
    assert follow_up.to_guide(7, is_topic=False, now=0)  # someone's own words always reach a person
    assert not follow_up.to_guide(7, is_topic=True, now=0)
    follow_up.resources_sent(7, severity=3, at=10)
    assert follow_up.to_guide(7, is_topic=True, now=50) and follow_up.severity(7, now=50) == 3
    assert not follow_up.to_guide(8, is_topic=True, now=50)  # only that member
    follow_up.resources_sent(7, severity=2, at=60)
    assert follow_up.severity(7, now=60) == 3  # a milder alert does not lower it
    assert follow_up.severity(7, now=161) is None and not follow_up.to_guide(7, is_topic=True, now=161)


def test_crisis_follow_ups_merge_in_any_order() -> None:
    """News from other instances and rows read back from the store arrive late or out of order."""
    follow_up = CrisisFollowUp(window=100)
    assert follow_up.resources_sent(7, severity=2, at=50) == (50, 2)
    assert follow_up.resources_sent(7, severity=3, at=40) == (50, 3)  # earlier, within the window: severity only
    assert follow_up.resources_sent(7, severity=4, at=-60) == (50, 3)  # long before: nothing to add
    assert follow_up.severity(7, now=149) == 3 and follow_up.severity(7, now=151) is None
    follow_up.resources_sent(8, severity=4, at=0)
    assert follow_up.resources_sent(8, severity=2, at=101) == (101, 2)  # the first one had lapsed
