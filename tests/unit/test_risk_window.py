"""Conversation-level risk (chatd/core/window.py), alerts that say why, and the guides' feedback."""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pytest

from chatd import i18n
from chatd.bus import LocalBus
from chatd.core.guides import CommandProblem, QueueEntry, Verb, parse_guide_command
from chatd.core.model import Member, Realm, Role, Status
from chatd.core.moderation import Moderation
from chatd.core.shadow import Reviewed
from chatd.core.window import RecentTexts
from chatd.desk import Desk, DeskParts, why
from chatd.peers import Peers
from chatd.ports import Counters
from chatd.serial import SerialQueues
from chatd.store import Store, _migrations
from chatd.store.guides import GuideStore
from policies import Action, Alert, Context, Conversation, Field, Verdict, deliver_unchanged, risk_model
from policies.engine import PolicyEngine


class FakeScorer:
    """Alerts when the window holds every one of its cues, whatever the texts around them."""

    def __init__(self, cues: dict[str, str], severity: int = 3, kind: str = "risk.means"):
        self.cues = cues  # word in a text -> signal
        self.severity = severity
        self.kind = kind
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[Alert]:
        self.calls.append(list(texts))
        joined = " ".join(texts)
        if all(cue in joined for cue in self.cues):
            return [Alert(self.kind, self.severity, tuple(self.cues.values()))]
        return []


SCORER_CUES = {"pistol": "means:firearm", "tonight": "time:tonight", "done": "intent"}


def test_signals_over_three_texts_raise_one_alert() -> None:
    recent, scorer = RecentTexts(), FakeScorer(SCORER_CUES)
    assert recent.add(1, "the pistol is in the drawer", 0.0, 0, scorer) is None
    assert recent.add(1, "tonight", 10.0, 0, scorer) is None
    alert = recent.add(1, "I am done", 20.0, 0, scorer)
    assert alert is not None and alert.severity == 3
    assert alert.signals == ("means:firearm", "time:tonight", "intent")
    assert scorer.calls[-1] == ["the pistol is in the drawer", "tonight", "I am done"]  # oldest first
    assert recent.add(1, "ok", 30.0, 0, scorer) is None  # the same signals are still in the window: no second alert
    assert recent.count(1) == 4


def test_no_window_alert_when_a_single_text_raised_that_severity_already() -> None:
    recent, scorer = RecentTexts(), FakeScorer(SCORER_CUES)
    recent.add(1, "the pistol is in the drawer and I am done tonight", 0.0, 3, scorer)
    assert recent.add(1, "bye", 5.0, 0, scorer) is None
    weaker = RecentTexts()
    weaker.add(1, "the pistol", 0.0, 2, scorer)  # a single text raised severity 2 only
    weaker.add(1, "tonight", 1.0, 0, scorer)
    stronger = weaker.add(1, "I am done", 2.0, 0, scorer)
    assert stronger is not None and stronger.severity == 3


def test_a_stronger_window_alert_follows_a_weaker_one() -> None:
    recent = RecentTexts()
    assert recent.add(1, "the pistol", 0.0, 0, FakeScorer(SCORER_CUES)) is None
    medium = recent.add(
        1, "tonight", 1.0, 0, FakeScorer({"pistol": "means:firearm", "tonight": "time:tonight"}, severity=2)
    )
    assert medium is not None and medium.severity == 2
    high = recent.add(1, "done", 2.0, 0, FakeScorer(SCORER_CUES))
    assert high is not None and high.severity == 3


def test_texts_leave_the_window_by_count_and_age() -> None:
    scorer = FakeScorer(SCORER_CUES)
    by_count = RecentTexts(size=3)
    for n, text in enumerate(["the pistol", "a", "b", "tonight", "done"]):
        assert by_count.add(1, text, float(n), 0, scorer) is None  # the pistol left before "done" came
    assert scorer.calls[-1] == ["b", "tonight", "done"]
    by_age = RecentTexts(seconds=60)
    by_age.add(1, "the pistol", 0.0, 0, scorer)
    by_age.add(1, "tonight", 30.0, 0, scorer)
    assert by_age.add(1, "done", 61.0, 0, scorer) is None
    assert scorer.calls[-1] == ["tonight", "done"]


