"""Risk by construct: composition, modifiers, conversation-level scoring, and the cue files' vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from policies.engine import PolicyEngine
from policies.kinds import RISK_CONSTRUCTS, RISK_DETAILS
from policies.lexicon import read_rows
from tests.unit.policies.support import english, french

LOCALE = Path(__file__).parents[3] / "chatd" / "i18n" / "locale"


def risk_alert(engine: PolicyEngine, text: str, language: str = "en") -> tuple[str, int, tuple[str, ...]] | None:
    """The risk alert one message raises: inline (severe) or just after delivery (with the model's reading)."""
    context = english() if language == "en" else french()
    inline = [a for a in engine.review(text, context).alerts if a.kind.startswith("risk.")]
    alerts = inline or list(engine.assess_recent([text], context))
    assert len(alerts) <= 1  # one risk alert per text, naming its strongest construct
    assert all(a.severity == 3 for a in inline)  # below severe, the alert waits for the model's reading
    return (alerts[0].kind, alerts[0].severity, alerts[0].signals) if alerts else None


@pytest.mark.parametrize(
    ("text", "language", "construct", "severity"),
    [
        ("I'm going to kill myself tonight", "en", "active_ideation", 3),
        ("Im gonna k1ll mys3lf", "en", "active_ideation", 3),
        ("k i l l  m y s e l f", "en", "active_ideation", 3),
        ("I want to kіll myself", "en", "active_ideation", 3),  # Cyrillic і
        ("everyone would be better off without me", "en", "burden", 2),
        ("took every pill in the cabinet about 20 minutes ago and the room is spinning", "en", "attempt", 3),
        ("the voices keep telling me to hurt myself", "en", "command_voices", 3),
        ("he's back in my unit and he follows me to my car", "en", "harm_from_others", 3),
        ("je veux mourir", "fr", "passive_ideation", 2),
        ("je vais me tuer ce soir", "fr", "active_ideation", 3),
        ("je veux en finir avec la vie", "fr", "active_ideation", 3),
        ("il m'a étranglée hier pis il boit encore à soir", "fr", "harm_from_others", 3),
    ],
)
def test_constructs_alert(engine: PolicyEngine, text: str, language: str, construct: str, severity: int) -> None:
    found = risk_alert(engine, text, language)
    assert found is not None
    assert found[0] == f"risk.{construct}"
    assert found[1] == severity


def test_two_weak_constructs_compose(engine: PolicyEngine) -> None:
    assert risk_alert(engine, "got my hunting rifle back from my brother for deer season") is None  # means alone
    found = risk_alert(engine, "got my service pistol back from my brother, i keep looking at it")
    assert found is not None and "means:firearm" in found[2]


def test_alert_names_means_and_time(engine: PolicyEngine) -> None:
    found = risk_alert(engine, "the pills are counted out for tonight")
    assert found is not None and found[1] == 3
    assert {"plan:stockpiling", "time:tonight"} <= set(found[2])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("just killing time", "en"), ("I'm dying to see the show", "en"),
        ("this heat is killing me", "en"), ("you killed it today", "en"), ("that cake is to die for", "en"),
        ("I cut myself shaving", "en"), ("my phone died", "en"), ("we watched Suicide Squad", "en"),
        ("cleaned my rifle after the range tonight", "en"), ("took my pills as prescribed this morning", "en"),
        ("two years ago I tried to end it. today I'm doing well", "en"),
        ("I'm not going to kill myself, just venting", "en"),
        ("my wife is gonna kill me when she sees the new fishing rod", "en"),
        ("je suis mort de rire", "fr"), ("ça me tue", "fr"), ("je meurs de faim", "fr"),
        ("je veux en finir avec ce dossier", "fr"), ("je dois me couper les cheveux", "fr"),
        ("the kids ate all the cookies", "en"), ("gave my dog a bath", "en"), ("on va sauter de joie", "fr"),
        ("ma batterie est morte", "fr"), ("adieu l'hiver, bonjour les terrasses", "fr"),
    ],
)  # fmt: skip
def test_look_alikes_stay_quiet(engine: PolicyEngine, text: str, language: str) -> None:
    assert risk_alert(engine, text, language) is None


