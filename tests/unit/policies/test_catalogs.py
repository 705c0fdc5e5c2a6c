from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from policies.kinds import ALL_KINDS, RULE_IDS, RULES

LOCALE = Path(__file__).parents[3] / "chatd" / "i18n" / "locale"


def messages(language: str) -> dict[str, str]:
    path = LOCALE / language / "LC_MESSAGES" / "policies.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(message.id): str(message.string) for message in catalog if message.id}


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(messages("en")) == set(messages("fr"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_kind_and_rule_has_a_text(language: str) -> None:
    catalog = messages(language)
    expected = {f"label.{kind}" for kind in ALL_KINDS} | {f"rule.{rule}" for rule in RULE_IDS}
    assert expected <= set(catalog)
    assert all(catalog[key].strip() for key in expected)


def test_examples_from_the_issue() -> None:
    assert messages("en")["label.pii.email"] == "[email removed]"
    assert messages("fr")["label.pii.email"] == "[courriel retiré]"


def test_every_rule_a_kind_cites_is_known() -> None:
    assert set(RULES.values()) <= set(RULE_IDS)
