"""selfhelp@<realm domain>: check-ins one question at a time, a private journal, the member's history and export.

The decisions are the core's (chatd.core.checkin, chatd.core.instruments); this translator reads and
writes the member's state (chatd.store.selfhelp) and says the core's words in the member's language.
Texts a member writes here (journal entries, anything that is not an answer) go through the pipeline
as private texts: kept as written when they are entries, reviewed for risk alerts only (alerts reach
the guides with the text; nothing else does). Logs name no answer, entry or text.
"""

from __future__ import annotations

import logging
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from chatd import i18n
from chatd.core import checkin, courses, goals, keys
from chatd.core.checkin import BotCommand, Progress, Say, Step, parse_bot_command
from chatd.core.instruments import Instrument, Instruments
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Realm
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal, Refused
from chatd.core.shadow import Reviewed
from chatd.executor import Reply
from chatd.ports import Send
from chatd.store.selfhelp import Entry, Score, SelfHelpStore
from chatd.xmpp import adhoc
from chatd.xmpp import stanza as st
from chatd.xmpp.ns import NS_COMMANDS, NS_DISCO_ITEMS
from chatd.xmpp.ports import DomainPorts, Translator
from chatd.xmpp.stream import ComponentStream
from policies import Action, Alert, Conversation, Field, Verdict

log = logging.getLogger("chatd.selfhelp")

SELFHELP = "selfhelp"
HISTORY_SHOWN = 12  # the latest check-ins a history shows, per instrument
CHECKIN_ALERT = "risk.checkin"
CHECKIN_NODE = "checkin/"  # an instrument's ad-hoc command: checkin/<instrument id>
JOURNAL_NODE = "journal"
ENTRY_FIELD = "entry"
BAD_SESSION = f"<bad-sessionid xmlns='{NS_COMMANDS}'/>"
OPEN_FORMS = 1000  # forms executed and not yet submitted, kept (the oldest dropped beyond)

PrivateAlert = Callable[[Reviewed], Awaitable[None]]


def day(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at))


