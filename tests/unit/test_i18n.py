import re

from chatd import i18n


def test_every_text_exists_in_english_and_french() -> None:
    english, french = i18n.catalog("en"), i18n.catalog("fr")
    assert english and set(english) == set(french)
    for key in english:
        assert set(re.findall(r"\{(\w+)\}", english[key])) == set(re.findall(r"\{(\w+)\}", french[key])), key


def test_every_key_used_in_code_exists() -> None:
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path(i18n.__file__).parents[1].rglob("*.py"))
    used = set(re.findall(r'"((?:error|notice|command)\.[a-z_]+)"', source))
    assert used and used <= set(i18n.catalog("en")), used - set(i18n.catalog("en"))


def test_text_fills_parameters_and_falls_back() -> None:
    assert i18n.text("fr", "error.unknown_pseudonym", name="calm-otter") == (
        "Personne dans cette communauté n’utilise le nom calm-otter."
    )
    assert i18n.text("fr", "no.such.key") == "no.such.key"