def test_the_windows_texts_will_make_are_the_windows_they_make() -> None:
    recent, scorer = RecentTexts(size=3, seconds=60), FakeScorer(SCORER_CUES)
    recent.add(1, "the pistol", 0.0, 0, scorer)
    recent.add(2, "hello", 1.0, 0, scorer)
    coming = [(1, "a", 10.0), (2, "b", 20.0), (1, "c", 30.0), (1, "d", 40.0), (2, "e", 90.0), (3, "f", 91.0)]
    upcoming = recent.upcoming(coming)
    assert recent.count(1) == 1 and recent.count(3) == 0  # nothing added
    made = []
    for member, text, at in coming:
        recent.add(member, text, at, 0, scorer)
        made.append(scorer.calls[-1])
    assert upcoming == made == [
        ["the pistol", "a"], ["hello", "b"], ["the pistol", "a", "c"], ["a", "c", "d"], ["e"], ["f"]
    ]  # fmt: skip


def test_the_desk_reads_ahead_the_windows_waiting_behind_a_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tomllib.loads((Path(__file__).parents[2] / "conf" / "policies.toml").read_text())
    moderation = Moderation(PolicyEngine.from_settings(settings, i18n.label))
    realm = Realm("en", "en", "en.test", "rooms.en.test")
    counters, recent = Counters(), RecentTexts()
    parts = DeskParts(LocalBus(), None, None, None, None, counters, Peers())  # only the readings are used
    desk = Desk(None, moderation, {"en": realm}, SerialQueues(), None, None, recent, parts)
    one, two = (Member(n, f"m{n}@test", "en", f"otter-{n}", Role.MEMBER, Status.ACTIVE, 0.0) for n in (1, 2))
    said = [  # from tests/eval/risk/seq_en.tsv, two members at once
        (one, "got my old service pistol back from my brother"), (two, "taped up the gaps in the garage today"),
        (one, "dont really see the point anymore"), (two, "I sorted out who gets the dog"),
        (one, "everyone would be fine without me"),
    ]  # fmt: skip
    records = [
        Reviewed("en", "dm:1:2", "message", who, None, text, deliver_unchanged(text), None, float(at))
        for at, (who, text) in enumerate(said)
    ]
    model = risk_model.model("en")
    assert model is not None
    model._meanings.clear()
    filed: list[Reviewed] = []

    async def file(record: Reviewed) -> None:  # the desk's filing left out: only what waits is looked at
        filed.append(record)

    async def arrive() -> list[list[Reviewed]]:
        monkeypatch.setattr(desk, "_file", file)
        for record in records:
            desk.reviewed(record)
        ahead = [desk._ahead(record) for record in records]  # each reading's turn, before any has run
        await desk.queues.idle()
        return ahead

    ahead = asyncio.run(arrive())
    assert ahead == [records, [], [], [], []] and filed == records  # the first reading takes all that waits
    context = Context("en", "en")

    def read(record: Reviewed) -> Alert | None:
        assess = partial(moderation.assess_recent, context=context)
        return recent.add(record.author.id, record.original, record.at, 0, assess)

    alerts = [desk._timed(partial(read, records[0]), ahead[0])]
    assert counters.read_ahead > 1
    with monkeypatch.context() as patch:  # the other windows find what they ask for kept
        patch.setattr(risk_model, "encoder", lambda: pytest.fail("a meaning the read ahead missed"))
        alerts += [desk._timed(partial(read, record)) for record in records[1:]]
    model._meanings.clear()
    alone = RecentTexts()  # the same texts read one by one
    assert alerts == [
        alone.add(r.author.id, r.original, r.at, 0, partial(moderation.assess_recent, context=context)) for r in records
    ]
    assert any(alerts)


def test_members_are_scored_apart_and_idle_members_forgotten() -> None:
    recent, scorer = RecentTexts(seconds=60), FakeScorer(SCORER_CUES)
    recent.add(1, "the pistol", 0.0, 0, scorer)
    recent.add(2, "tonight", 1.0, 0, scorer)
    assert recent.add(1, "done", 2.0, 0, scorer) is None  # member 2's text is not member 1's
    recent.add(3, "hello", 100.0, 0, scorer)
    assert len(recent) == 1 and recent.count(1) == 0