def test_signals_spread_over_messages_raise_one_alert(engine: PolicyEngine) -> None:
    messages = ["got my old rifle back from my brother", "been thinking about it", "tonight works"]
    assert all(risk_alert(engine, text) is None for text in messages)
    alerts = engine.assess_recent(messages, english())
    assert len(alerts) == 1 and alerts[0].severity >= 2
    assert "means:firearm" in alerts[0].signals


def test_recent_safe_messages_stay_quiet(engine: PolicyEngine) -> None:
    messages = ["range day tomorrow with the rifle", "so tired after this week", "tonight is pizza night"]
    assert engine.assess_recent(messages, english()) == ()


def test_every_signal_in_the_cue_files_is_known() -> None:
    for name in ("risk_en.tsv", "risk_fr.tsv"):
        for row in read_rows(name):
            signal = row[1]
            if signal.startswith("!"):
                continue
            construct, _, detail = signal.partition(":")
            assert construct in RISK_CONSTRUCTS, (name, row[0])
            assert not detail or detail in RISK_DETAILS, (name, row[0])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_construct_and_detail_has_a_name_for_guides(language: str) -> None:
    with (LOCALE / language / "LC_MESSAGES" / "risk.po").open("rb") as handle:
        names = {str(m.id): str(m.string) for m in read_po(handle, locale=language) if m.id}
    expected = {f"risk.construct.{c}" for c in RISK_CONSTRUCTS} | {f"risk.detail.{d}" for d in RISK_DETAILS}
    assert expected <= set(names)
    assert all(names[key].strip() for key in expected)


def test_every_lemma_has_its_inflections() -> None:
    """inflections.tsv is rebuilt (policies/data/build_inflections.py) whenever a lexicon gains a <lemma>."""
    import re

    built = {(row[0], row[1]) for row in read_rows("inflections.tsv")}
    for language, name in (("en", "risk_en.tsv"), ("fr", "risk_fr.tsv")):
        for row in read_rows(name):
            for group in re.findall(r"<([^<>]+)>", row[0]):
                assert all((language, lemma) in built for lemma in group.split("|")), (name, row[0])


def test_a_phrase_cut_in_parts_keeps_its_optional_words_optional() -> None:
    from policies.cues import _alternatives, _cut

    phrase = (
        "{je serai|je vais etre|je ne serai} {plus|pu|pus|pas} {la|ici|en vie|de ce monde} {"
        + "|".join(f"mot{n}" for n in range(300))
        + "|}"
    )
    pieces = _cut(phrase, "fr")
    assert len(pieces) > 1
    assert all(all(text.strip() for text in _alternatives(piece)) for piece in pieces)


@pytest.mark.parametrize(
    ("text", "language"),
    [("I don't know, I want to die", "en"), ("je sais pas, je veux mourir", "fr")],
)
def test_a_negation_does_not_reach_past_a_comma(engine: PolicyEngine, text: str, language: str) -> None:
    assert risk_alert(engine, text, language) is not None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I don't have any thoughts of ending my life, work is just exhausting me", "en"),
        ("je n'ai pas d'idées de me tuer, la job m'épuise juste", "fr"),
    ],
)
def test_a_negation_reaches_across_the_thoughts_it_denies(engine: PolicyEngine, text: str, language: str) -> None:
    alert = risk_alert(engine, text, language)
    assert alert is None or alert[1] < 3  # never crisis resources at once for a denial


def test_a_negation_does_not_reach_across_other_words(engine: PolicyEngine) -> None:
    alert = risk_alert(engine, "I don't know why I keep having thoughts of ending my life every night", "en")
    assert alert is not None and alert[1] == 3
