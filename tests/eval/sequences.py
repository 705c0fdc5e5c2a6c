"""Multi-message evaluation: personal information sent in pieces, and clean sequences with numbers.

Split cases: a phone number, an email address, a SIN, a handle or an everyday address cut over
two to four messages, in English and French, with the words members put around them. A case is
caught when the recipient ends up without every piece of the value (a piece retracted, or its
part redacted). Clean sequences: three to six ordinary messages with numbers in them ("day 3",
"30 days", "rated it 2"); a false retraction is a clean sequence in which the window retracted
or redacted anything. Texts the single-message policies hold are counted apart.

Usage: python tests/eval/sequences.py [--seed 7] [--count 300] [--errors 10]
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from dataclasses import dataclass, field

from chatd.core.fragments import Completion, FragmentWindow, Piece
from policies.engine import PolicyEngine
from policies.types import Context

try:  # run as a script or imported from the tests
    from evaluate import default_engine  # type: ignore[import-not-found,no-redef]
except ImportError:
    from tests.eval.evaluate import default_engine

SECONDS_APART = 20.0
DIGIT_WORDS = {
    "en": "zero one two three four five six seven eight nine".split(),
    "fr": "zéro un deux trois quatre cinq six sept huit neuf".split(),
}
AREA_CODES = ["613", "514", "416", "604", "902", "780", "403", "819", "438", "905", "418", "450"]
FIRST = ["marie", "jean", "sarah", "kevin", "nath", "alex", "sam", "julie", "mike", "steph"]
LAST = ["tremblay", "roy", "smith", "gagnon", "nguyen", "brown", "cote", "wilson", "lee", "martin"]
DOMAINS = ["gmail", "hotmail", "outlook", "videotron", "yahoo", "icloud", "sympatico"]
STREETS = ["maple", "des érables", "cedar", "du moulin", "birchwood", "de la montagne", "lakeview", "beaubien"]
CUES = {
    "en": {
        "phone": ["my number is", "text me at", "call me", "my cell is", "here's my number", ""],
        "email": ["write me:", "my email is", "email me at", "reach me at", ""],
        "sin": ["my SIN is", "SIN", "my sin number"],
        "handle": ["my insta is", "add me on snap:", "my discord is", "find me on tiktok, it's"],
        "address": ["I'm at", "come by", "we're at", "drop it off at"],
    },
    "fr": {
        "phone": ["mon numéro c'est le", "texte-moi au", "appelle-moi au", "mon cell c'est", ""],
        "email": ["écris-moi à", "mon courriel c'est", "mon adresse courriel:", ""],
        "sin": ["mon NAS c'est", "NAS", "mon numéro d'assurance sociale"],
        "handle": ["mon insta c'est", "ajoute-moi sur snap:", "mon discord c'est", "sur tiktok c'est"],
        "address": ["je suis au", "viens au", "on est au", "dépose-le au"],
    },
}
AFTER = {
    "en": ["", "", " text me", " ok?", " if you want", " lol"],
    "fr": ["", "", " écris-moi", " ok?", " si tu veux"],
}
UNITS = {
    "en": ["apt {}", "apt. {}", "unit {}", "suite {}"],  # "unit 4" alone is not taken for an apartment
    "fr": ["app. {}", "app {}", "appartement {}", "logement {}"],
}
AT_DOT = {"en": ("at", "dot"), "fr": ("arobase", "point")}
SINS = ["130 692 544", "046 454 286", "193 456 787", "123 456 782"]  # valid checksums
CLEAN = {
    "en": [
        "day 3", "30 days", "rated it 2", "I have 2 kids", "ages 4 and 7", "we moved in 2015", "my score was 650",
        "out of 900", "I slept 4 hours", "woke up at 3", "then 5 more minutes", "see you at 7", "it's been 18 months",
        "I'm 42", "she's 12", "3 more weeks", "room 204", "session 5 of 12", "took 2 advil", "2 coffees already",
        "walked 10 km today", "it costs 25 dollars", "at 9:30", "1 in 4 women", "page 42", "I served 12 years",
        "left in 2014", "my 3rd time here", "2 dogs", "and 1 cat", "100% agree", "10/10 would recommend",
        "I'll call you at 8", "text me tonight", "number 2 on my list", "step 4 is the hard one", "grade 10 math",
        "unit 3 of the course", "3 kids, 42 years old", "it was 1999", "20 minutes late", "on day 45 now",
        "ok", "yeah", "thanks", "lol", "me too", "same here", "that helps", "1 more thing", "give me 5",
        "since 2019", "by 2025 I hope", "4 of us went", "2 weeks sober", "sober 365 days", "mile 12",
    ],
    "fr": [
        "jour 3", "30 jours", "je lui donne 2", "j'ai 2 enfants", "de 4 et 7 ans", "on a déménagé en 2015",
        "j'ai dormi 4 heures", "réveillé à 3 h", "encore 5 minutes", "à 19 h", "ça fait 18 mois", "j'ai 42 ans",
        "elle a 12 ans", "3 semaines encore", "salle 204", "séance 5 sur 12", "2 cafés déjà", "marché 10 km",
        "ça coûte 25 $", "à 9 h 30", "1 femme sur 4", "page 42", "12 ans de service", "libéré en 2014",
        "ma 3e fois ici", "2 chiens", "et 1 chat", "10 sur 10", "appelle-moi à 8 h", "texte-moi ce soir",
        "numéro un sur ma liste", "l'étape 4 est dure", "3 enfants, 42 ans", "c'était en 1999", "20 minutes de retard",
        "jour 45 maintenant", "ok", "oui", "merci", "pareil", "moi aussi", "ça aide", "encore 1 chose",
        "depuis 2019", "d'ici 2025 j'espère", "on était 4", "2 semaines sobre", "sobre depuis 365 jours",
        "au 3e étage", "le 14 juin", "rendez-vous à 15 h 30",
    ],
}  # fmt: skip


@dataclass
class Message:
    text: str
    value_part: str = ""  # the part of the personal information this message carries


@dataclass
class Case:
    language: str
    kind: str  # the personal information split over the messages, or "" for a clean sequence
    messages: list[Message]


@dataclass
class SequenceReport:
    split: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_window: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    clean: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # retracted, total
    held_alone: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by single-message policies
    misses: list[str] = field(default_factory=list)

    def caught(self, language: str | None = None) -> float:
        rows = [v for (_, lang), v in self.split.items() if language in (None, lang)]
        total = sum(row[1] for row in rows)
        return sum(row[0] for row in rows) / total if total else 1.0

    def false_retractions(self, language: str | None = None) -> float:
        rows = [v for lang, v in self.clean.items() if language in (None, lang)]
        total = sum(row[1] for row in rows)
        return sum(row[0] for row in rows) / total if total else 0.0


class SequenceGenerator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def split_case(self, language: str) -> Case:
        kind = self.random.choice(["phone", "phone", "phone", "email", "email", "sin", "handle", "address"])
        parts = getattr(self, f"_{kind}")(language)
        cue = self.random.choice(CUES[language][kind])
        if kind == "handle":  # the cue alone first ("my insta is"), then the handle
            messages = [Message(cue), Message(parts[0], parts[0])]
        else:
            messages = [Message(f"{cue} {parts[0]}".strip(), parts[0])]
            messages += [Message(part, part) for part in parts[1:]]
        messages[-1].text += self.random.choice(AFTER[language])
        return Case(language, f"pii.{kind}", messages)

    def clean_case(self, language: str) -> Case:
        count = self.random.randint(3, 6)
        return Case(language, "", [Message(text) for text in self.random.sample(CLEAN[language], count)])

    def _digits(self, language: str, digits: str) -> str:
        if self.random.random() < 0.35:
            return " ".join(DIGIT_WORDS[language][int(d)] for d in digits if d.isdigit())
        return digits

    def _phone(self, language: str) -> list[str]:
        if language == "fr" and self.random.random() < 0.2:
            pairs = ["0" + self.random.choice("167")] + [f"{self.random.randint(0, 99):02d}" for _ in range(4)]
            cut = self.random.randint(1, 4)
            return [" ".join(pairs[:cut]), " ".join(pairs[cut:])]
        groups = [
            self.random.choice(AREA_CODES),
            str(self.random.randint(200, 989)),
            f"{self.random.randint(0, 9999):04d}",
        ]
        if self.random.random() < 0.3:
            groups = [groups[0], groups[1] + " " + groups[2]] if self.random.random() < 0.5 else [
                groups[0] + " " + groups[1], groups[2]
            ]  # fmt: skip
        return [self._digits(language, group) for group in groups]

    def _email(self, language: str) -> list[str]:
        at, dot = AT_DOT[language] if self.random.random() < 0.8 else ("at", "dot")
        user = f"{self.random.choice(FIRST)} {dot} {self.random.choice(LAST)}"
        if self.random.random() < 0.4:
            user = f"{self.random.choice(FIRST)}{self.random.randint(1, 99)}"
        domain, tld = self.random.choice(DOMAINS), self.random.choice(["com", "ca", "net"])
        cuts = self.random.choice([
            [user, f"{at} {domain}", f"{dot} {tld}"],
            [user, f"{at} {domain} {dot} {tld}"],
            [f"{user} {at}", f"{domain} {dot} {tld}"],
        ])  # fmt: skip
        return cuts

    def _sin(self, language: str) -> list[str]:
        sin = self.random.choice(SINS).split()
        return [" ".join(sin[:2]), sin[2]] if self.random.random() < 0.5 else [sin[0], " ".join(sin[1:])]

    def _handle(self, language: str) -> list[str]:
        handle = f"{self.random.choice(FIRST)}.{self.random.choice(LAST)}_{self.random.randint(1, 99)}"
        return [handle]

    def _address(self, language: str) -> list[str]:
        number, street = self.random.randint(2, 2400), self.random.choice(STREETS)
        unit = self.random.choice(UNITS[language]).format(self.random.randint(1, 30))
        return [f"{number} {street}", unit]


def build_sequences(seed: int = 7, count: int = 300) -> list[Case]:
    """count split cases and count clean sequences per language."""
    generator = SequenceGenerator(seed)
    cases = []
    for language in ("en", "fr"):
        cases += [generator.split_case(language) for _ in range(count)]
        cases += [generator.clean_case(language) for _ in range(count)]
    return cases


def run(case: Case, engine: PolicyEngine) -> tuple[list[str | None], list[Completion]]:
    """What the recipient is left with (None: retracted) and the window's completions."""
    window = FragmentWindow(lambda kind, language: f"[{kind}]")
    context = Context(realm="eval", language=case.language)
    shown: list[str | None] = []
    completions: list[Completion] = []
    for index, message in enumerate(case.messages):
        verdict = engine.review(message.text, context)
        if not verdict.delivers:
            shown.append(None)
            continue
        piece = Piece(str(index), None, verdict.text, index * SECONDS_APART)
        completion = window.add(("dm", 1), piece, verdict, context, engine.review_personal_information)
        if completion is not None:
            completions.append(completion)
            verdict = completion.verdict
            for earlier in completion.earlier:
                shown[int(earlier.stanza_id)] = None
        shown.append(verdict.text)
    return shown, completions


