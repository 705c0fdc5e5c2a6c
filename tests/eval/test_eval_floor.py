"""Regression floors on a smaller corpus, somewhat below the aims in the issue."""

from __future__ import annotations

import pytest

from tests.eval.build_corpus import build
from tests.eval.evaluate import STRUCTURED, Report, default_engine, evaluate
from tests.eval.sequences import SequenceReport, build_sequences, evaluate_sequences


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(build(seed=11, per_language=300), default_engine())


def test_structured_personal_information(report: Report) -> None:
    pooled = report.pooled(STRUCTURED)
    assert pooled.recall >= 0.95
    assert pooled.precision >= 0.90


def test_names_places_and_units(report: Report) -> None:
    pooled = report.pooled(("pii.name", "pii.place", "pii.military"))
    assert pooled.recall >= 0.85
    assert pooled.precision >= 0.90


@pytest.mark.parametrize("language", ["en", "fr"])
def test_risk(report: Report, language: str) -> None:
    assert report.risk_detected["all", language].recall >= 0.92
    assert report.false_alert_rate(language) <= 0.05


@pytest.fixture(scope="module")
def risk_report():  # type: ignore[no-untyped-def]
    from tests.eval.risk_eval import blind_set, development_set, fresh_set, measure, unseen_set

    texts = [t for language in ("en", "fr") for t in development_set(language)] + blind_set() + unseen_set()
    texts += fresh_set()
    return measure(default_engine(), texts)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_risk_constructs_on_texts_the_lexicons_were_not_built_from(risk_report, language: str) -> None:  # type: ignore[no-untyped-def]
    """Floors a little below today's figures on the sets never trained on (see tests/eval/risk_eval.py):
    recall 0.90–0.95, false alerts 0.04–0.07; the lexicon alone (--inline-only) reaches ~0.5."""
    for half in ("B", "blind", "unseen", "fresh"):
        assert risk_report.recall[half, language].rate >= 0.85
        assert risk_report.false_alerts[half, language].rate <= 0.09


def test_addresses_with_everyday_forms(report: Report) -> None:
    pooled = report.pooled(("pii.address",))
    assert pooled.recall >= 0.95
    assert pooled.precision >= 0.95


@pytest.fixture(scope="module")
def sequences() -> SequenceReport:
    return evaluate_sequences(build_sequences(seed=11, count=150), default_engine())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_personal_information_in_pieces(sequences: SequenceReport, language: str) -> None:
    assert sequences.caught(language) >= 0.90
    assert sequences.false_retractions(language) <= 0.01
