"""The statistical reading of whole messages (policies/risk_model.py) and its place in the composition."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policies import risk_model
from policies.engine import PolicyEngine
from policies.normalize import normalize
from policies.risk import SEVERE, Signal, compose
from policies.risk_model import CLIPPED, LEVELS, _character_grams, encoder, log_odds, model
from policies.types import Field
from tests.unit.policies.support import english, french


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_language_has_a_model_with_a_sane_weighing(language: str) -> None:
    reading = model(language)
    assert reading is not None
    assert len(reading.words) > 1000 and len(reading.characters) > 1000
    assert len(reading.offsets) == len(LEVELS)
    assert all(weight > 0 for weight in reading.weights)  # each reading adds to the other
    low, _, cue, alert = reading.offsets
    assert low < cue < alert  # a cue, and more so cues enough to alert, ask less of the readings
    assert reading.score(0.5, 0.5, 0.0) < 0  # alone, undecided readings raise nothing


ODD_TEXTS = ["", "hello there", "i took all my pills and i can't feel my hands", "🙂" * 50, "a " * 5000, "\u200b\x00"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_readings_are_probabilities_and_repeatable(language: str) -> None:
    reading = model(language)
    assert reading is not None and reading.meaning is not None
    for text in ODD_TEXTS:
        wording, meant = reading.wording(normalize(text).leet), reading.meaning.probability(text)
        assert 0.0 <= wording <= 1.0 and 0.0 <= meant <= 1.0
        assert reading.wording(normalize(text).leet) == wording and reading.meaning.probability(text) == meant


@pytest.mark.parametrize("language", ["en", "fr"])
def test_texts_joined_are_read_from_their_own_grams_as_if_read_whole(language: str) -> None:
    reading = model(language)
    assert reading is not None
    texts = [normalize(text).leet for text in ODD_TEXTS[1:5]] + [
        "the pistol is in the drawer", "tonight", "!!!", "nobody would even notice, it's fine", "i  am\n\ndone",
        "j'ai donné mon chien à ma sœur", "ce soir", "rien va jamais s'arranger",
    ]  # fmt: skip
    for size in (2, 3):
        for start in range(len(texts) - size + 1):
            parts = texts[start : start + size]
            together = reading.read(reading.joined([reading.grams(part) for part in parts]))
            assert together == pytest.approx(reading.wording(" . ".join(parts)), abs=1e-12)


def test_the_score_weighs_both_readings_in_log_odds() -> None:
    reading = model("en")
    assert reading is not None
    (word, meaning), offset = reading.weights, reading.offset(0.0)
    assert reading.score(0.8, 0.3, 0.0) == pytest.approx(offset + word * log_odds(0.8) + meaning * log_odds(0.3))
    assert reading.score(0.8, 0.6, 0.0) > reading.score(0.8, 0.3, 0.0)
    assert reading.score(0.8, 0.3, LEVELS[-1]) >= reading.score(0.8, 0.3, 0.0)
    assert log_odds(0.0) == log_odds(CLIPPED) == pytest.approx(-log_odds(1.0))  # a reading's certainty is bounded


def test_the_encoder_gives_unit_vectors_that_carry_meaning_across_languages() -> None:
    vectors = encoder()(["the weather is nice today", "il fait beau aujourd'hui", "my rifle is loaded", *ODD_TEXTS])
    assert vectors.shape == (3 + len(ODD_TEXTS), 512)
    assert abs(float((vectors[0] * vectors[0]).sum()) - 1.0) < 1e-3
    same, other = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > other + 0.2  # a translation lies closer than an unrelated sentence


def test_the_meaning_hears_a_paraphrase_the_wording_was_never_shown() -> None:
    reading = model("en")
    assert reading is not None and reading.meaning is not None
    risky = reading.meaning.probability("I have made sure my cat will have a good home after I am gone")
    harmless = reading.meaning.probability("I have made sure my cat will have a good home while I am on holiday")
    assert risky > harmless


def test_character_grams_follow_word_boundaries_and_count_short_words_once() -> None:
    assert _character_grams("ab") == [" ab", "ab ", " ab "]
    grams = _character_grams("rope")
    assert grams == [" ro", "rop", "ope", "pe ", " rop", "rope", "ope ", " rope", "rope "]


def test_the_reading_decides_below_severe_and_never_makes_an_alert_severe() -> None:
    def hears(lexical: float) -> bool:
        return True

    def deaf(lexical: float) -> bool:
        return False

    alone = compose([[]], hears)
    assert alone.severity == 2 and alone.kind == "risk.wording"
    beside_means = compose([[Signal("means:firearm", 1.5, 0, 5)]], hears)
    assert beside_means.severity == 2 and beside_means.names() == ("means:firearm", "wording")
    means_and_time = [[Signal("means:firearm", 1.5, 0, 5), Signal("time:tonight", 1.0, 6, 13)]]
    assert compose(means_and_time).severity == 2  # the cues alone
    assert compose(means_and_time, deaf).severity == 1  # reads as harmless: watched members only
    severe = [[Signal("attempt:ingested", 3.0, 0, 5)]]
    assert compose(severe, deaf).severity == 3 and compose(severe, hears).severity == 3
    assert compose([[]], deaf) == compose([[]])


def test_a_severe_score_the_reading_doubts_is_decided_below_severe() -> None:
    severe = [[Signal("attempt:ingested", 3.0, 0, 5)]]
    assert compose(severe, lambda lexical: False, lambda: False).severity == 3
    assert compose(severe, lambda lexical: False, lambda: True).severity == 1  # watched members only
    assert compose(severe, lambda lexical: True, lambda: True).severity == 2
    assert compose(severe, None, lambda: True).severity == 2  # inline: decided after delivery (engine)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_short_texts_are_the_cues_call(engine: PolicyEngine, language: str) -> None:
    context = english() if language == "en" else french()
    plain = {"en": "i want to die", "fr": "je veux mourir"}[language]
    assert [a.kind for a in engine.assess_recent([plain], context)] == ["risk.passive_ideation"]
    for text in {"en": ["tonight works", "ok see you then"], "fr": ["à soir ça marche", "ok à tantôt"]}[language]:
        assert engine.assess_recent([text], context) == ()


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


def test_a_quick_window_reads_the_wording_alone(engine: PolicyEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_encoder() -> None:
        raise AssertionError("the quick reading must not encode")

    monkeypatch.setattr(risk_model, "encoder", no_encoder)
    text = "everyone in my life would be better off without me around, been thinking that since the summer"
    assert [a.kind for a in engine.assess_recent([text], english(), quick=True)] == ["risk.burden"]
    assert engine.assess_recent(["see you all at the barbecue on sunday, bring chairs"], english(), quick=True) == ()


def test_a_severe_score_read_as_clearly_harmless_waits_for_the_full_reading(engine: PolicyEngine) -> None:
    recovered = "Last spring I tried to hang myself in the garage. Today I got my one-year chip and my wife cried"
    in_progress = "I swallowed a whole bottle of pills twenty minutes ago and it's starting to hit"
    context = english()
    assert engine._examine(recovered, replace(context, field=Field.STATUS))[1].score >= SEVERE  # the cues: severe
    inline = engine.review(recovered, context)  # a message body: severe inline, the wording's doubt read after delivery
    assert [(a.kind, a.severity, a.unconfirmed) for a in inline.alerts] == [("risk.active_ideation", 3, True)]
    assert engine.confirmed(inline, recovered, "en").alerts == ()  # the wording doubts it: not severe
    assert engine.assess_recent([recovered], context) == ()  # both readings doubt it: watched members only
    attempt = engine.review(in_progress, context)
    assert [(a.kind, a.severity) for a in engine.confirmed(attempt, in_progress, "en").alerts] == [("risk.attempt", 3)]
    assert not any(a.unconfirmed for a in engine.confirmed(attempt, in_progress, "en").alerts)


def test_the_meaning_is_read_only_where_it_could_decide(engine: PolicyEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    reading = model("en")
    assert reading is not None and reading.meaning is not None
    texts = [
        "made lentil soup for the whole unit tonight, recipe in the thread",
        "I've written the letters and the will",
    ]
    for text in texts:  # the lazy answer is the eager one, at every level
        wording, meant = reading.wording(normalize(text).leet), reading.meaning.probability(text)
        for lexical in LEVELS:
            assert reading.reads(wording, text, lexical) == (reading.score(wording, meant, lexical) >= 0)
        assert reading.doubts(wording, text) == (wording < risk_model.DOUBTED and (wording + meant) / 2 < 0.1)

    def no_encoder() -> None:
        raise AssertionError("the meaning cannot decide here")

    monkeypatch.setattr(risk_model, "encoder", no_encoder)
    everyday = "the bus was late again so I walked to the pharmacy and picked up my allergy stuff, back home now"
    assert reading.score(reading.wording(normalize(everyday).leet), 1.0, 0.0) < 0  # the meaning cannot lift it
    assert engine.assess_recent([everyday], english()) == ()


def test_a_text_that_says_its_author_is_safe_is_not_read(engine: PolicyEngine) -> None:
    safe = "I'm not going to hurt myself, I promise. I just needed to get the whole thing off my chest tonight"
    disclosed = "I'm not going to hurt myself again, I already swallowed the whole bottle of pills an hour ago"
    assert engine.assess_recent([safe], english()) == ()
    assert [a.kind for a in engine.assess_recent([disclosed], english())] == ["risk.attempt"]
    assert (
        engine.assess_recent(
            ["je vais pas me faire de mal, promis, j'avais juste besoin d'en parler à quelqu'un ce soir"], french()
        )
        == ()
    )
