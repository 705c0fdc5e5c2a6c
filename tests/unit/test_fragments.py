"""Personal information sent in pieces, checked by the real policies (chatd/core/fragments.py)."""

from __future__ import annotations

import tomllib

import pytest

from chatd.core.fragments import Completion, FragmentWindow, Piece, is_piece_sign
from policies import Action, Context, Verdict
from policies.engine import PolicyEngine
from tests.unit.policies.support import SETTINGS_FILE, label


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    with SETTINGS_FILE.open("rb") as handle:
        return PolicyEngine.from_settings(tomllib.load(handle), label)


def send(
    engine: PolicyEngine, texts: list[str], language: str = "en", gap: float = 5.0
) -> tuple[FragmentWindow, list[Completion | None], list[Verdict]]:
    """Each text as a member would send it: its own review, then the window."""
    window = FragmentWindow(label)
    context = Context(realm="test", language=language)
    completions, verdicts = [], []
    for index, text in enumerate(texts):
        verdict = engine.review(text, context)
        verdicts.append(verdict)
        piece = Piece(f"s{index}", f"c{index}", verdict.text, index * gap)
        completions.append(window.add(("dm:1:2", 1), piece, verdict, context, engine.review_personal_information))
    return window, completions, verdicts


@pytest.mark.parametrize(
    ("texts", "language", "kind", "retracted"),
    [
        (["my number is 613", "555", "0142 text me"], "en", "pii.phone", ("s0", "s1")),
        (["six one three", "five five five", "zero one four two"], "en", "pii.phone", ("s0", "s1")),
        (["mon numéro c'est le 514", "cinq cinq cinq", "zéro un neuf neuf"], "fr", "pii.phone", ("s0", "s1")),
        (["06 12", "34 56 78"], "fr", "pii.phone", ("s0",)),
        (["write me: john dot smith", "at gmail", "dot com"], "en", "pii.email", ("s0", "s1")),
        (["marie point tremblay", "arobase hotmail point com"], "fr", "pii.email", ("s0",)),
        (["my insta is", "jay.mtl_88"], "en", "pii.handle", ()),
        (["mon NAS", "130 692", "544"], "fr", "pii.sin", ("s1",)),
        (["42 maple", "apt 3"], "en", "pii.address", ("s0",)),
        (["au 42 des érables", "app. 3"], "fr", "pii.address", ("s0",)),
    ],
)
def test_a_later_piece_completes_personal_information(
    engine: PolicyEngine, texts: list[str], language: str, kind: str, retracted: tuple[str, ...]
) -> None:
    window, completions, verdicts = send(engine, texts, language)
    assert all(v.action is Action.DELIVER for v in verdicts), "each piece alone passes"
    assert completions[:-1] == [None] * (len(texts) - 1)
    completion = completions[-1]
    assert completion is not None
    assert kind in completion.kinds
    assert tuple(p.stanza_id for p in completion.earlier) == retracted
    assert completion.verdict.action is Action.REDACT
    assert f"[{kind}:{language}]" in completion.verdict.text
    assert completion.joined == " ".join(texts)
    assert len(window) == 0, "the window starts again after a completion"


def test_the_newest_piece_keeps_its_other_words(engine: PolicyEngine) -> None:
    _, completions, _ = send(engine, ["my number is 613", "555", "0142 text me"])
    completion = completions[-1]
    assert completion is not None
    assert completion.verdict.text == "[pii.phone:en] text me"
    assert completion.verdict.rules == ("no-personal-info",)


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["day 3", "30 days", "rated it 2"], "en"),
        (["I have 2 kids", "ages 4 and 7", "and 1 dog"], "en"),
        (["we moved in 2015", "then 2019", "now 2024 again"], "en"),
        (["my score was 650", "out of 900", "then 712"], "en"),
        (["I slept 4 hours", "woke up at 3", "then 5 more minutes"], "en"),
        (["jour 3", "30 jours", "je lui donne 2"], "fr"),
        (["j'ai 3 enfants", "de 4, 7 et 12 ans", "et 2 chats"], "fr"),
        (["on est le 14", "rendez-vous à 15 h 30", "salle 204"], "fr"),
        (["see you at the meeting", "at 7", "dot on time"], "en"),
    ],
)
def test_ordinary_numbers_across_messages_stay(engine: PolicyEngine, texts: list[str], language: str) -> None:
    _, completions, _ = send(engine, texts, language)
    assert completions == [None] * len(texts)


