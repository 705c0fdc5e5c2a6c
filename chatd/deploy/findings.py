"""What `chatd check` found: problems (the deployment is not ready) and warnings, in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    def lines(self) -> list[str]:
        return [f"problem: {p}" for p in self.problems] + [f"warning: {w}" for w in self.warnings]


def outside_checkout(findings: Findings, what: str, path: Path) -> None:
    """Data, keys and pid files belong to the server, not to the source checkout (an update could lose them)."""
    if path.resolve().is_relative_to(REPO):
        findings.problem(f"{what} {path} is inside the source checkout {REPO}: keep it under /var/lib or /etc")
