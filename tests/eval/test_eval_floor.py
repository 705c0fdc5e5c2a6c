"""Regression floors on a smaller corpus, somewhat below the aims in the issue."""

from __future__ import annotations

import pytest

from tests.eval.build_corpus import build
from tests.eval.evaluate import STRUCTURED, Report, default_engine, evaluate


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