def test_a_single_text_is_scored_after_delivery_and_other_alerts_are_ignored() -> None:
    recent = RecentTexts()
    scorer = FakeScorer({"x": "house"}, kind="house.flood")
    assert recent.add(1, "x", 0.0, 0, scorer) is None and scorer.calls == [["x"]]
    assert recent.add(1, "x", 1.0, 0, scorer) is None and len(scorer.calls) == 2
    # the statistical reading runs only here: one text it hears raises an alert its review did not
    reading = FakeScorer({"garage": "wording"}, severity=2, kind="risk.wording")
    alert = RecentTexts().add(1, "taped up the gaps in the garage", 0.0, 0, reading)
    assert alert is not None and alert.kind == "risk.wording"


class WindowPolicy:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.seen: list[tuple[list[str], Context]] = []

    def review(self, text: str, context: Context) -> Verdict:
        return deliver_unchanged(text)

    def assess_recent(self, texts: Sequence[str], context: Context) -> tuple[Alert, ...]:
        if self.fail:
            raise RuntimeError("scorer failure on purpose")
        self.seen.append((list(texts), context))
        return (Alert("risk.intent", 2),)


class ReviewOnly:
    def review(self, text: str, context: Context) -> Verdict:
        return deliver_unchanged(text)


def test_moderation_reaches_the_window_scorer_and_survives_its_failure() -> None:
    member = Member(1, "a@h", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)
    moderation = Moderation(WindowPolicy())
    context = moderation.context(member, Realm("en", "en", "en.h", "rooms.en.h"), Field.BODY, Conversation.DIRECT, 1.0)
    assert moderation.assess_recent(["a", "b"], context) == (Alert("risk.intent", 2),)
    assert Moderation(ReviewOnly()).assess_recent(["a", "b"], context) == ()  # a policy without a window scorer
    failing = Moderation(WindowPolicy(fail=True))
    assert failing.assess_recent(["a", "b"], context) == () and failing.failures == 1


def test_why_names_constructs_and_details_in_the_guides_language() -> None:
    assert why(("means:firearm", "time:tonight"), "en") == "means: firearm; time: tonight"
    assert why(("means:firearm", "time:tonight"), "fr") == "moyens : arme à feu ; moment : ce soir"
    signals = ("zz_means:zz_firearm", "zz_means:zz_blade", "zz_time:zz_tonight", "zz_intent")
    assert why(signals, "en") == "zz_means: zz_firearm, zz_blade; zz_time: zz_tonight; zz_intent"
    assert why(signals, "fr") == "zz_means : zz_firearm, zz_blade ; zz_time : zz_tonight ; zz_intent"


def test_feedback_commands_parse() -> None:
    helpful = parse_guide_command("!helpful #12")
    assert helpful and helpful.verb is Verb.HELPFUL and helpful.arguments == {"entry": "#12"} and helpful.text == ""
    unhelpful = parse_guide_command("!nothelpful 12 a song lyric")
    assert unhelpful and unhelpful.verb is Verb.NOT_HELPFUL and unhelpful.text == "a song lyric"
    with pytest.raises(CommandProblem, match="usage: !helpful <entry>"):
        parse_guide_command("!helpful")


def test_entry_constructs_come_from_its_signals() -> None:
    entry = QueueEntry(1, "en", "alert", 3, "dm:1:2", "s", 0.0, signals=("means:firearm", "means:blade", "intent"))
    assert entry.constructs == ("means", "intent")
    assert QueueEntry(2, "en", "alert", 3, "dm:1:2", "s", 0.0, signals=("risk.self_harm",)).constructs == (
        "risk.self_harm",
    )