def evaluate_sequences(cases: list[Case], engine: PolicyEngine) -> SequenceReport:
    report = SequenceReport()
    for case in cases:
        shown, completions = run(case, engine)
        if not case.kind:
            single = any(not engine.review(m.text, Context("eval", case.language)).delivers for m in case.messages)
            report.clean[case.language][0] += bool(completions)
            report.clean[case.language][1] += 1
            report.held_alone[case.language] += single
            if completions:
                report.misses.append(f"false retraction [{case.language}] {[m.text for m in case.messages]} -> {shown}")
            continue
        messages = case.messages
        leaked = all(
            text is not None and m.value_part in text for text, m in zip(shown, messages, strict=True) if m.value_part
        )
        counts = report.split[case.kind, case.language]
        counts[0] += not leaked
        counts[1] += 1
        report.by_window[case.language][0] += bool(completions)
        report.by_window[case.language][1] += 1
        if leaked:
            report.misses.append(f"split missed {case.kind} [{case.language}] {[m.text for m in messages]}")
    return report


def print_sequences(report: SequenceReport, show_errors: int) -> None:
    print(f"{'split across messages':<22}{'lang':<6}{'cases':>7}{'caught':>8}")
    for (kind, language), (caught, total) in sorted(report.split.items()):
        print(f"{kind:<22}{language:<6}{total:>7}{caught / total:>8.3f}")
    for language in sorted(report.by_window):
        window, total = report.by_window[language]
        print(f"split cases caught [{language}]: {report.caught(language):.3f}; by the window: {window}/{total}")
    for language in sorted(report.clean):
        retracted, total = report.clean[language]
        rate = report.false_retractions(language)
        held = report.held_alone[language]
        print(f"false retractions on clean sequences [{language}]: {rate:.3f} ({retracted}/{total});"
              f" held or rejected message by message: {held}")  # fmt: skip
    if show_errors:
        for line in report.misses[:show_errors]:
            print(" ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=300, help="split cases and clean sequences per language")
    parser.add_argument("--errors", type=int, default=0, help="print this many errors")
    arguments = parser.parse_args()
    print_sequences(evaluate_sequences(build_sequences(arguments.seed, arguments.count), default_engine()),
                    arguments.errors)  # fmt: skip


if __name__ == "__main__":
    main()
