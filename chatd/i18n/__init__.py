"""Member-facing texts: key-style msgids in gettext catalogs, one per language."""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

LANGUAGES = ("en", "fr")


@cache
def catalog(language: str) -> dict[str, str]:
    """Every msgid -> text for one language, from all .po files of that language."""
    texts: dict[str, str] = {}
    folder = resources.files("chatd.i18n").joinpath("locale", language, "LC_MESSAGES")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".po"):
            with entry.open("rb") as handle:
                for message in read_po(handle, locale=language):
                    if message.id and message.string:
                        texts[str(message.id)] = str(message.string)
    return texts


def text(language: str, key: str, **params: str) -> str:
    """The text for key in language (English if missing there), with {params} filled."""
    template = catalog(language).get(key) or catalog("en").get(key) or key
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):
        return template


def house_rules(language: str) -> list[str]:
    """The house rules (registration.rule.1, .2, … as the catalog has them): the sign-up page, the welcome."""
    rules, texts = [], catalog(language)
    while f"registration.rule.{len(rules) + 1}" in texts:
        rules.append(texts[f"registration.rule.{len(rules) + 1}"])
    return rules


def label(kind: str, language: str) -> str:
    """Placeholder for a redacted span, e.g. "[email removed]"."""
    return text(language, f"label.{kind}") if f"label.{kind}" in catalog(language) else text(language, "label.default")


def tag_name(language: str, tag: str) -> str:
    """A room tag's name in a language ("ptsd-trauma" -> "PTSD / trauma"); an unknown tag is shown as itself."""
    return catalog(language).get(f"tag.{tag}") or catalog("en").get(f"tag.{tag}") or tag


def tag_names(tag: str) -> list[str]:
    """A room tag's names in every language, for matching a member's words."""
    return [tag_name(language, tag) for language in LANGUAGES]