class SelfHelpBot(Translator):
    def __init__(
        self,
        realm: Realm,
        ports: DomainPorts,
        instruments: Instruments,
        alert: PrivateAlert,
        send: Send,
        offered: courses.Courses,
    ):
        super().__init__(ports)
        self.courses = offered
        self.send = send  # goals' check-ins, sent when they are due (not as answers)
        self.day = ports.config.selfhelp.day_seconds
        self.realm = realm
        self.address = f"{SELFHELP}@{realm.people_domain}"
        self.instruments = instruments
        self.alert = alert
        self.kept = SelfHelpStore(self.store.db)
        self.sessions: dict[str, tuple[int, str]] = {}  # an open form's session: (member id, command node)

    async def handle(self, stream: ComponentStream, member: Member, message: ChatMessage) -> None:
        """A member's message to selfhelp@ (in the member's queue: one at a time, in order)."""
        if not message.carries_body or message.body is None:
            return
        text, language = message.body, self.languages.of(member)
        command = parse_bot_command(text)
        progress = await self.kept.open_checkin(member.id)
        if command is None and progress is not None:
            instrument = self.instruments.get(progress.instrument)
            if instrument is not None and len(progress.answers) < len(instrument.items):
                await self._step(stream, member, checkin.step(instrument, progress, text, language), instrument, text)
                return
            await self.kept.keep_checkin(member.id, None, self.clock())  # no longer offered, or shortened since
        if command is None:
            await self._review(member, text, message.id, kept=False)
            await self._say(stream, member, [Say("selfhelp.hello", self._names(language))])
            return
        await self._command(stream, member, command, message.id)

    async def _command(
        self, stream: ComponentStream, member: Member, command: BotCommand, client_id: str | None
    ) -> None:
        language = self.languages.of(member)
        name, argument = command.name, command.argument
        if name == "start":
            await self._start(stream, member, argument)
        elif name == "history":
            await self._say(stream, member, await self._history(member, argument))
        elif name == "journal":
            await self._journal(stream, member, argument, client_id)
        elif name in ("entries", "read", "delete"):
            await self._say(stream, member, await self._entries(member, name, argument))
        elif name == "goal":
            await self._goal(stream, member, argument, client_id)
        elif name in ("goals", "pace", "done", "endgoal"):
            await self._say(stream, member, await self._goals(member, name, argument))
        elif name in ("courses", "enrol", "next"):
            await self._say(stream, member, await self._course(member, name, checkin.fold(argument)))
        elif name == "export":
            await self._say(stream, member, await self._export(member))
        elif name == "forget":
            await self._say(stream, member, [await self._forget(member, argument)])
        elif name == "help":
            await self._say(stream, member, [Say("selfhelp.help", self._names(language))])
        else:
            await self._say(stream, member, [Say("selfhelp.unknown", {"name": argument})])

    # check-ins

    async def _start(self, stream: ComponentStream, member: Member, wanted: str) -> None:
        language = self.languages.of(member)
        progress = await self.kept.open_checkin(member.id)
        instrument = self.instruments.get(progress.instrument) if progress is not None else None
        if progress is not None and instrument is not None and len(progress.answers) < len(instrument.items):
            await self._step(stream, member, checkin.step(instrument, progress, "resume", language), instrument)
            return
        offered = self.instruments.all
        chosen = self.instruments.get(checkin.fold(wanted)) if wanted else (offered[0] if len(offered) == 1 else None)
        if chosen is None:
            key = "selfhelp.none" if not offered else ("selfhelp.which" if not wanted else "selfhelp.no_such")
            await self._say(stream, member, [Say(key, {"name": wanted, **self._names(language)})])
            return
        await self._step(stream, member, checkin.start(chosen, language), chosen)

    async def _step(
        self, stream: ComponentStream, member: Member, step: Step, instrument: Instrument, text: str | None = None
    ) -> None:
        await self.kept.keep_checkin(member.id, step.progress, self.clock())
        said = await self._apply(member, step, instrument)
        if step.result is None and not step.understood and text is not None:  # not an answer: read for risk
            await self._review(member, text, None, kept=False)
        await self._say(stream, member, said)

    async def _apply(self, member: Member, step: Step, instrument: Instrument) -> list[Say]:
        """An answered step's flag (a risk alert to the guides) and result (kept): what the bot says."""
        now, language = self.clock(), self.languages.of(member)
        if step.raised is not None:
            raised = step.raised
            log.info("a check-in answer raised a flag (severity %d)", raised.flag.severity)
            original = i18n.text(
                self.realm.language,
                "watch.checkin_answer",
                title=instrument.title(self.realm.language),
                number=str(raised.item),
                question=instrument.items[raised.item - 1].text(self.realm.language),
                answer=checkin.option_label(instrument, raised.item - 1, raised.choice, self.realm.language),
            )
            alert = Alert(CHECKIN_ALERT, raised.flag.severity, (f"checkin:{instrument.id}",))
            verdict = Verdict(Action.DELIVER, original, alerts=(alert,))
            conversation = str(keys.guide(member.id))
            await self.alert(
                Reviewed(self.realm.id, conversation, "checkin", member, None, original, verdict, None, now)
            )
        said = list(step.said)
        if step.result is not None:
            result = step.result
            band = (result.band.min, result.band.max)
            await self.kept.add_score(
                member.id, Score(result.instrument, result.version, result.answers, result.score, band, now)
            )
            said += self._resources(result.band.resources, language)
        return said

    def _resources(self, topics: Sequence[str], language: str) -> list[Say]:
        lines = [line for topic in topics for line in self.resources.for_topic(topic, language)]
        if not lines:
            return []
        return [Say("selfhelp.resources", {"lines": "\n".join(dict.fromkeys(lines)), "guide": self.realm.guide_jid})]

    async def _history(self, member: Member, wanted: str) -> list[Say]:
        language = self.languages.of(member)
        scores = await self.kept.scores(member.id)
        said = []
        for instrument in self.instruments.all:
            if wanted and checkin.fold(wanted) != instrument.id:
                continue
            own = [s for s in scores if s.instrument == instrument.id][-HISTORY_SHOWN:]
            if not own:
                continue
            latest = own[-1]
            said.append(
                Say(
                    "selfhelp.history",
                    {
                        "title": instrument.title(language),
                        "line": checkin.sparkline([s.score for s in own], instrument.max_score),
                        "max": str(instrument.max_score),
                        "count": str(len(own)),
                        "scores": ", ".join(f"{day(s.at)}: {s.score}" for s in own),
                        "band": instrument.band(min(latest.score, instrument.max_score)).label(language),
                    },
                )
            )
        return said or [Say("selfhelp.history_none")]

    # the journal

    async def _journal(self, stream: ComponentStream, member: Member, text: str, client_id: str | None) -> None:
        await self._say(stream, member, await self._journal_entry(member, text, client_id))

    async def _journal_entry(
        self, member: Member, text: str, client_id: str | None, again: str = "selfhelp.journal_again"
    ) -> list[Say]:
        """Told first (once): an entry is private, except one that raises a risk alert, which the guides see."""
        first = await self.kept.claim_told(member.id, self.clock())
        said = [Say("selfhelp.journal_told")] if first else []
        if not text:
            said.append(Say("selfhelp.journal_how"))
        elif first:  # not kept before the member knew: reviewed for risk all the same
            await self._review(member, text, client_id, kept=False)
            said.append(Say(again))
        else:
            number = await self._review(member, text, client_id, kept=True)
            said.append(Say("selfhelp.journal_kept", {"number": str(number), "date": day(self.clock())}))
        return said

    async def _entries(self, member: Member, name: str, argument: str) -> list[Say]:
        entries = await self.kept.entries(member.id)
        if name == "entries":
            if not entries:
                return [Say("selfhelp.entries_none")]
            return [Say("selfhelp.entries", {"lines": "\n".join(_entry_line(e) for e in entries)})]
        number = int(argument) if argument.isdigit() else 0
        found = next((e for e in entries if e.number == number), None)
        if found is None:
            return [Say("selfhelp.no_entry", {"number": argument})]
        if name == "read":
            return [Say("selfhelp.entry", {"number": str(found.number), "date": day(found.at), "text": found.text})]
        await self.kept.delete_entry(member.id, found.number)
        return [Say("selfhelp.entry_deleted", {"number": str(found.number)})]

    async def _review(self, member: Member, text: str, client_id: str | None, kept: bool) -> int:
        """A text to selfhelp@ through the pipeline (risk alerts only); an entry is kept as written: its number."""
        kind = "journal" if kept else "selfhelp"
        return await self._private(member, text, client_id, kind, self.kept.add_entry if kept else None)

    async def _private(
        self,
        member: Member,
        text: str,
        client_id: str | None,
        kind: str,
        keep: Callable[[int, str, float], Awaitable[int]] | None,
    ) -> int:
        """A private text through the pipeline (risk alerts only); kept by `keep` as written: its number."""
        numbers: list[int] = []

        async def kept(written: str, stanza_id: str) -> None:
            if keep is not None:
                numbers.append(await keep(member.id, written, self.clock()))

        async def notice(said: str) -> None:
            return None  # a private text brings no notice

        def refuse(refusal: Refusal) -> None:
            return None  # never refused (nobody else reads it)

        conversation = str(keys.guide(member.id))  # alerts point at the member's thread, where guides can answer
        event = TextEvent(
            member, self.realm, text, Field.BODY, Conversation.NONE, conversation, kind, client_id=client_id
        )
        await self.executor.submit(event, Reply(refuse, notice, kept))
        return numbers[0] if numbers else 0

    # goals

    async def _goal(self, stream: ComponentStream, member: Member, text: str, client_id: str | None) -> None:
        if not text:
            await self._say(stream, member, [Say("selfhelp.goal_how")])
            return

        async def keep(member_id: int, written: str, now: float) -> int:
            return await self.kept.add_goal(member_id, written, 0, None, now)

        number = await self._private(member, text, client_id, "goal", keep)
        await self._say(stream, member, [Say("selfhelp.goal_set", {"number": str(number)})])

    async def _goals(self, member: Member, name: str, argument: str) -> list[Say]:
        now, own = self.clock(), await self.kept.goals(member.id)
        if name == "goals":
            if not own:
                return [Say("selfhelp.goals_none")]
            lines = [await self._goal_line(member, goal, now) for goal in own]
            return [Say("selfhelp.goals", {"lines": "\n".join(lines)})]
        head, _, rest = argument.partition(" ")
        goal = next((g for g in own if head.isdigit() and g.number == int(head)), None)
        if goal is None:
            return [Say("selfhelp.no_goal", {"number": head})]
        number = str(goal.number)
        if name == "pace":
            every = goals.pace(rest)
            if every is None:
                return [Say("selfhelp.pace_how", {"number": number})]
            await self.kept.set_pace(member.id, goal.number, every, goals.first_check_in(now, every, self.day))
            return [Say("selfhelp.pace_set" if every else "selfhelp.pace_off", {"number": number, "days": str(every)})]
        if name == "endgoal":
            await self.kept.end_goal(member.id, goal.number)
            return [Say("selfhelp.goal_ended", {"number": number})]
        await self.kept.add_progress(member.id, goal.number, now)
        done = goals.streak(await self.kept.progress(member.id, goal.number), goal, now, self.day)
        key = "selfhelp.done_streak" if done >= 2 else "selfhelp.done"
        return [Say(key, {"number": number, "streak": str(done)})]

    async def _goal_line(self, member: Member, goal: goals.Goal, now: float) -> str:
        language = self.languages.of(member)
        done = goals.streak(await self.kept.progress(member.id, goal.number), goal, now, self.day)
        pace = self._pace(goal, language)
        return i18n.text(
            language, "selfhelp.goal_line", number=str(goal.number), text=goal.text, pace=pace, streak=str(done)
        )

    @staticmethod
    def _pace(goal: goals.Goal, language: str) -> str:
        if goal.every_days and goal.next_at is not None:
            return i18n.text(language, "selfhelp.goal_pace", days=str(goal.every_days), next=day(goal.next_at))
        return i18n.text(language, "selfhelp.goal_no_pace")

    async def check_ins(self) -> None:
        """This realm's goals whose check-in is due: one message each, in the member's queue; the next one a
        whole period later (never more often than the member asked, no burst of missed ones)."""
        now = self.clock()
        for member_id, goal in await self.kept.due_goals(now):
            member = self.directory.by_id(member_id)
            if member is None or member.realm != self.realm.id:
                continue
            self.queues.submit(member.account, partial(self._check_in, member, goal))

    async def _check_in(self, member: Member, goal: goals.Goal) -> None:
        now = self.clock()
        current = next((g for g in await self.kept.goals(member.id) if g.number == goal.number), None)
        if current is None or current.next_at is None or not goals.due(current, now):  # ended, or paced again
            return
        following = goals.after_check_in(current, now, self.day)
        if not await self.kept.checked_in(member.id, current.number, current.next_at, following):
            return  # another instance sent it
        if not member.active:
            return
        language = self.languages.of(member)
        done = goals.streak(await self.kept.progress(member.id, current.number), current, now, self.day)
        body = i18n.text(
            language, "selfhelp.goal_check_in", number=str(current.number), text=current.text, streak=str(done)
        )
        await self.send(self.realm.people_domain, st.build_chat(self.address, member.account, body))
        log.info("a goal check-in was sent")

    # courses

    async def _course(self, member: Member, name: str, wanted: str) -> list[Say]:
        language, offered = self.languages.of(member), self.courses.all
        enrolled = {course: index for course, index, _ in await self.kept.enrolments(member.id)}
        if not offered:
            return [Say("selfhelp.courses_none")]
        if name == "courses":
            lines = [self._course_line(c, language, c.id in enrolled) for c in offered]
            return [Say("selfhelp.courses", {"lines": "\n".join(lines)})]
        mine = [c for c in offered if c.id in enrolled] if name == "next" else list(offered)
        course = self.courses.get(wanted) if wanted else (mine[0] if len(mine) == 1 else None)
        if course is None:
            names = ", ".join(c.id for c in offered)
            return [Say("selfhelp.which_course", {"name": wanted, "courses": names})]
        if name == "enrol":
            if not await self.kept.enrol(member.id, course.id, self.clock()):
                return [Say("selfhelp.enrolled_already", {"title": course.title(language), "id": course.id})]
            enrolled[course.id] = 0
            intro = Say("selfhelp.enrolled", {"title": course.title(language), "about": course.about(language),
                                               "room": self._room_link(course, language)})  # fmt: skip
            return [intro, *await self._lesson(member, course, 0, language)]
        if course.id not in enrolled:
            return [Say("selfhelp.not_enrolled", {"id": course.id})]
        return await self._lesson(member, course, enrolled[course.id], language)

    async def _lesson(self, member: Member, course: courses.Course, index: int, language: str) -> list[Say]:
        shown = courses.lesson(course, index, language)
        if shown is None:
            return [
                Say(
                    "selfhelp.course_done", {"title": course.title(language), "room": self._room_link(course, language)}
                )
            ]
        await self.kept.next_lesson(member.id, course.id, index + 1)
        params = {"number": str(shown.number), "count": str(shown.count), "title": shown.title, "text": shown.text}
        after = Say("selfhelp.lesson_more" if shown.more else "selfhelp.lesson_last", {"id": course.id,
                    "room": self._room_link(course, language)})  # fmt: skip
        return [Say("selfhelp.lesson", params), after]

    def _room_link(self, course: courses.Course, language: str) -> str:
        return f"xmpp:{course.room(language)}@{self.realm.rooms_domain}?join"

    def _course_line(self, course: courses.Course, language: str, enrolled: bool) -> str:
        mark = i18n.text(language, "selfhelp.course_enrolled") if enrolled else ""
        count = str(len(course.lessons))
        return i18n.text(language, "selfhelp.course_line", id=course.id, title=course.title(language),
                         about=course.about(language), count=count, enrolled=mark)  # fmt: skip

    # export

    async def _forget(self, member: Member, argument: str) -> Say:
        """ "!forget": what it deletes; "!forget yes": everything the bot keeps about the member, deleted."""
        if checkin.fold(argument) not in checkin.CONFIRMED:
            return Say("selfhelp.forget_ask")
        await self.kept.forget(member.id)
        log.info("a member deleted everything selfhelp keeps about them")
        return Say("selfhelp.forgotten")

    async def _export(self, member: Member) -> list[Say]:
        language = self.languages.of(member)
        kept = await self.kept.export(member.id)
        parts = []
        if kept.open is not None:
            instrument = self.instruments.get(kept.open.instrument)
            title = instrument.title(language) if instrument else kept.open.instrument
            answers = self._answers(instrument, kept.open.answers, language)
            parts.append(i18n.text(language, "selfhelp.export_open", title=title, answers=answers))
        for score in kept.scores:
            instrument = self.instruments.get(score.instrument)
            title = instrument.title(language) if instrument else score.instrument
            answers = self._answers(instrument, score.answers, language)
            parts.append(
                i18n.text(
                    language,
                    "selfhelp.export_score",
                    date=day(score.at),
                    title=title,
                    score=str(score.score),
                    answers=answers,
                )
            )
        for entry in kept.entries:
            parts.append(
                i18n.text(language, "selfhelp.entry", number=str(entry.number), date=day(entry.at), text=entry.text)
            )
        for goal, done in kept.goals:
            pace = self._pace(goal, language)
            dates = ", ".join(day(at) for at in done) or "-"
            parts.append(
                i18n.text(
                    language, "selfhelp.export_goal", number=str(goal.number), text=goal.text, pace=pace, done=dates
                )
            )
        for course_id, index, at in kept.courses:
            found = self.courses.get(course_id)
            title = found.title(language) if found else course_id
            parts.append(i18n.text(language, "selfhelp.export_course", title=title, date=day(at), lessons=str(index)))
        if kept.told_at is not None:
            parts.append(i18n.text(language, "selfhelp.export_told", date=day(kept.told_at)))
        if not parts:
            return [Say("selfhelp.export_none")]
        return [Say("selfhelp.export", {"parts": "\n\n".join(parts)})]

    @staticmethod
    def _answers(instrument: Instrument | None, answers: Sequence[int], language: str) -> str:
        if instrument is None:
            return ", ".join(str(a + 1) for a in answers)
        return "; ".join(
            f"{n + 1}. {checkin.option_label(instrument, n, choice, language)}" for n, choice in enumerate(answers)
        )

    # ad-hoc commands (XEP-0050): each check-in, and a journal entry, as a XEP-0004 form

    def on_command(
        self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element
    ) -> Callable[[], Awaitable[None]] | None:
        """The job answering an iq about selfhelp@'s commands (their list, a form, a submitted form); None for
        any other iq. A Refused raised by the job answers the iq with that error."""
        if query.tag == f"{{{NS_DISCO_ITEMS}}}query" and query.get("node") == NS_COMMANDS:
            language = self.languages.of(member)
            nodes = [(f"{CHECKIN_NODE}{i.id}", i.title(language)) for i in self.instruments.all]
            listed = adhoc.command_items(
                self.address, [*nodes, (JOURNAL_NODE, i18n.text(language, "selfhelp.form_journal"))]
            )

            async def answer() -> None:
                stream.send_nowait(st.build_iq_result(element, listed))

            return answer
        if query.tag != f"{{{NS_COMMANDS}}}command" or element.get("type") != "set":
            return None
        return partial(self._command_iq, stream, element, member, query)

    async def _command_iq(
        self, stream: ComponentStream, element: ET.Element, member: Member, query: ET.Element
    ) -> None:
        node, session = query.get("node", ""), query.get("sessionid", "")
        wanted = node.removeprefix(CHECKIN_NODE) if node.startswith(CHECKIN_NODE) else None
        instrument = self.instruments.get(wanted) if wanted is not None else None
        if instrument is None and node != JOURNAL_NODE:
            raise Refused(Refusal("item-not-found", "selfhelp.form_no_command", params={"name": node}))
        if not session:  # a new command: its empty form
            session = secrets.token_hex(8)
            if len(self.sessions) >= OPEN_FORMS:
                del self.sessions[next(iter(self.sessions))]  # the oldest form left open
            self.sessions[session] = (member.id, node)
            stream.send_nowait(st.build_iq_result(element, self._form(member, node, session, instrument)))
            return
        if self.sessions.get(session) != (member.id, node):  # XEP-0050's bad-sessionid, said in the member's words
            refusal = Refusal("bad-request", "selfhelp.form_session", kind="modify")
            self.counters.refused += 1
            st.refuse(stream, element, refusal, self.languages.texts(refusal, member), BAD_SESSION)
            return
        if query.get("action") == "cancel":
            del self.sessions[session]
            note = self._words(member, [Say("selfhelp.form_canceled")])
            stream.send_nowait(
                st.build_iq_result(element, adhoc.completed_payload(node, session, note, status="canceled"))
            )
            return
        values = adhoc.submitted(query) or {}
        if instrument is not None:
            chosen = checkin.form_choices(instrument, values)
            if isinstance(chosen, Say):  # the form again, saying what to fix
                form = self._form(member, node, session, instrument, self._words(member, [chosen]))
                stream.send_nowait(st.build_iq_result(element, form))
                return
            said = await self._checkin_by_form(member, instrument, chosen)
        else:
            entry = values.get(ENTRY_FIELD, "")
            if not entry:
                form = self._form(member, node, session, None, self._words(member, [Say("selfhelp.form_no_entry")]))
                stream.send_nowait(st.build_iq_result(element, form))
                return
            said = await self._journal_entry(member, entry, None, "selfhelp.form_journal_again")
        del self.sessions[session]
        stream.send_nowait(
            st.build_iq_result(element, adhoc.completed_payload(node, session, self._words(member, said)))
        )

    async def _checkin_by_form(self, member: Member, instrument: Instrument, choices: Sequence[int]) -> list[Say]:
        """A whole check-in at once: each answer as the conversation takes it (same flags, alerts, score, words);
        the member's open conversation check-in, if any, is left as it was."""
        language, progress, said = self.languages.of(member), checkin.Progress(instrument.id), list[Say]()
        for choice in choices:
            step = checkin.answer(instrument, progress, choice, language)
            said = await self._apply(member, step, instrument)
            progress = step.progress or progress
        return said

    def _form(self, member: Member, node: str, session: str, instrument: Instrument | None, note: str = "") -> str:
        language = self.languages.of(member)
        if instrument is None:
            label = i18n.text(language, "selfhelp.form_entry")
            fields = adhoc.field_xml(ENTRY_FIELD, "text-multi", label, True)
            return adhoc.form_xml(node, session, i18n.text(language, "selfhelp.form_journal"), fields, note)
        fields = "".join(
            adhoc.field_xml(
                item.id,
                "list-single",
                f"{n}. {item.text(language)}",
                True,
                [(str(k), o.label(language)) for k, o in enumerate(instrument.options_of(n - 1), 1)],
            )
            for n, item in enumerate(instrument.items, 1)
        )
        return adhoc.form_xml(node, session, instrument.title(language), fields, note, instrument.intro(language))

    # words

    def _names(self, language: str) -> dict[str, str]:
        names = ", ".join(f"{i.id} ({i.title(language)})" for i in self.instruments.all)
        return {"instruments": names or "-", "guide": self.realm.guide_jid}

    def _words(self, member: Member, said: Sequence[Say]) -> str:
        language = self.languages.of(member)
        return "\n\n".join(i18n.text(language, s.key, **s.params) for s in said)

    async def _say(self, stream: ComponentStream, member: Member, said: Sequence[Say]) -> None:
        await stream.send(st.build_chat(self.address, member.account, self._words(member, said)))
        self.counters.stanzas_out += 1


def _entry_line(entry: Entry) -> str:
    first = entry.text.strip().splitlines()[0] if entry.text.strip() else ""
    return f"{entry.number}. {day(entry.at)} — {first[:60]}{'…' if len(first) > 60 else ''}"


__all__ = ["SELFHELP", "Progress", "SelfHelpBot"]
