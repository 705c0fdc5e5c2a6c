"""The statistical reading of whole messages (policies/risk_model.py) and its place in the composition."""

from __future__ import annotations

import pytest

from policies.engine import PolicyEngine
from policies.normalize import normalize
from policies.risk import Signal, compose
from policies.risk_model import _character_grams, model
from tests.unit.policies.support import english, french


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_language_has_a_model_with_sane_thresholds(language: str) -> None:
    reading = model(language)
    assert reading is not None
    assert len(reading.words) > 1000 and len(reading.characters) > 1000
    assert 0.5 < reading.thresholds.alone <= 1.01
    assert 0.0 < reading.thresholds.beside <= 1.01


def test_probabilities_are_probabilities_and_repeatable() -> None:
    reading = model("en")
    assert reading is not None
    for text in ["", "hello there", "i took all my pills and i can't feel my hands", "🙂" * 50, "a " * 2000]:
        first = reading.probability(normalize(text).leet)
        assert 0.0 <= first <= 1.0
        assert reading.probability(normalize(text).leet) == first


def test_character_grams_follow_word_boundaries_and_count_short_words_once() -> None:
    assert _character_grams("ab") == [" ab", "ab ", " ab "]
    grams = _character_grams("rope")
    assert grams == [" ro", "rop", "ope", "pe ", " rop", "rope", "ope ", " rope", "rope "]


def test_the_reading_raises_an_alert_but_never_makes_it_severe() -> None:
    reading_alone = compose([[Signal("wording", 2.0, 0, 10)]])
    assert reading_alone.severity == 2 and reading_alone.kind == "risk.wording"
    beside_means = compose([[Signal("wording", 2.0, 0, 10), Signal("means:firearm", 1.5, 0, 5)]])
    assert beside_means.severity == 2  # 3.5 in all, but only 1.5 from the lexicon
    lexicon_severe = compose([[Signal("wording", 1.0, 0, 10), Signal("attempt:ingested", 3.0, 0, 5)]])
    assert lexicon_severe.severity == 3


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("this heat is killing me", "en"), ("I'm dying to see the show", "en"), ("my phone died", "en"),
        ("cleaned my rifle after the range tonight", "en"), ("took my pills as prescribed this morning", "en"),
        ("great game last night, we killed it", "en"), ("see you all next week, off camping", "en"),
        ("je suis mort de rire", "fr"), ("je meurs de faim", "fr"), ("ma batterie est morte", "fr"),
        ("je veux en finir avec ce dossier", "fr"), ("bonne fin de semaine tout le monde", "fr"),
    ],
)  # fmt: skip
def test_look_alikes_stay_quiet_after_delivery_too(engine: PolicyEngine, text: str, language: str) -> None:
    context = english() if language == "en" else french()
    assert engine.assess_recent([text], context) == ()
