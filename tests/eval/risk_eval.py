"""Risk alerts measured on texts the cue lexicons were not built from.

The development sets (tests/eval/risk/dev_{en,fr}.tsv) are grouped in template families;
families alternate between half A, which the cue lexicons were built from, and half B,
which is only measured. The blind set (tests/eval/risk/blind.tsv), when present, was
written apart from the lexicons and is only ever measured; so is the unseen writers' set
(unseen_writers.tsv), written by two writers from the clinical constructs alone, and the fresh
writers' set (fresh_writers.tsv, 1,200 texts by two later writers, kept apart when the model was
last trained). The tuning set of harmless look-alikes (tuning_safe.tsv) was written apart too and,
like half A, used to tune. Sequences (seq_{en,fr}.tsv) are three short messages from one member,
scored together with assess_recent.

A risk text counts as caught when chatd raises a risk alert for it under the default
conf/policies.toml thresholds: inline (the review) or right after delivery (assess_recent, where
the statistical model of policies/risk_model.py joins the lexicon); a look-alike counts as a false
alert when it raises one. --inline-only measures the review alone.

Usage: python tests/eval/risk_eval.py [--show-half-a]   (half B and the blind set never print texts)
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from policies.engine import PolicyEngine
from policies.types import Context
from tests.eval.evaluate import default_engine

DATA = Path(__file__).parent / "risk"
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Text:
    language: str
    half: str  # "A", "B" or "blind"
    family: str
    risk: bool
    constructs: tuple[str, ...]
    text: str


@dataclass
class Tally:
    caught: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.caught / self.total if self.total else 0.0

    def add(self, hit: bool) -> None:
        self.caught += hit
        self.total += 1

    def __str__(self) -> str:
        return f"{self.rate:.3f} ({self.caught}/{self.total})"


@dataclass
class Results:
    recall: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    false_alerts: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    per_construct: dict[tuple[str, str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[str] = field(default_factory=list)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def development_set(language: str) -> list[Text]:
    path = DATA / f"dev_{language}.tsv"
    if not path.exists():
        return []
    order: dict[tuple[str, str], int] = {}
    texts = []
    for row in _rows(path):
        key = (row["label"], row["template"])
        order.setdefault(key, sum(1 for k in order if k[0] == row["label"]))
        half = "A" if order[key] % 2 == 0 else "B"
        constructs = tuple(c.strip() for c in row["constructs"].split(",") if c.strip())
        texts.append(Text(language, half, row["template"], row["label"] == "risk", constructs, row["text"]))
    return texts


def blind_set() -> list[Text]:
    return _measured_set("blind.tsv", "blind")


def unseen_set() -> list[Text]:
    """Texts by two writers who saw nothing of the project but the clinical constructs, kept out of all
    training and tuning: the estimate of what the model does on texts nobody here wrote."""
    return _measured_set("unseen_writers.tsv", "unseen")


def fresh_set() -> list[Text]:
    """Texts by two later writers from the constructs alone (younger voices, chat slang, ongoing harm by
    others; Quebec and France French), kept out of the model's training: a second, fresher estimate."""
    return _measured_set("fresh_writers.tsv", "fresh")


def _measured_set(name: str, half: str) -> list[Text]:
    path = DATA / name
    if not path.exists():
        return []
    return [
        Text(row["language"], half, "", row["label"] == "risk", tuple(row["constructs"].split(",")), row["text"])
        for row in _rows(path)
    ]


def tuning_set() -> list[Text]:
    """Harmless look-alikes written apart from the lexicons; used, like half A, to prune and tune."""
    path = DATA / "tuning_safe.tsv"
    if not path.exists():
        return []
    return [Text(row["language"], "tuning", row["type"], False, (), row["text"]) for row in _rows(path)]


def sequences(language: str) -> dict[tuple[str, bool], list[str]]:
    path = DATA / f"seq_{language}.tsv"
    found: dict[tuple[str, bool], list[tuple[int, str]]] = defaultdict(list)
    if path.exists():
        for row in _rows(path):
            found[row["sequence"], row["label"] == "risk"].append((int(row["order"]), row["text"]))
    return {key: [text for _, text in sorted(messages)] for key, messages in found.items()}


