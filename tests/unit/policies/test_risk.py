from __future__ import annotations

import pytest

from policies.engine import PolicyEngine
from tests.unit.policies.support import english, french


def risk(engine: PolicyEngine, text: str, language: str = "en") -> dict[str, int]:
    context = english() if language == "en" else french()
    return {f.kind: f.severity for f in engine.findings(text, context) if f.category == "risk"}


@pytest.mark.parametrize(
    ("text", "language", "kind", "severity"),
    [
        ("I want to die", "en", "risk.suicide_passive", 2),
        ("everyone would be better off without me", "en", "risk.suicide_passive", 2),
        ("I'm going to kill myself tonight", "en", "risk.suicide_active", 3),
        ("Im gonna k1ll mys3lf", "en", "risk.suicide_active", 3),
        ("k i l l  m y s e l f", "en", "risk.suicide_active", 3),
        ("I want to kіll myself", "en", "risk.suicide_active", 3),  # Cyrillic і
        ("I bought a rope yesterday", "en", "risk.plan_or_means", 3),
        ("I cut my wrists again", "en", "risk.self_harm", 3),
        ("my sergeant raped me", "en", "risk.abuse_disclosure", 2),
        ("I'm going to kill him", "en", "risk.violence_to_others", 3),
        ("I took all my pills", "en", "risk.overdose", 3),
        ("je veux mourir", "fr", "risk.suicide_passive", 2),
        ("jveux mourir", "fr", "risk.suicide_passive", 2),
        ("je vais me tuer ce soir", "fr", "risk.suicide_active", 3),
        ("je veux en finir avec la vie", "fr", "risk.suicide_active", 3),
        ("je pense à me jeter du pont", "fr", "risk.plan_or_means", 3),
        ("je me suis coupée hier", "fr", "risk.self_harm", 2),
        ("mon sergent m'a violée", "fr", "risk.abuse_disclosure", 2),
        ("je vais le tuer", "fr", "risk.violence_to_others", 3),
        ("j'ai pris toutes mes pilules", "fr", "risk.overdose", 3),
    ],
)
def test_risk_phrases(engine: PolicyEngine, text: str, language: str, kind: str, severity: int) -> None:
    assert risk(engine, text, language).get(kind) == severity


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("just killing time", "en"), ("I'm dying to see the show", "en"),
        ("how do I kill a process", "en"), ("this traffic is killing me", "en"),
        ("you killed it today", "en"), ("that cake is to die for", "en"),
        ("I cut myself shaving", "en"), ("I overdosed on coffee", "en"),
        ("my phone died", "en"), ("I don't want to hurt her feelings", "en"),
        ("we watched Suicide Squad", "en"), ("skills kill time", "en"),
        ("je suis mort de rire", "fr"), ("on tue le temps", "fr"), ("je meurs de faim", "fr"),
        ("ça me tue", "fr"), ("tu vas me tuer avec tes blagues", "fr"),
        ("je veux en finir avec ce dossier", "fr"), ("je dois me couper les cheveux", "fr"),
        ("overdose de café ce matin", "fr"), ("ma batterie est morte", "fr"),
    ],
)  # fmt: skip
def test_idioms_do_not_alert(engine: PolicyEngine, text: str, language: str) -> None:
    assert risk(engine, text, language) == {}


def test_negation_lowers_severity_but_still_counts(engine: PolicyEngine) -> None:
    assert risk(engine, "I'm not going to kill myself") == {"risk.suicide_active": 2}
    assert risk(engine, "je ne vais pas me tuer", "fr") == {"risk.suicide_active": 2}
    assert risk(engine, "I don't want to die") == {"risk.suicide_passive": 1}


def test_phrases_carrying_their_own_negation_keep_severity(engine: PolicyEngine) -> None:
    assert risk(engine, "I don't want to live anymore") == {"risk.suicide_passive": 2}
    assert risk(engine, "je ne veux plus vivre", "fr") == {"risk.suicide_passive": 2}


def test_negation_does_not_cross_a_clause(engine: PolicyEngine) -> None:
    assert risk(engine, "I'm not ok. I want to kill myself") == {"risk.suicide_active": 3}


def test_word_boundaries(engine: PolicyEngine) -> None:
    assert risk(engine, "grape and drape are fruit and cloth") == {}
    assert risk(engine, "I want to diet") == {}
