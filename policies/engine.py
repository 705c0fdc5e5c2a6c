"""The policy engine: normalize, detect, then decide from the settings.

Settings are the parsed conf/policies.toml (see that file for every key). Action tables
map a finding kind ("pii.email") or its category ("pii") to one action, or to a list of
four actions indexed by severity 0..3. Tables are consulted most specific first: the
field's table (e.g. pseudonyms), the member-state tables (new, watched), the realm's
table, then the base table; within a table the exact kind beats the category.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from policies import risk_model
from policies.cues import Cue
from policies.house import HouseRules
from policies.kinds import NEW_MEMBER_RULES, RULES, Hit
from policies.lexicon import WordHit, WordMatcher
from policies.normalize import Normalized, normalize
from policies.pii import PiiDetector
from policies.risk import (
    LEXICONS,
    NOTHING,
    Assessment,
    RiskDetector,
    Signal,
    compose,
    cues_decide,
    states_safety,
)
from policies.types import Action, Alert, Context, Field, Finding, Label, Verdict

RECENT_TEXTS = 4096  # texts whose risk cues assess_recent keeps
JOINED_TEXTS = 3  # the latest texts of a window the model also reads as one
JOINED_KEPT = 1024  # readings of texts joined that are kept (a window's reading and its read ahead)
# message texts reviewed inline whose cues wait for their reading after delivery (_text_cues): as many as chatd lets
# wait for their readings (its queues' high mark, chatd.serial.SerialQueues), ~0.4 KB each
HANDED_OVER = 10_000
AHEAD_TEXTS = 64  # texts encoded together at most (read_ahead): past this a batch saves little per text
# message texts: the author's recent texts are assessed together right after delivery (assess_recent),
# where the model reads them; inline, only a severe risk alerts, and the model's doubt about it is read
# after delivery too (confirmed): risk never changes delivery, so the review stays the lexicons' work
AFTER_DELIVERY = frozenset({Field.BODY, Field.CORRECTION})


class TextReading(NamedTuple):
    """One text of a window: normalized, as written, its risk cues, and its wording's reading (the meaning's is
    read only where it decides: RiskModel.reaches)."""

    text: str
    original: str
    cues: tuple[tuple[int, int, Cue], ...]
    wording: float
    grams: risk_model.Grams | None = None  # what the wording was read from (texts joined are read from theirs)


class TextSignals(NamedTuple):
    """What one text of a window signals, whether its cues decide alone (cues_decide) and whether it is read
    at all (not a statement of safety: states_safety)."""

    signals: tuple[Signal, ...]
    short: bool
    heeded: bool


SEVERITY_ORDER = (Action.DELIVER, Action.REDACT, Action.HOLD, Action.REJECT)
ActionTable = dict[str, tuple[Action, Action, Action, Action]]


def _action_table(section: Mapping[str, Any]) -> ActionTable:
    table: ActionTable = {}
    for kind, value in section.items():
        actions = [value] * 4 if isinstance(value, str) else list(value)
        if len(actions) != 4:
            raise ValueError(f"actions for {kind!r}: give one action or four (severity 0..3)")
        table[kind] = (Action(actions[0]), Action(actions[1]), Action(actions[2]),
                       Action(actions[3]))  # fmt: skip
    return table


def _lookup(tables: Sequence[ActionTable], kind: str, severity: int) -> Action:
    category = kind.split(".", 1)[0]
    for table in tables:
        actions = table.get(kind) or table.get(category)
        if actions:
            return actions[min(max(severity, 0), 3)]
    return Action.DELIVER


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """Lowest severity that raises an alert, per category or kind."""

    min_severity: Mapping[str, int]

    def alerts(self, finding: Finding) -> bool:
        threshold = self.min_severity.get(finding.kind, self.min_severity.get(finding.category))
        return threshold is not None and finding.severity >= threshold


def _models() -> dict[str, risk_model.RiskModel]:
    """The statistical reading of whole texts, per language, used after delivery (assess_recent), not inline."""
    return {language: found for language in LEXICONS if (found := risk_model.model(language))}


class PolicyEngine:
    """All inline policies behind one synchronous, pure call."""

    def __init__(self, settings: Mapping[str, Any], label: Label) -> None:
        self._label = label
        self._pii = PiiDetector()
        self._risk = RiskDetector()
        self._models = _models()
        self._house = HouseRules(settings)
        self._words = WordMatcher(  # all lexicons in one automaton: one pass over the text
            [(form, ("pii", payload)) for form, payload in self._pii.entries]
            + [(form, ("risk", payload)) for form, payload in self._risk.entries]
            + [(form, ("house", payload)) for form, payload in self._house.entries]
        )
        self._add_caches()
        self._base = _action_table(settings.get("actions", {}))
        self._realms = {
            realm: _action_table(section.get("actions", {})) for realm, section in settings.get("realms", {}).items()
        }
        self._fields = {
            field: _action_table(section.get("actions", {})) for field, section in settings.get("fields", {}).items()
        }
        new_member = settings.get("new_member", {})
        self._new_member = _action_table(new_member.get("actions", {}))
        self._new_member_increase: Mapping[str, int] = new_member.get("severity_increase", {})
        self._watched = _action_table(settings.get("watched", {}).get("actions", {}))
        alerts = settings.get("alerts", {})
        base_alerts = dict(alerts.get("min_severity", {}))
        watched_alerts = {**base_alerts, **alerts.get("watched", {}).get("min_severity", {})}
        self._alerts = AlertThresholds(base_alerts)
        self._watched_alerts = AlertThresholds(watched_alerts)
        trusted = settings.get("trusted", {})
        self._trusted_roles = frozenset(trusted.get("roles", ()))
        self._trusted_exempt = frozenset(trusted.get("exempt", ()))

    def _add_caches(self) -> None:
        # a window scores each text again and again: its cues are found once (bounded, in memory only)
        self._recent_cues = lru_cache(maxsize=RECENT_TEXTS)(self._text_cues)
        self._recent_signals = lru_cache(maxsize=RECENT_TEXTS)(self._text_signals)
        # the last texts joined, read once: a read ahead and the window's own reading ask for the same
        self._joined_readings = lru_cache(maxsize=JOINED_KEPT)(self._joined_reading)
        # the cues a message's inline review found, taken over by its reading after delivery (another thread:
        # each OrderedDict call is one step under the GIL)
        self._handed_over: OrderedDict[tuple[str, str], tuple[str, tuple[tuple[int, int, Cue], ...]]] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        """The built engine, to be kept and read back (chatd/policy_loader.py: building takes seconds):
        its lexicons and indexes, without the caches of recent texts or the models (read from the package)."""
        state = dict(self.__dict__)
        for name in ("_recent_cues", "_recent_signals", "_joined_readings", "_handed_over", "_models"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._models = _models()
        self._add_caches()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], label: Label) -> PolicyEngine:
        return cls(settings, label)

    def warm(self) -> None:
        """Loads what the first reading that asks for a meaning would load: the sentence encoder, its tokenizer and
        weights (~2 s, ~70 MB).
        Everyday texts rarely ask for it (RiskModel.reads), so a reading at start does not load it."""
        if any(model.meaning is not None for model in self._models.values()):
            risk_model.encoder()

    def findings(self, text: str, context: Context) -> tuple[Finding, ...]:
        """Everything the detectors found, with spans in the original text."""
        return self._examine(text, context)[0]

    def _examine(
        self, text: str, context: Context, personal_only: bool = False
    ) -> tuple[tuple[Finding, ...], Assessment, bool]:
        """The findings on text; with personal_only, those of personal information alone (no risk, no house rules).
        Also whether a severe risk score waits for the model's doubt (a message body: confirmed, after delivery)."""
        if not text.strip():
            return (), NOTHING, False
        unconfirmed = False
        norm = normalize(text)
        if personal_only:  # personal information is sought on the text as written, never with leetspeak undone
            words = self._find_words(norm, leet=False)
            hits: list[Hit] = self._pii.find(norm, words["pii"])
            assessment = NOTHING
        else:
            words = self._find_words(norm)
            doubt_later = context.field in AFTER_DELIVERY and context.language in self._models

            def undoubted() -> bool:  # compose asks only of a severe score the cues leave to the model
                nonlocal unconfirmed
                unconfirmed = True
                return False

            cues = tuple(self._risk.cues(norm.leet, words["risk"], context.language))
            if doubt_later:  # its reading after delivery finds the same cues in the same text
                self._handed_over[(text, context.language)] = (norm.leet, cues)
                if len(self._handed_over) > HANDED_OVER:
                    self._handed_over.popitem(last=False)
            risk_hits, assessment = self._risk.find(norm, cues, context.language, undoubted if doubt_later else None)
            hits = self._pii.find(norm, words["pii"]) + risk_hits
            hits += self._house.find(norm, context, words["house"])
        exempt = self._trusted_exempt if context.author_role in self._trusted_roles else ()
        rules = {**RULES, **NEW_MEMBER_RULES} if context.new_member else RULES
        findings = []
        for kind, severity, start, end in hits:
            if kind in exempt:
                continue
            if context.new_member:
                severity = min(3, severity + self._increase(kind))
            original_start, original_end = norm.span(start, end)
            findings.append(Finding(kind, severity, original_start, original_end, rules.get(kind, "")))
        return tuple(sorted(findings, key=lambda f: (f.start, f.end, f.kind))), assessment, unconfirmed

    def confirmed(self, verdict: Verdict, text: str, language: str) -> Verdict:
        """The verdict of a message body after delivery: its severe risk alert dropped where the model's wording
        reads the text as clearly harmless (risk_model.DOUBTED; "this time last year I was in detox after an
        overdose, today I started a job"); assess_recent then decides it like a score below severe. The wording
        is the one the author's window reads next (kept: read once)."""
        if not any(alert.unconfirmed for alert in verdict.alerts):
            return verdict
        doubted = language in self._models and self._recent_cues(text, language).wording < risk_model.DOUBTED
        kept = (replace(alert, unconfirmed=False) for alert in verdict.alerts if not (alert.unconfirmed and doubted))
        return replace(verdict, alerts=tuple(kept))

    def assess_recent(self, texts: Sequence[str], context: Context, quick: bool = False) -> tuple[Alert, ...]:
        """The risk alert that an author's recent texts (oldest first) raise together, if any.

        Where the language has a model, its reading of the window's most risk-like text decides
        alerts below severe (policies/risk.py, compose), and a severe score it reads as clearly harmless
        (risk_model.DOUBTED) is decided like one below severe; a short text with cues leaves them to the cues.
        The last JOINED_TEXTS texts are also read joined (a thought spread over messages).
        quick: the texts are read by their wording alone (no sentence encoder), for when readings
        fall behind; the wording then stands for both readings."""
        return self._risk_alerts(self._recent(texts, context.language, quick), context)

    def read_ahead(self, windows: Sequence[tuple[Sequence[str], str]], most: int = AHEAD_TEXTS) -> int:
        """Reads ahead the meanings that the readings of these windows (texts oldest first, language) could ask
        for: up to `most` texts not kept yet, in one encoder call (risk_model.Ahead); how many it encoded. The
        windows' readings (assess_recent) then find them kept: the same answers, for less."""
        ahead = risk_model.Ahead()
        for texts, language in windows:
            self._recent(texts, language, False, ahead)
        return ahead.read(most)

    def _recent(
        self, texts: Sequence[str], language: str, quick: bool, ahead: risk_model.Ahead | None = None
    ) -> Assessment:
        """What an author's recent texts assess together (assess_recent); ahead: a read ahead (read_ahead)."""
        kept = [text for text in texts if text.strip()]
        found = [self._recent_cues(text, language) for text in kept]
        marks = frozenset().union(*(self._risk.window_marks(one.cues) for one in found))
        signaled = [self._recent_signals(text, language, marks) for text in kept]
        signals = [one.signals for one in signaled]
        model = self._models.get(language)
        short = [one.short for one in signaled]
        heard = any(cues_only and signs for cues_only, signs in zip(short, signals, strict=True))
        if not model or heard:
            return compose(signals)
        # a text that says its author is safe now is not read (states_safety): the readings hear the topic
        heeded = [one.heeded for one in signaled]
        # the meaning does not hear a negation ("I don't want to die" reads like "I want to die"):
        # a text whose every cue the lexicon found negated is read by its wording alone
        read = [
            one._replace(original="" if quick or (signs and all(s.negated for s in signs)) else one.original, cues=())
            for one, signs, only, heed in zip(found, signals, short, heeded, strict=True)
            if heed and not only
        ]

        def joined() -> TextReading | None:
            """The last texts joined (a thought spread over messages); none for a single text."""
            last = tuple(raw for raw, heed in zip(kept, heeded, strict=True) if heed)[-JOINED_TEXTS:]
            return self._joined_readings(last, language, quick)

        def reading(lexical: float) -> bool:
            together = joined()
            return any(model.reads(one.wording, one.original, lexical, ahead) for one in read) or (
                together is not None and model.reads(together.wording, together.original, lexical, ahead)
            )

        def doubted() -> bool:
            together = joined()
            return all(model.doubts(one.wording, one.original, ahead) for one in read) and (
                together is None or model.doubts(together.wording, together.original, ahead)
            )

        return compose(signals, reading, doubted)

    def _joined_reading(self, last: tuple[str, ...], language: str, quick: bool) -> TextReading | None:
        """The texts joined (a thought spread over messages), read from each text's own grams; none for one."""
        if len(last) < 2:
            return None
        model = self._models[language]
        found = [self._recent_cues(raw, language) for raw in last]
        grams = model.joined([one.grams for one in found if one.grams is not None])
        text = " . ".join(one.text for one in found)
        return TextReading(text, "" if quick else " . ".join(last), (), model.read(grams), grams)

    def _text_signals(self, text: str, language: str, marks: frozenset[str]) -> TextSignals:
        """What one text of a window signals beside the window's marks (kept: a window reads each text again)."""
        one = self._recent_cues(text, language)
        signals = tuple(self._risk.signals(one.text, one.cues, language, marks))
        return TextSignals(signals, cues_decide(one.text, signals), not states_safety(one.cues, signals))

    def _text_cues(self, text: str, language: str) -> TextReading:
        """The risk cues and the wording's reading of one text (kept for the author's next windows)."""
        handed = self._handed_over.pop((text, language), None)
        if handed is None:
            norm = normalize(text)
            handed = norm.leet, tuple(self._risk.cues(norm.leet, self._find_words(norm)["risk"], language))
        leet, cues = handed
        model = self._models.get(language)
        if model is None:
            return TextReading(leet, text, cues, 0.0)
        grams = model.grams(leet)
        return TextReading(leet, text, cues, model.read(grams), grams)

    def _risk_alerts(self, assessment: Assessment, context: Context, unconfirmed: bool = False) -> tuple[Alert, ...]:
        """One alert for the composed risk, named after its strongest construct, with what fired."""
        if not assessment.severity:
            return ()
        thresholds = self._watched_alerts if context.watched else self._alerts
        if not thresholds.alerts(Finding(assessment.kind, assessment.severity, 0, 0)):
            return ()
        return (Alert(assessment.kind, assessment.severity, assessment.names(), unconfirmed),)

    def _find_words(self, norm: Normalized, leet: bool = True) -> dict[str, list[WordHit]]:
        """Lexicon hits per detector; risk and house words are also sought with leetspeak undone (unless leet=False)."""
        hits = self._words.find(norm.lower)
        if leet and norm.leet != norm.lower:
            known = set(hits)  # the two views overlap: each hit once
            near = self._words.find_around(norm.leet, norm.leet_spans())  # hits elsewhere are the same
            hits += [hit for hit in near if hit[2][0] != "pii" and hit not in known]
        found: dict[str, list[WordHit]] = {"pii": [], "risk": [], "house": []}
        for start, end, (detector, payload) in hits:
            found[detector].append((start, end, payload))
        return found

    def review(self, text: str, context: Context) -> Verdict:
        findings, assessment, unconfirmed = self._examine(text, context)
        return self._verdict(text, findings, assessment, context, unconfirmed)

    def review_personal_information(self, text: str, context: Context) -> Verdict:
        """review's verdict on the text's personal information alone: the same personal-information findings,
        actions, redaction and alerts, without the risk and house-rule passes (for a text checked again for
        personal information only, such as a member's recent texts joined: chatd/core/fragments.py)."""
        findings, _, _ = self._examine(text, context, personal_only=True)
        return self._verdict(text, findings, NOTHING, context)

    def _verdict(
        self,
        text: str,
        findings: tuple[Finding, ...],
        assessment: Assessment,
        context: Context,
        unconfirmed: bool = False,
    ) -> Verdict:
        if not findings:
            return Verdict(Action.DELIVER, text)
        tables = self._tables(context)
        actions = [_lookup(tables, f.kind, f.severity) for f in findings]
        action = max(actions, key=SEVERITY_ORDER.index)
        rules = tuple(dict.fromkeys(
            f.rule for f, a in zip(findings, actions, strict=True) if f.rule and a != Action.DELIVER
        ))  # fmt: skip
        thresholds = self._watched_alerts if context.watched else self._alerts
        # below severe, a message body's risk alert is decided after delivery (assess_recent), with the model
        deferred = context.field in AFTER_DELIVERY and context.language in self._models and assessment.severity < 3
        alerts = () if deferred else self._risk_alerts(assessment, context, unconfirmed)
        alerts += _strongest_alerts(f for f in findings if f.category != "risk" and thresholds.alerts(f))
        if action == Action.REDACT:
            redacted = [f for f, a in zip(findings, actions, strict=True) if a == Action.REDACT]
            text = self._redact(text, redacted, context.language)
        return Verdict(action, text, findings, alerts, rules)

    def _increase(self, kind: str) -> int:
        increase = self._new_member_increase
        return int(increase.get(kind, increase.get(kind.split(".", 1)[0], 0)))

    def _tables(self, context: Context) -> list[ActionTable]:
        tables = []
        if context.field.value in self._fields:
            tables.append(self._fields[context.field.value])
        if context.watched:
            tables.append(self._watched)
        if context.new_member:
            tables.append(self._new_member)
        if context.realm in self._realms:
            tables.append(self._realms[context.realm])
        tables.append(self._base)
        return tables

    def _redact(self, text: str, findings: Sequence[Finding], language: str) -> str:
        """Replace each span with its label; overlapping spans merge into one label."""
        merged: list[tuple[int, int, Finding]] = []
        for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
            if merged and finding.start < merged[-1][1]:
                start, end, strongest = merged[-1]
                if finding.severity > strongest.severity:
                    strongest = finding
                merged[-1] = (start, max(end, finding.end), strongest)
            else:
                merged.append((finding.start, finding.end, finding))
        pieces = []
        position = 0
        for start, end, finding in merged:
            pieces += [text[position:start], self._label(finding.kind, language)]
            position = end
        pieces.append(text[position:])
        return "".join(pieces)


def _strongest_alerts(findings: Any) -> tuple[Alert, ...]:
    strongest: dict[str, int] = {}
    for finding in findings:
        strongest[finding.kind] = max(strongest.get(finding.kind, 0), finding.severity)
    ordered = sorted(strongest.items(), key=lambda item: -item[1])
    return tuple(Alert(kind, severity) for kind, severity in ordered)
