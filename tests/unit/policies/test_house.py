from __future__ import annotations

import pytest

from policies.engine import PolicyEngine
from tests.unit.policies.support import english, french, kinds_found


@pytest.mark.parametrize(
    ("text", "language", "kind"),
    [
        ("kill yourself", "en", "house.harassment"),
        ("kys loser", "en", "house.harassment"),
        ("you deserved it", "en", "house.harassment"),
        ("what a f4ggot", "en", "house.slur"),
        ("tu l'as cherché", "fr", "house.harassment"),
        ("ferme ta gueule", "fr", "house.harassment"),
        ("espèce de salope", "fr", "house.slur"),
        ("there was blood everywhere", "en", "house.graphic"),
        ("du sang partout", "fr", "house.graphic"),
    ],
)
def test_house_lexicon(engine: PolicyEngine, text: str, language: str, kind: str) -> None:
    context = english() if language == "en" else french()
    assert kind in kinds_found(engine, text, context)


def test_kill_yourself_is_harassment_not_the_authors_risk(engine: PolicyEngine) -> None:
    found = kinds_found(engine, "go kill yourself")
    assert "house.harassment" in found
    assert not [kind for kind in found if kind.startswith("risk.")]


def test_uploads(settings: dict) -> None:
    configured = {**settings, "uploads": {"url_prefixes": ["https://upload.chat.example/"]}}
    engine = PolicyEngine.from_settings(configured, lambda kind, language: kind)
    found = kinds_found(engine, "look https://upload.chat.example/a1b2/photo")
    assert "house.upload" in found
    assert "house.upload" in kinds_found(engine, "see https://imgur.com/x/me.jpg")


def test_flood(engine: PolicyEngine) -> None:
    assert "house.flood" not in kinds_found(engine, "hi", english(recent_messages=7))
    assert "house.flood" in kinds_found(engine, "hi", english(recent_messages=8))
    assert "house.flood" in kinds_found(engine, "hi", english(recent_messages=4, new_member=True))


@pytest.mark.parametrize("text", ["I skipped class", "Scunthorpe is a town", "the bitcoin price", "pas de chien"])
def test_no_false_slurs_inside_words(engine: PolicyEngine, text: str) -> None:
    assert not [k for k in kinds_found(engine, text) if k.startswith("house.")]


@pytest.mark.parametrize(
    ("text", "slur"),
    [
        ("j'ai 20 minutes de retard, commencez sans moi", False),
        ("le bus est en retard encore", False),
        ("retard de 2h sur le vol", False),
        ("t'es vraiment un retard", True),
        ("what a retard", True),
    ],
)
def test_an_ordinary_french_retard_is_no_slur(engine: PolicyEngine, text: str, slur: bool) -> None:
    assert ("house.slur" in kinds_found(engine, text, french())) == slur
