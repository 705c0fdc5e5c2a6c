"""The meaning read ahead (PolicyEngine.read_ahead): windows waiting to be read have the meanings they could ask
for encoded in one encoder call, and then decide exactly as windows read one text at a time (real eval texts)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from policies import risk_model
from policies.engine import PolicyEngine
from policies.risk_model import LEVELS, encoder, model
from tests.unit.policies.support import english, french

EVAL = Path(__file__).parents[2] / "eval" / "risk"


def rows(name: str) -> list[dict[str, str]]:
    with (EVAL / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def sequences(language: str) -> list[list[str]]:
    """The eval's sequences of one author's texts, in order (tests/eval/risk/seq_LANG.tsv)."""
    found: dict[str, list[tuple[int, str]]] = {}
    for row in rows(f"seq_{language}.tsv"):
        found.setdefault(row["sequence"], []).append((int(row["order"]), row["text"]))
    return [[text for _, text in sorted(texts)] for texts in found.values()]


def growing(language: str) -> Iterator[list[str]]:
    """Each sequence's windows as its texts arrive: the first text, the first two, ..."""
    for texts in sequences(language):
        for end in range(1, len(texts) + 1):
            yield texts[:end]


def test_the_encoder_reads_a_batch_as_it_reads_each_text() -> None:
    texts = [row["text"] for row in rows("blind.tsv")[:40] + rows("fresh_writers.tsv")[:40]]
    texts += [" . ".join(window[-3:]) for window in list(growing("en"))[:16]]  # texts joined: longer
    together = encoder()(texts)
    alone = np.concatenate([encoder()([text]) for text in texts])
    assert together.shape == alone.shape == (len(texts), 512)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    for language in ("en", "fr"):
        reading = model(language)
        assert reading is not None and reading.meaning is not None
        batched, single = reading.meaning.probabilities(together), reading.meaning.probabilities(alone)
        np.testing.assert_allclose(batched, single, atol=1e-5)
        for text, meant, meant_alone in zip(texts, batched, single, strict=True):  # the same decisions
            wording = reading.wording(text.lower())
            decided = [(reading.score(wording, m, lexical) >= 0) for m in (meant, meant_alone) for lexical in LEVELS]
            assert decided[: len(LEVELS)] == decided[len(LEVELS) :]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_windows_read_ahead_decide_as_windows_read_one_by_one(
    engine: PolicyEngine, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = english() if language == "en" else french()
    reading = model(language)
    assert reading is not None
    windows = list(growing(language))
    reading._meanings.clear()
    one_by_one = [engine.assess_recent(window, context) for window in windows]
    assert any(one_by_one) and not all(one_by_one)  # the eval's sequences: risk and not
    reading._meanings.clear()
    read_ahead = []
    encoded = 0
    for start in range(0, len(windows), 16):  # 16 windows waiting at a time
        waiting = windows[start : start + 16]
        encoded += engine.read_ahead([(window, language) for window in waiting])
        with monkeypatch.context() as patch:  # all a window asks for was read ahead
            patch.setattr(risk_model, "encoder", lambda: pytest.fail("a meaning the read ahead missed"))
            read_ahead += [engine.assess_recent(window, context) for window in waiting]
    assert read_ahead == one_by_one
    assert encoded > len(windows) // 16  # several texts per encoder call


def test_a_read_ahead_encodes_only_what_is_not_kept_and_could_decide(engine: PolicyEngine) -> None:
    reading = model("en")
    assert reading is not None
    everyday = "the bus was late again so I walked to the pharmacy and picked up my allergy stuff, back home now"
    garage = "taped up the gaps in the garage today"  # no cue: the meaning could raise an alert
    reading._meanings.clear()
    assert engine.read_ahead([([everyday], "en")]) == 0  # its wording decides: no meaning asked for
    assert engine.read_ahead([([garage], "en")], most=0) == 0
    assert reading.kept(garage) is None
    assert engine.read_ahead([([garage], "en"), ([everyday, garage], "en")]) == 1  # asked twice, encoded once
    assert reading.kept(garage) is not None
    assert engine.read_ahead([([garage], "en")]) == 0  # kept
