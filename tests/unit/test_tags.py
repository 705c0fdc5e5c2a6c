"""The topic-room directory's matching: tags and free words, without case or accents, in both languages."""

from __future__ import annotations

from chatd import i18n
from chatd.core.tags import ListedRoom, fold, matching, query_words

ROOMS = [
    ListedRoom("general", "General", "Peer support on any topic.", ("general",)),
    ListedRoom("sommeil", "Nuits blanches", "Quand le sommeil ne vient pas.", ("sleep",)),
    ListedRoom("mst", "MST community", "For members affected by military sexual trauma.", ("military", "ptsd-trauma")),
]
LABELS = {t: i18n.tag_names(t) for r in ROOMS for t in r.tags}


def found(query: str) -> list[str]:
    return [r.local for r in matching(ROOMS, query, LABELS)]


def test_fold_drops_case_and_accents() -> None:
    assert fold("Élevé TSPT Ça") == "eleve tspt ca"


def test_a_question_keeps_only_its_topic_words() -> None:
    assert query_words("Which rooms talk about sleep?") == ["sleep"]
    assert query_words("Quels salons parlent de sommeil ?") == ["sommeil"]


def test_words_match_names_descriptions_and_tag_names_in_either_language() -> None:
    assert found("which rooms talk about sleep") == ["sommeil"]  # the tag's English name, a French room
    assert found("SOMMEIL") == ["sommeil"]
    assert found("tspt") == ["mst"]  # ptsd-trauma's French name
    assert found("traumatisme") == []  # a word must begin a room's word, not the reverse
    assert found("trauma") == ["mst"]
    assert found("général") == ["general"]


def test_rooms_matching_more_words_come_first_and_an_empty_query_lists_every_room() -> None:
    assert found("sleep support") == ["general", "sommeil"]
    assert found("sommeil nuits support") == ["sommeil", "general"]
    assert found("") == ["general", "sommeil", "mst"]
    assert found("nothing-like-this") == []


def test_tag_names_in_both_languages_and_an_unknown_tag_as_itself() -> None:
    assert i18n.tag_name("en", "ptsd-trauma") == "PTSD / trauma"
    assert i18n.tag_name("fr", "ptsd-trauma") == "TSPT / trauma"
    assert i18n.tag_name("fr", "knitting") == "knitting"
