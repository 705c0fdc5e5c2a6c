"""Member-facing texts: key-style msgids in gettext catalogs, one per language."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("en", "fr")


def _po_files(language: str) -> Iterator[Catalog]:
    """Every .po file of a language, in name order."""
    folder = resources.files("chatd.i18n").joinpath("locale", language, "LC_MESSAGES")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".po"):
            with entry.open("rb") as handle:
                yield read_po(handle, locale=language)


@cache
def catalog(language: str) -> dict[str, str]:
    """Every msgid -> text for one language, from all .po files of that language (plural entries: plural())."""
    texts: dict[str, str] = {}
    for po in _po_files(language):
        for message in po:
            if message.id and message.string and not message.pluralizable:
                texts[str(message.id)] = str(message.string)
    return texts


@cache
def plural_catalog(language: str) -> tuple[dict[str, tuple[str, ...]], Callable[[int], int]]:
    """msgid -> its plural forms (msgid_plural entries), and the language's rule choosing a form for n."""
    forms: dict[str, tuple[str, ...]] = {}
    rule: Callable[[int], int] = gettext.c2py("(n != 1)")
    for po in _po_files(language):
        for message in po:
            if message.pluralizable and isinstance(message.string, tuple) and all(message.string):
                forms[str(message.id[0])] = tuple(str(s) for s in message.string)
                rule = gettext.c2py(po.plural_expr)
    return forms, rule


def plural(language: str, key: str, n: int, **params: str) -> str:
    """The form of key's text for the number n in language ("1 new message", "12 new messages"), params filled."""
    forms, rule = plural_catalog(language)
    if key not in forms:
        forms, rule = plural_catalog("en")
    chosen = forms.get(key)
    if chosen is None:
        return key
    try:
        return chosen[min(rule(n), len(chosen) - 1)].format(**params)
    except (KeyError, IndexError, ValueError):
        return chosen[0]


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
