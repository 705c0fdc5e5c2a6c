from __future__ import annotations

import re

import pytest

from policies.normalize import normalize, number_word_runs


def original_of(text: str, pattern: str) -> str:
    """The original text behind the first match of pattern on the normalized text."""
    norm = normalize(text)
    match = re.search(pattern, norm.lower)
    assert match, norm.lower
    start, end = norm.span(match.start(), match.end())
    return text[start:end]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ｊｏｈｎ", "john"),  # full-width, NFKC
        ("jo\u200bhn", "john"),  # zero-width space
        ("Jоhn", "john"),  # Cyrillic о
        ("Ιvan", "ivan"),  # Greek capital iota
        ("Hélène", "helene"),  # accents folded
        ("e\u0301cole", "ecole"),  # combining accent
        ("j o h n", "john"),  # letter spacing
        ("k.i.l.l", "kill"),
        ("l’école", "l'ecole"),  # typographic apostrophe
    ],
)
def test_folding(text: str, expected: str) -> None:
    assert normalize(text).lower == expected


def test_spaced_words_keep_their_gap() -> None:
    assert normalize("k i l l  m y s e l f").lower == "kill myself"


def test_digits_as_words_english_and_french() -> None:
    assert normalize("five one four, five five five").lower == "514555"
    assert normalize("cinq un quatre cinq cinq cinq").lower == "514555"
    assert normalize("one or two kids").lower == "one or two kids"


@pytest.mark.parametrize(
    "text",
    ["john at gmail dot com", "john [at] gmail [dot] com", "jean [at] videotron [point] ca",
     "john (at) gmail (dot) com", "john @ gmail . com", "jean arobase videotron point ca"],
)  # fmt: skip
def test_obfuscated_emails_become_emails(text: str) -> None:
    assert re.fullmatch(r"\w+@\w+\.\w+", normalize(text).lower)


def test_at_in_a_sentence_is_not_an_email() -> None:
    assert "@" not in normalize("meet me at the gym at noon").lower
    assert "@" not in normalize("check the site at www.example.com").lower


def test_leetspeak_view() -> None:
    norm = normalize("k1ll mys3lf, call 514 555 0199")
    assert norm.leet.startswith("kill myself")
    assert "514 555 0199" in norm.leet  # digits alone are left alone
    assert norm.lower.startswith("k1ll")


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("Mail: jo\u200bhn@gmаil.com now", r"\S+@\S+", "jo\u200bhn@gmаil.com"),
        ("I am j o h n ok", "john", "j o h n"),
        ("call five one four five five five", r"\d+", "five one four five five five"),
        ("x jean [at] videotron [point] ca y", r"\S+@\S+", "jean [at] videotron [point] ca"),
        ("Ｃａｌｌ ｍｅ", "call", "Ｃａｌｌ"),
        ("cafe\u0301 ici", "cafe", "cafe\u0301"),
    ],
)
def test_spans_map_back_to_the_original(text: str, pattern: str, expected: str) -> None:
    assert original_of(text, pattern) == expected


def test_every_view_has_the_same_length() -> None:
    norm = normalize("Ｊоhn\u200b at gmail dot com, five one four ﬁne")
    lengths = {len(norm.lower), len(norm.cased), len(norm.leet), len(norm.starts), len(norm.ends)}
    assert len(lengths) == 1


def test_folding_a_phrase_word_by_word_gives_what_normalizing_it_whole_gives() -> None:
    from policies import cues, risk
    from policies.lexicon import read_rows
    from policies.normalize import fold, normalize

    phrases = [row[0] for name in risk.LEXICONS.values() for row in read_rows(name)][::25]
    phrases += ["five one four", "j o h n", "marie at gmail dot com", "j'ai 3 pilules", "un deux trois", "à l'hôpital"]
    for phrase in phrases:
        for form in cues._alternatives(cues.LEMMA.sub("x", phrase))[:50]:
            assert fold(form) == normalize(form).lower, form


def test_number_word_runs_are_read_as_normalize_joins_digits() -> None:
    text = "call five, one four or cinq cinq zéro then one day"
    runs = [(count, text[start:end]) for count, start, end in number_word_runs(text)]
    assert runs == [(3, "five, one four"), (3, "cinq cinq zéro"), (1, "one")]
    assert "514" in normalize("call five, one four").lower  # three in a row: digits
    assert normalize("then one day").lower == "then one day"
