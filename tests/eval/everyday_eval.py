"""Risk alerts on everyday chatter: how often plain conversation, not built to resemble risk, alerts.

The evaluation sets measure false alerts on look-alikes; most of what members write is neither. This
reads a folder of everyday conversation written elsewhere (kept out of the repository: its licence is
its own) and reports, per file and language, the lines that raise a risk alert read alone (as
risk_eval.alerted: inline or right after delivery), and the conversations' windows that do (each
speaker's last eight lines, speakers alternating).

Formats: `*.txt` (one text per line) and the chatterbot-corpus YAML layout (`- - first line` opens a
conversation, `  - next line` goes on; a `french` folder or a `.fr.txt` name is French, else English).
The corpus measured in docs/moderation.md is the `chatterbot-corpus` package's `data` folder.

Usage: python tests/eval/everyday_eval.py FOLDER [--show N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from policies.engine import PolicyEngine
from policies.types import Context
from tests.eval.evaluate import default_engine
from tests.eval.risk_eval import alerted

WINDOW = 8


def conversations(path: Path) -> list[list[str]]:
    """The file's conversations, each a list of lines in order (a .txt file is one conversation)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if path.suffix == ".txt":
        return [[line.strip() for line in lines if line.strip()]]
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("- - "):
            found.append([_unquoted(line[4:])])
        elif line.startswith("  - ") and found:
            found[-1].append(_unquoted(line[4:]))
    return [conversation for conversation in found if any(conversation)]


def _unquoted(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def language_of(path: Path) -> str | None:
    """en or fr; None for a YAML file outside an `english` or `french` folder (another language)."""
    if path.suffix == ".txt":
        return "fr" if path.name.endswith(".fr.txt") else "en"
    return "en" if "english" in path.parts else "fr" if "french" in path.parts else None


def measure(engine: PolicyEngine, path: Path, language: str, show: int) -> tuple[int, int, int, int]:
    """Lines, lines that alert alone, windows read, windows that alert; prints up to `show` alerting lines."""
    context = Context(realm="eval", language=language)
    lines = alone = windows = joint = 0
    shown: list[str] = []
    for conversation in conversations(path):
        said: tuple[list[str], list[str]] = ([], [])
        for index, text in enumerate(conversation):
            lines += 1
            if alerted(engine, text, language):
                alone += 1
                shown.append(text)
            speaker = said[index % 2]
            speaker.append(text)
            windows += 1
            joint += bool(engine.assess_recent(speaker[-WINDOW:], context))
    rate = alone / lines if lines else 0.0
    print(f"{language}  {path.stem:<16} lines {lines:5d}  alone {alone:4d} ({rate:.3f})  windows {joint:4d}/{windows}")
    for text in shown[:show]:
        print(f"      {text[:100]}")
    return lines, alone, windows, joint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--show", type=int, default=0, help="print up to N alerting lines per file")
    args = parser.parse_args()
    engine = default_engine()
    files = sorted(p for p in args.folder.rglob("*") if p.suffix in (".txt", ".yml", ".yaml"))
    totals: dict[str, list[int]] = {}
    for path in files:
        language = language_of(path)
        if language is None:
            continue
        counts = measure(engine, path, language, args.show)
        total = totals.setdefault(language, [0, 0, 0, 0])
        for position, count in enumerate(counts):
            total[position] += count
    for language, (lines, alone, windows, joint) in sorted(totals.items()):
        print(
            f"{language}  all: {alone}/{lines} lines alert alone ({alone / max(lines, 1):.3f}),"
            f" {joint}/{windows} windows ({joint / max(windows, 1):.3f})"
        )


if __name__ == "__main__":
    main()