async def test_alerts_keep_their_signals_and_take_one_answer_per_guide(store_url: str) -> None:
    store = await Store.open(store_url)
    guides = GuideStore(store.db)
    entry = await guides.add_entry("en", "alert", 3, "dm:1:2", "risk.means", ("means:firearm", "time:tonight"))
    assert entry.signals == ("means:firearm", "time:tonight")
    stored = await guides.entry("en", entry.id)
    assert stored and stored.signals == ("means:firearm", "time:tonight") and stored.constructs == ("means", "time")
    assert await guides.add_feedback(entry.id, "amber-guide", True, "")
    assert not await guides.add_feedback(entry.id, "amber-guide", False, "changed my mind")  # the first answer stays
    assert await guides.add_feedback(entry.id, "sage-owl", False, "a song lyric")
    async with store.db.execute("SELECT guide, answer FROM alert_feedback ORDER BY guide") as cursor:
        assert [tuple(r) for r in await cursor.fetchall()] == [("amber-guide", "helpful"), ("sage-owl", "not_helpful")]
    await store.close()


async def test_earlier_alerts_keep_their_kind_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
        for version, sql in _migrations():
            if version < 7:
                db.executescript(sql)
                db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))
        db.execute(
            "INSERT INTO queue (realm, kind, severity, conversation, summary, created_at)"
            " VALUES ('en', 'alert', 3, 'dm:1:2', 'risk.suicide_active · calm-otter (ab12cd34)', 0),"
            " ('en', 'held', 2, 'dm:1:2', 'pii.email · calm-otter', 0)"
        )
    store = await Store.open(path)
    alert, held = await GuideStore(store.db).entries("en")
    assert alert.constructs == ("risk.suicide_active",) and held.signals == ()
    await store.close()


class DoubtingPolicy(ReviewOnly):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def confirmed(self, verdict: Verdict, text: str, language: str) -> Verdict:
        if self.fail:
            raise RuntimeError("the reading broke")
        return Verdict(verdict.action, verdict.text, verdict.findings, (), verdict.rules)  # doubted: dropped


def test_an_unconfirmed_severe_alert_is_confirmed_after_delivery_and_stands_if_the_reading_fails() -> None:
    severe = Verdict(Action.DELIVER, "t", alerts=(Alert("risk.attempt", 3, ("attempt",), unconfirmed=True),))
    assert Moderation(DoubtingPolicy()).confirmed(severe, "t", "en").alerts == ()
    failing = Moderation(DoubtingPolicy(fail=True))
    assert failing.confirmed(severe, "t", "en").alerts == (Alert("risk.attempt", 3, ("attempt",)),)
    assert failing.failures == 1
    kept = Moderation(ReviewOnly()).confirmed(severe, "t", "en")  # a policy without a doubt: the alert stands
    assert kept.alerts == (Alert("risk.attempt", 3, ("attempt",)),)


def test_texts_scored_on_another_instance_join_the_window_in_time_order_and_keep_their_alerts() -> None:
    here, elsewhere, scorer = RecentTexts(size=3, seconds=60), RecentTexts(size=3, seconds=60), FakeScorer(SCORER_CUES)
    assert elsewhere.add(1, "tonight", 10.0, 0, scorer) is None  # reviewed on the other instance
    here.add(1, "the pistol", 0.0, 0, scorer)
    here.remember(1, "tonight", 10.0, 0)  # its news arrives; never scored here
    assert len(scorer.calls) == 2
    alert = here.add(1, "I am done", 20.0, 0, scorer)
    assert alert is not None and scorer.calls[-1] == ["the pistol", "tonight", "I am done"]

    late = RecentTexts(size=4, seconds=60)
    late.add(1, "tonight", 10.0, 0, scorer)
    late.remember(1, "the pistol", 5.0, 0)  # older news arriving after a newer local text: kept in time order
    late.remember(1, "done", 20.0, 3)  # the other instance alerted on it already
    assert late.add(1, "ok", 21.0, 0, scorer) is None  # the window's alert was raised elsewhere: not again
    assert scorer.calls[-1] == ["the pistol", "tonight", "done", "ok"]
    assert late.add(1, "again", 22.0, 0, scorer) is None and scorer.calls[-1][0] == "tonight"  # four at most

    aged = RecentTexts(size=8, seconds=60)
    aged.remember(1, "the pistol", 0.0, 0)
    aged.remember(1, "tonight", 100.0, 0)  # the pistol is out of the window's time now
    aged.add(1, "done", 101.0, 0, scorer)
    assert scorer.calls[-1] == ["tonight", "done"]