def alerted(engine: PolicyEngine, text: str, language: str, inline_only: bool = False) -> bool:
    """Whether chatd raises a risk alert for the text: inline (review) or right after delivery
    (assess_recent, where the statistical model joins the lexicon)."""
    context = Context(realm="eval", language=language)
    verdict = engine.confirmed(engine.review(text, context), text, language)
    if any(alert.kind.startswith("risk.") for alert in verdict.alerts):
        return True
    return not inline_only and any(alert.kind.startswith("risk.") for alert in engine.assess_recent([text], context))


def measure(engine: PolicyEngine, texts: list[Text], inline_only: bool = False) -> Results:
    results = Results()
    for item in texts:
        hit = alerted(engine, item.text, item.language, inline_only)
        key = (item.half, item.language)
        if item.risk:
            results.recall[key].add(hit)
            for construct in item.constructs:
                results.per_construct[item.half, item.language, construct].add(hit)
        else:
            results.false_alerts[key].add(hit)
        if item.half in ("A", "tuning") and hit != item.risk:
            what = "miss" if item.risk else "false"
            results.misses.append(f"{what} [{item.language}] {item.family} {','.join(item.constructs)}: {item.text}")
    return results


def measure_sequences(
    engine: PolicyEngine, language: str, half: str, misses: list[str] | None = None
) -> tuple[Tally, Tally, Tally]:
    """Risk sequences alerted together, those no single message alerted, safe sequences alerted.

    Sequences alternate between half A (shown with --show-half-a) and half B, like the families."""
    together, only_together, false = Tally(), Tally(), Tally()
    context = Context(realm="eval", language=language)
    for index, ((_, risk), messages) in enumerate(sorted(sequences(language).items())):
        if ("A" if index % 2 == 0 else "B") != half:
            continue
        joint = bool(engine.assess_recent(messages, context))
        single = any(alerted(engine, text, language) for text in messages)
        if risk:
            together.add(joint or single)
            if not single:
                only_together.add(joint)
        else:
            false.add(joint or single)
        if misses is not None and (joint or single) != risk:
            misses.append(f"{'miss' if risk else 'false'} sequence [{language}]: " + " / ".join(messages))
    return together, only_together, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-half-a", action="store_true", help="print half A's misses and false alerts")
    parser.add_argument("--inline-only", action="store_true", help="the inline review alone, without the model")
    arguments = parser.parse_args()
    engine = default_engine()
    texts = [t for language in LANGUAGES for t in development_set(language)] + blind_set() + unseen_set() + fresh_set()
    texts += tuning_set()
    started = time.perf_counter()
    results = measure(engine, texts, arguments.inline_only)
    elapsed = time.perf_counter() - started
    print(f"{len(texts)} texts, {elapsed / max(len(texts), 1) * 1e6:.0f} µs per review\n")
    print(f"{'set':<8}{'lang':<6}{'recall':>18}{'false alerts':>20}")
    for half in ("A", "B", "blind", "unseen", "fresh", "tuning"):
        for language in LANGUAGES:
            if (half, language) in results.false_alerts:
                recall, false = results.recall.get((half, language)), results.false_alerts[half, language]
                print(f"{half:<8}{language:<6}{recall or '-'!s:>18}{false!s:>20}")
    print(f"\n{'construct':<18}" + "".join(f"{h + ' ' + lang:>16}" for h in ("A", "B") for lang in LANGUAGES))
    constructs = sorted({key[2] for key in results.per_construct if key[0] in ("A", "B")})
    for construct in constructs:
        cells = [results.per_construct.get((h, lang, construct)) for h in ("A", "B") for lang in LANGUAGES]
        print(f"{construct:<18}" + "".join(f"{str(c) if c else '-':>16}" for c in cells))
    print("\nsequences of three messages (assess_recent):")
    for half in ("A", "B"):
        for language in LANGUAGES:
            together, only_together, false = measure_sequences(
                engine, language, half, results.misses if half == "A" else None
            )
            if together.total:
                print(f"  {half} {language}: risk sequences alerted {together}, of which no single message "
                      f"alerted: {only_together}; safe sequences alerted {false}")  # fmt: skip
    if arguments.show_half_a:
        print("\nhalf A errors:")
        for line in results.misses:
            print(" ", line)


if __name__ == "__main__":
    main()