def test_pieces_expire_and_stay_per_conversation(engine: PolicyEngine) -> None:
    _, completions, _ = send(engine, ["my number is 613", "555", "0142"], gap=700.0)
    assert completions == [None, None, None], "more than the window's seconds apart"
    window = FragmentWindow(label)
    context = Context(realm="test", language="en")
    for index, (key, text) in enumerate([(("dm:1:2", 1), "613"), (("dm:1:3", 1), "555"), (("dm:1:2", 2), "0142")]):
        verdict = engine.review(text, context)
        assert window.add(key, Piece(str(index), None, text, 0.0), verdict, context, engine.review) is None
    assert len(window) == 3


def test_the_window_is_bounded(engine: PolicyEngine) -> None:
    window = FragmentWindow(label, max_keys=10)
    context = Context(realm="test", language="en")
    for member in range(50):
        verdict = Verdict(Action.DELIVER, "hi")
        window.add(("room:en:general", member), Piece(str(member), None, "hi", 0.0), verdict, context, engine.review)
    assert len(window) == 10


def test_only_the_texts_within_reach_are_read_again(engine: PolicyEngine) -> None:
    """A piece crossing into the newest text begins within REACH characters of it: earlier texts are not read."""
    long = "I went for a long walk by the river this morning and it helped me think about the group"
    texts = ["room 12 was cold", long, "I have 2 kids", "my number is 613", "555", "0142 text me"]
    read: list[str] = []

    def reading(text: str, context: Context) -> Verdict:
        read.append(text)
        return engine.review_personal_information(text, context)

    window, context = FragmentWindow(label), Context(realm="test", language="en")
    for index, text in enumerate(texts):
        verdict = engine.review(text, context)
        completion = window.add(("dm:1:2", 1), Piece(f"s{index}", None, verdict.text, 0.0), verdict, context, reading)
    assert completion is not None and completion.kinds == ("pii.phone",)
    assert [p.stanza_id for p in completion.earlier] == ["s3", "s4"]
    # the last reading starts at the long text (clipped), which reaches REACH; "room 12" before it is not read
    assert read[-1].startswith(long[:40]) and "room 12" not in read[-1]
    assert "room 12" in read[0]  # while it was within reach


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["I was at the base all day", "at least I slept", "see you at the meeting"], "en"),
        (["one of those days", "no one called", "oh well, at home now"], "en"),
        (["I went for a long walk, it made the day at the base feel lighter"] * 3, "en"),
        (["j'ai vu un ami", "une belle journée", "ça va, à ce point-là je dors"], "fr"),
        (["un jour à la fois", "on en parle à une rencontre", "ca fait du bien"], "fr"),
    ],
)
def test_ordinary_words_are_not_read_again(engine: PolicyEngine, texts: list[str], language: str) -> None:
    """Words that can be part of a piece ("at", "one", "un") bring no joined reading without anything a
    number, an email, a link or a handle needs."""
    read: list[str] = []

    def review(text: str, context: Context) -> Verdict:
        read.append(text)
        return engine.review_personal_information(text, context)

    window, context = FragmentWindow(label), Context(realm="test", language=language)
    for index, text in enumerate(texts):
        verdict = engine.review(text, context)
        assert window.add(("dm:1:2", 1), Piece(f"s{index}", None, text, index * 5.0), verdict, context, review) is None
    assert read == []


@pytest.mark.parametrize(
    ("text", "signed"),
    [
        ("it was one of those days", False), ("j'ai vu un ami hier", False),
        ("I was at the base", True),  # "at" may begin an email's domain: the joined texts decide
        ("six one three", True), ("it was five", True), ("one more thing", True), ("cinq cinq", True),
        ("call me at 613", True), ("my insta is", True), ("jay.mtl_88", True), ("trois", True),
        ("jay.mtl", True), ("jay_mtl", True), ("Slept well. Then coffee.", False), ("_ok_ .", False),
        ("a walk by the river this morning", False),
    ],
)  # fmt: skip
def test_a_number_word_is_a_sign_only_where_a_number_can_go_on(text: str, signed: bool) -> None:
    assert is_piece_sign(text) is signed
