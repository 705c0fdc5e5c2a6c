"""selfhelp@'s pure parts: instrument files (validation naming file and line), scoring, the check-in
conversation (answers by number or word, back, stop, resume), the sparkline, the bot's commands, and
private texts in the pipeline (kept as written, risk alerts only)."""

from __future__ import annotations

import pytest

from chatd import i18n
from chatd.core import checkin
from chatd.core.checkin import Progress, parse_bot_command, sparkline
from chatd.core.instruments import InstrumentError, parse_instrument
from chatd.core.model import Member, Realm, Role, Status
from chatd.core.pipeline import Deliver, PrivateAlert, Review, State, TextEvent, submit
from chatd.stack import REPO
from policies import Action, Alert, Conversation, Field, Finding, Verdict

EXAMPLE = REPO / "conf" / "selfhelp" / "wellbeing-weekly.toml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
WEEKLY = parse_instrument("wellbeing-weekly.toml", TEXT)


def line_number(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_example_check_in_loads_with_its_scale_bands_and_flag() -> None:
    assert WEEKLY.id == "weekly" and len(WEEKLY.items) == 5
    assert WEEKLY.max_score == 15
    assert [(b.min, b.max) for b in WEEKLY.bands] == [(0, 3), (4, 7), (8, 11), (12, 15)]
    assert WEEKLY.flag_for(4, 0) is None  # "Not at all" to item 5
    flag = WEEKLY.flag_for(4, 1)
    assert flag is not None and flag.severity == 3
    assert WEEKLY.flag_for(0, 3) is None  # no rule on item 1


@pytest.mark.parametrize(
    ("change", "needle", "names"),
    [
        (("score = 2", 'score = "two"'), 'score = "two"', "options.2.score"),
        (("max = 7", "max = 8"), "min = 8", "bands.2.min"),
        (("item = 5", "item = 6"), "item = 6", "flags.0.item"),
        (('id = "rest"', 'id = "low"'), 'id = "low"\nen = "In the past week, I found', "items.1.id"),
        (('fr = "Cette semaine, j’ai eu du mal', 'fx = "Cette semaine, j’ai eu du mal'), "fx =", "items.1.fx"),
        # a missing text: the line of its item's table
        (('fr = "Cette semaine, j’ai eu du mal', '# fr = "…'), '[[items]]\nid = "rest"', "items.1.fr"),
    ],
)
def test_a_malformed_instrument_names_its_file_and_line(change: tuple[str, str], needle: str, names: str) -> None:
    broken = TEXT.replace(*change)
    expected = broken.split(needle)[0].count("\n") + 1
    with pytest.raises(InstrumentError) as raised:
        parse_instrument("conf/selfhelp/broken.toml", broken)
    assert str(raised.value).startswith(f"conf/selfhelp/broken.toml:{expected}: {names}"), str(raised.value)


def test_a_file_that_is_not_toml_names_the_line_the_parser_stopped_at() -> None:
    with pytest.raises(InstrumentError, match=r"^x\.toml:3: not valid TOML"):
        parse_instrument("x.toml", 'id = "x"\n\n[title\n')


def test_scores_and_bands() -> None:
    assert WEEKLY.score([0, 0, 0, 0, 0]) == 0
    assert WEEKLY.score([3, 3, 3, 3, 3]) == 15
    assert WEEKLY.band(3).label("en") == "a fairly steady week"
    assert WEEKLY.band(4).label("fr") == "un peu de tension"
    assert WEEKLY.band(15).resources == ("crisis",)


def answer_all(answers: list[str], language: str = "en") -> checkin.Step:
    step = checkin.start(WEEKLY, language)
    for answer in answers:
        assert step.progress is not None
        step = checkin.step(WEEKLY, step.progress, answer, language)
    return step


def test_a_check_in_asks_one_question_at_a_time_and_scores_at_the_end() -> None:
    step = checkin.start(WEEKLY, "en")
    assert [s.key for s in step.said] == ["selfhelp.intro", "selfhelp.question"]
    assert step.said[1].params["number"] == "1" and "1. Not at all" in step.said[1].params["options"]
    done = answer_all(["1", "several days", "most", "never", "Not at all"])
    assert done.progress is None and done.result is not None
    assert done.result.answers == (0, 2, 3, 0, 0) and done.result.score == 5
    assert done.said[0].key == "selfhelp.result" and done.said[0].params["band"] == "some strain"


def test_a_submitted_form_gives_the_choices_or_what_to_fix() -> None:
    values = {"low": "1", "rest": "3", "apart": "4", "too-much": "1", "not-here": " 2 "}
    assert checkin.form_choices(WEEKLY, values) == (0, 2, 3, 0, 1)
    missing = checkin.form_choices(WEEKLY, {**values, "rest": "", "not-here": "  "})
    assert missing == checkin.Say("selfhelp.form_missing", {"numbers": "2, 5"})
    assert checkin.form_choices(WEEKLY, {k: v for k, v in values.items() if k != "low"}) == checkin.Say(
        "selfhelp.form_missing", {"numbers": "1"}
    )
    for wrong in ("0", "5", "-1", "two", "1.5"):
        unknown = checkin.form_choices(WEEKLY, {**values, "apart": wrong})
        assert unknown == checkin.Say("selfhelp.form_unknown", {"numbers": "3"}), wrong


def test_a_form_answered_item_by_item_scores_and_flags_as_the_conversation_does() -> None:
    talked = answer_all(["2", "3", "4", "1", "2"])
    progress, steps = Progress("weekly"), []
    for choice in (1, 2, 3, 0, 1):
        steps.append(checkin.answer(WEEKLY, progress, choice, "en"))
        progress = steps[-1].progress or progress
    assert steps[-1] == talked  # the same result, words and raised flag
    assert steps[-1].raised is not None and steps[-1].raised.item == 5
    assert [s.raised for s in steps[:-1]] == [None] * 4


def test_answers_by_word_in_either_language_and_by_a_unique_beginning() -> None:
    assert checkin.choice_of(WEEKLY, 0, "Plusieurs jours", "fr") == 2
    assert checkin.choice_of(WEEKLY, 0, "plusieurs jours", "en") == 2  # the other language's label works too
    assert checkin.choice_of(WEEKLY, 0, "JAMAIS!", "fr") == 0
    assert checkin.choice_of(WEEKLY, 0, "la plupart", "fr") == 3
    assert checkin.choice_of(WEEKLY, 0, "5", "en") is None
    assert checkin.choice_of(WEEKLY, 0, "maybe", "en") is None


def test_back_stop_and_resume() -> None:
    step = answer_all(["2", "3"])
    assert step.progress == Progress("weekly", (1, 2))
    back = checkin.step(WEEKLY, step.progress, "back", "en")
    assert back.progress == Progress("weekly", (1,)) and back.said[0].params["number"] == "2"
    stopped = checkin.step(WEEKLY, back.progress, "arrêter", "fr")
    assert stopped.progress == Progress("weekly", (1,), paused=True) and stopped.said[0].key == "selfhelp.stopped"
    ignored = checkin.step(WEEKLY, stopped.progress, "3", "en")  # paused: an answer does not count
    assert ignored.progress == stopped.progress and not ignored.understood
    resumed = checkin.step(WEEKLY, stopped.progress, "Reprendre", "fr")
    assert resumed.progress == Progress("weekly", (1,)) and resumed.said[0].params["number"] == "2"
    first = checkin.step(WEEKLY, Progress("weekly"), "retour", "fr")
    assert [s.key for s in first.said] == ["selfhelp.at_first", "selfhelp.question"]


def test_not_an_answer_asks_again_and_is_marked_not_understood() -> None:
    step = checkin.step(WEEKLY, Progress("weekly", (1,)), "I feel awful", "en")
    assert not step.understood and step.progress == Progress("weekly", (1,))
    assert [s.key for s in step.said] == ["selfhelp.not_an_answer", "selfhelp.question"]


def test_a_flagged_answer_is_raised_when_it_is_given() -> None:
    step = answer_all(["1", "1", "1", "1"])
    assert step.raised is None
    assert step.progress is not None
    last = checkin.step(WEEKLY, step.progress, "a day or two", "en")
    assert last.raised is not None and last.raised.item == 5 and last.raised.flag.severity == 3
    assert last.result is not None and last.result.score == 1


def test_sparkline() -> None:
    assert sparkline([0, 15, 7], 15) == "▁█▄"
    assert sparkline([], 15) == ""
    assert sparkline([3, 3], 0) == "▁▁"


def test_bot_commands_in_either_language() -> None:
    assert parse_bot_command("!journal Today\nwas long") == checkin.BotCommand("journal", "Today\nwas long")
    assert parse_bot_command("!Historique") == checkin.BotCommand("history")
    assert parse_bot_command("!entrées") == checkin.BotCommand("entries")
    assert parse_bot_command("!supprimer 2") == checkin.BotCommand("delete", "2")
    assert parse_bot_command("!nope x") == checkin.BotCommand("unknown", "nope")
    assert parse_bot_command("hello") is None


EN = Realm("en", "en", "en.example", "rooms.en.example")
ALEX = Member(1, "alex@x", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)


def journal(text: str) -> TextEvent:
    return TextEvent(ALEX, EN, text, Field.BODY, Conversation.NONE, "guide:1", "journal")


def test_a_journal_entry_is_kept_as_written_whatever_the_verdict_and_shown_to_nobody() -> None:
    redacted = Verdict(Action.REDACT, "he[email removed]", (Finding("pii.email", 2, 2, 7, "pii"),), rules=("pii",))
    for verdict in (redacted, Verdict(Action.HOLD, "hello"), Verdict(Action.REJECT, "hello")):
        outcome = submit(journal("hello"), State(), 1.0, verdict, "s1")
        assert outcome.effects == (Deliver("hello", "s1"),)  # no review (no shadow room), no notice


def test_a_journal_entry_with_a_risk_alert_reaches_the_guides_inside_the_alert_only() -> None:
    alerts = (Alert("risk.suicide_active", 3, ("intent",)), Alert("watched", 1))
    outcome = submit(
        journal("a risky entry"), State(), 1.0, Verdict(Action.DELIVER, "a risky entry", alerts=alerts), "s"
    )
    assert [type(e) for e in outcome.effects] == [Deliver, PrivateAlert]
    record = outcome.effects[1].record  # type: ignore[union-attr]
    assert record.original == "a risky entry" and record.verdict.alerts == alerts[:1]  # risk alerts only
    assert not any(isinstance(e, Review) for e in outcome.effects)


def test_a_muted_member_still_writes_in_their_journal() -> None:
    outcome = submit(journal("hello"), State(muted_until=100.0), 1.0)
    assert outcome.needs_verdict


def test_every_selfhelp_text_exists_in_both_languages() -> None:
    english, french = i18n.catalog("en"), i18n.catalog("fr")
    keys = [k for k in english if k.startswith(("selfhelp.", "watch.private."))]
    assert len(keys) > 25 and all(k in french for k in keys)


async def test_what_the_bot_keeps_is_exported_and_goes_with_the_member(store_url: str) -> None:
    from chatd.store import Store
    from chatd.store.selfhelp import Score, SelfHelpStore

    store = await Store.open(store_url)
    try:
        alex = await store.add_member("alex@x", "en", "calm-otter", Role.MEMBER, 1.0)
        sam = await store.add_member("sam@x", "en", "brave-heron", Role.MEMBER, 1.0)
        kept = SelfHelpStore(store.db)
        for member in (alex, sam):
            await kept.keep_checkin(member.id, Progress("weekly", (1, 2), paused=True), 2.0)
            await kept.add_score(member.id, Score("weekly", 1, (0, 0, 0, 0, 1), 1, (0, 3), 3.0))
            assert await kept.claim_told(member.id, 4.0) and not await kept.claim_told(member.id, 5.0)
            assert [await kept.add_entry(member.id, t, 6.0) for t in ("one", "two")] == [1, 2]
            assert await kept.add_goal(member.id, "walk", 1, 100.0, 6.0) == 1
            await kept.add_progress(member.id, 1, 50.0)
        assert await kept.delete_entry(alex.id, 1) and not await kept.delete_entry(alex.id, 1)
        assert await kept.add_entry(alex.id, "three", 7.0) == 3  # numbers are not reused while later ones exist
        everything = await kept.export(alex.id)
        assert everything.open == Progress("weekly", (1, 2), paused=True) and everything.told_at == 4.0
        assert [s.score for s in everything.scores] == [1] and [e.text for e in everything.entries] == ["two", "three"]
        assert [(g.text, g.every_days, done) for g, done in everything.goals] == [("walk", 1, [50.0])]
        assert [g.number for _, g in await kept.due_goals(100.0)] == [1, 1] and not await kept.due_goals(99.0)
        # the check-in due at 100 is claimed once (several instances run the loop), then the next one is due
        assert await kept.checked_in(sam.id, 1, 100.0, 186_500.0) and not await kept.checked_in(sam.id, 1, 100.0, 1.0)
        assert [m for m, _ in await kept.due_goals(100.0)] == [alex.id]

        await kept.forget(alex.id)
        gone = await kept.export(alex.id)
        assert gone.open is None and not gone.scores and not gone.entries and gone.told_at is None and not gone.goals
        assert not await store.db.execute_fetchall("SELECT * FROM selfhelp_progress WHERE at = 50.0 LIMIT 1 OFFSET 1")
        await store.db.execute("DELETE FROM members WHERE id = ?", (sam.id,))  # an account's row removed
        await store.db.commit()
        left = await kept.export(sam.id)
        assert left.open is None and not left.scores and not left.entries and left.told_at is None and not left.goals
        assert not await store.db.execute_fetchall("SELECT * FROM selfhelp_progress")  # with its goal
    finally:
        await store.close()


def test_goal_check_ins_come_at_the_members_pace_and_never_in_a_burst() -> None:
    from chatd.core.goals import DAY, Goal, after_check_in, due, first_check_in

    start = 1_000_000.0  # a fake clock: plain numbers
    goal = Goal(1, "walk", 2, first_check_in(start, 2), start)
    assert goal.next_at == start + 2 * DAY
    assert not due(goal, start + 2 * DAY - 1) and due(goal, start + 2 * DAY)
    assert after_check_in(goal, start + 2 * DAY) == start + 4 * DAY  # the next one a period later
    assert after_check_in(goal, start + 9 * DAY) == start + 10 * DAY  # after downtime: one, then the pace again
    unpaced = Goal(2, "read", 0, first_check_in(start, 0), start)
    assert unpaced.next_at is None and not due(unpaced, start + 400 * DAY)


def test_streaks_count_periods_in_a_row_with_progress() -> None:
    from chatd.core.goals import DAY, Goal, streak

    start = 0.0
    daily = Goal(1, "walk", 1, DAY, start)
    assert streak([], daily, 5 * DAY) == 0
    days = [0.5 * DAY, 1.5 * DAY, 2.2 * DAY, 2.9 * DAY]  # two on day 2 count once
    assert streak(days, daily, 2.95 * DAY) == 3
    assert streak(days, daily, 3.5 * DAY) == 3  # today has none yet: the streak still stands
    assert streak(days, daily, 4.5 * DAY) == 0  # a whole day missed
    weekly = Goal(2, "call", 7, 7 * DAY, start)
    assert streak([1 * DAY, 8 * DAY, 20 * DAY], weekly, 20.5 * DAY) == 3


def test_a_goals_pace_in_either_language() -> None:
    from chatd.core.goals import pace

    assert [pace(w) for w in ("3", "daily", "Hebdo", "off", "non", "0")] == [3, 1, 7, 0, 0, 0]
    assert pace("often") is None and pace("9999") is None


def test_the_example_course_and_its_lessons_one_at_a_time() -> None:
    from chatd.core.courses import lesson, parse_course

    course = parse_course("rest.toml", (REPO / "conf" / "courses" / "rest-basics.toml").read_text(encoding="utf-8"))
    assert course.id == "rest" and course.room("fr") == "general" and len(course.lessons) == 3
    first = lesson(course, 0, "fr")
    assert first is not None and first.number == 1 and first.more and first.title == "Une heure pour décompresser"
    last = lesson(course, 2, "en")
    assert last is not None and not last.more
    assert lesson(course, 3, "en") is None


def test_a_course_whose_room_a_realm_lacks_stops_the_start_naming_file_and_line(tmp_path) -> None:
    from chatd.policy_loader import PolicyLoadError, load_courses

    text = (REPO / "conf" / "courses" / "rest-basics.toml").read_text(encoding="utf-8")
    (tmp_path / "rest.toml").write_text(text, encoding="utf-8")
    assert [c.id for c in load_courses(str(tmp_path), {"en": {"general"}, "fr": {"general"}}).all] == ["rest"]
    line = line_number(text, 'fr = "general"')
    with pytest.raises(PolicyLoadError, match=rf"rest\.toml:{line}: room\.fr: no topic room 'general' in the fr realm"):
        load_courses(str(tmp_path), {"en": {"general"}, "fr": {"militaire"}})
    assert not load_courses(str(tmp_path / "none"), {}).all  # no folder: no courses
