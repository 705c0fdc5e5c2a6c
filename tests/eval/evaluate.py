"""Precision and recall of the policies on the labelled corpus, per kind and language.

PII: a found span counts when it overlaps a labelled span of the same kind.
Risk: per message; detection means any risk finding, alert means an alert under the
default conf/policies.toml thresholds. The false-alert rate is measured on the safe
look-alikes ("killing time", "je suis mort de rire").

Usage: python tests/eval/evaluate.py [--seed 7] [--per-language 1000]
"""

from __future__ import annotations

import argparse
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from policies.engine import PolicyEngine
from policies.types import Context, Verdict

try:  # run as a script or imported from the tests
    from build_corpus import Sample, build  # type: ignore[import-not-found,no-redef]
except ImportError:
    from tests.eval.build_corpus import Sample, build

SETTINGS = Path(__file__).parents[2] / "conf" / "policies.toml"
STRUCTURED = ("pii.email", "pii.phone", "pii.postal_code", "pii.sin", "pii.url")


@dataclass
class Counts:
    true_positives: int = 0  # found spans that match a label
    found: int = 0
    matched_labels: int = 0
    labels: int = 0

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched_labels / self.labels if self.labels else 1.0


@dataclass
class Report:
    pii: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    risk_detected: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    risk_alerted: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    safe_alerts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[str] = field(default_factory=list)

    def pooled(self, kinds: tuple[str, ...]) -> Counts:
        total = Counts()
        for (kind, _), counts in self.pii.items():
            if kind in kinds:
                total.true_positives += counts.true_positives
                total.found += counts.found
                total.matched_labels += counts.matched_labels
                total.labels += counts.labels
        return total

    def false_alert_rate(self, language: str | None = None) -> float:
        rows = [v for k, v in self.safe_alerts.items() if language in (None, k)]
        total = sum(row[1] for row in rows)
        return sum(row[0] for row in rows) / total if total else 0.0


def default_engine() -> PolicyEngine:
    with SETTINGS.open("rb") as handle:
        settings = tomllib.load(handle)
    return PolicyEngine.from_settings(settings, lambda kind, language: f"[{kind}]")


def evaluate(samples: list[Sample], engine: PolicyEngine) -> Report:
    report = Report()
    for sample in samples:
        verdict = engine.review(sample.text, Context(realm="eval", language=sample.language))
        _score_pii(report, sample, verdict)
        _score_risk(report, sample, verdict)
    return report


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _score_pii(report: Report, sample: Sample, verdict: Verdict) -> None:
    found = [(f.kind, (f.start, f.end)) for f in verdict.findings if f.category == "pii"]
    for kind, start, end in sample.pii:
        counts = report.pii[kind, sample.language]
        counts.labels += 1
        if any(k == kind and _overlaps(span, (start, end)) for k, span in found):
            counts.matched_labels += 1
        else:
            report.misses.append(f"miss {kind} [{sample.language}] {sample.text!r}")
    for kind, span in found:
        counts = report.pii[kind, sample.language]
        counts.found += 1
        if any(k == kind and _overlaps(span, (s, e)) for k, s, e in sample.pii):
            counts.true_positives += 1
        else:
            text = sample.text[span[0] : span[1]]
            report.misses.append(f"false {kind} {text!r} [{sample.language}] {sample.text!r}")


def _score_risk(report: Report, sample: Sample, verdict: Verdict) -> None:
    risky = {f.kind for f in verdict.findings if f.category == "risk"}
    alerted = any(alert.kind.startswith("risk.") for alert in verdict.alerts)
    if sample.risk:
        for key in ((sample.risk, sample.language), ("all", sample.language)):
            counts = report.risk_detected[key]
            counts.labels += 1
            counts.matched_labels += bool(risky)
        report.risk_alerted[sample.language].labels += 1
        report.risk_alerted[sample.language].matched_labels += alerted
        if not risky:
            report.misses.append(f"miss risk.{sample.risk} [{sample.language}] {sample.text!r}")
    elif sample.safe_lookalike:
        report.safe_alerts[sample.language][1] += 1
        report.safe_alerts[sample.language][0] += alerted
        if alerted:
            report.misses.append(f"false alert {sorted(risky)} {sample.text!r}")


def print_report(report: Report, show_errors: int) -> None:
    print(f"{'PII kind':<18}{'lang':<6}{'labels':>7}{'found':>7}{'precision':>11}{'recall':>8}")
    for (kind, language), counts in sorted(report.pii.items()):
        print(f"{kind:<18}{language:<6}{counts.labels:>7}{counts.found:>7}"
              f"{counts.precision:>11.3f}{counts.recall:>8.3f}")  # fmt: skip
    structured = report.pooled(STRUCTURED)
    fuzzy = report.pooled(("pii.name", "pii.place", "pii.military"))
    print(f"\nstructured PII: precision {structured.precision:.3f} recall {structured.recall:.3f}")
    print(f"names, places, units: precision {fuzzy.precision:.3f} recall {fuzzy.recall:.3f}")
    print(f"\n{'risk category':<22}{'lang':<6}{'messages':>9}{'detected':>10}")
    for (category, language), counts in sorted(report.risk_detected.items()):
        print(f"{category:<22}{language:<6}{counts.labels:>9}{counts.recall:>10.3f}")
    for language, counts in sorted(report.risk_alerted.items()):
        print(f"risk alert recall (default thresholds) [{language}]: {counts.recall:.3f}")
    for language in sorted(report.safe_alerts):
        flagged, total = report.safe_alerts[language]
        print(f"false alert rate on safe look-alikes [{language}]: "
              f"{report.false_alert_rate(language):.3f} ({flagged}/{total})")  # fmt: skip
    if show_errors:
        print(f"\nfirst {show_errors} errors:")
        for line in report.misses[:show_errors]:
            print(" ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-language", type=int, default=1000)
    parser.add_argument("--errors", type=int, default=0, help="print this many errors")
    arguments = parser.parse_args()
    samples = build(arguments.seed, arguments.per_language)
    print(f"{len(samples)} messages (seed {arguments.seed})\n")
    print_report(evaluate(samples, default_engine()), arguments.errors)
    try:  # it imports this module: run as `python -m tests.eval.evaluate` or as a script
        from tests.eval.sequences import build_sequences, evaluate_sequences, print_sequences
    except ModuleNotFoundError:
        from sequences import build_sequences, evaluate_sequences, print_sequences  # type: ignore[import-not-found,no-redef]

    print("\nacross messages (tests/eval/sequences.py)")
    print_sequences(evaluate_sequences(build_sequences(arguments.seed), default_engine()), arguments.errors)


if __name__ == "__main__":
    main()
