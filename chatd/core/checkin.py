"""A check-in as a conversation with selfhelp@: one question at a time, answered by number or word.

`step` takes the instrument, the member's progress and what they wrote, and returns what the bot
says (message keys with their parameters, for the translator's catalogs), the progress to keep (None:
nothing open any more), the result when the last item was answered, and the flag an answer raised.
"back", "stop" and "resume" (and their French words) work at every question; a stopped check-in
waits in the store until the member resumes it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from chatd.core.instruments import Band, Flag, Instrument

BACK = frozenset({"back", "retour", "precedent", "previous"})
STOP = frozenset({"stop", "pause", "arreter", "arrete", "later", "plus tard"})
RESUME = frozenset({"resume", "reprendre", "continue", "continuer"})


def fold(text: str) -> str:
    """Lower case, no accents, no surrounding punctuation: how answers and words are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.strip(" .!?¿¡,;:\"'«»").split())


@dataclass(frozen=True, slots=True)
class Progress:
    """A member's open check-in: the option chosen for each item answered so far."""

    instrument: str
    answers: tuple[int, ...] = ()
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Say:
    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    instrument: str
    version: int
    answers: tuple[int, ...]
    score: int
    band: Band


@dataclass(frozen=True, slots=True)
class Raised:
    """An answer that a flag rule names: the guides get a risk alert with what was answered."""

    flag: Flag
    item: int  # from 1
    choice: int  # the option chosen (its index)


@dataclass(frozen=True, slots=True)
class Step:
    said: tuple[Say, ...]
    progress: Progress | None
    result: Result | None = None
    raised: Raised | None = None
    understood: bool = True  # False: the words were neither an answer nor a check-in word


def start(instrument: Instrument, language: str) -> Step:
    progress = Progress(instrument.id)
    intro = Say("selfhelp.intro", {"title": instrument.title(language), "intro": instrument.intro(language)})
    return Step((intro, question(instrument, progress, language)), progress)


def question(instrument: Instrument, progress: Progress, language: str) -> Say:
    index = len(progress.answers)
    options = instrument.options_of(index)
    choices = "\n".join(f"{n}. {o.label(language)}" for n, o in enumerate(options, 1))
    return Say(
        "selfhelp.question",
        {
            "number": str(index + 1),
            "count": str(len(instrument.items)),
            "text": instrument.items[index].text(language),
            "options": choices,
            "last": str(len(options)),
        },
    )


def choice_of(instrument: Instrument, index: int, answer: str, language: str) -> int | None:
    """The option an answer chooses: its number, its label (either language), a word it lists, or the one
    label the answer begins (e.g. "sev" for "Several days"); None when it chooses none or several."""
    options = instrument.options_of(index)
    folded = fold(answer)
    if folded.isdigit():
        number = int(folded)
        return number - 1 if 1 <= number <= len(options) else None
    if not folded:
        return None
    for n, option in enumerate(options):
        if folded in {fold(option.en), fold(option.fr), *(fold(w) for w in option.words)}:
            return n
    starting = [n for n, o in enumerate(options) if fold(o.label(language)).startswith(folded)]
    return starting[0] if len(starting) == 1 else None


def step(instrument: Instrument, progress: Progress, text: str, language: str) -> Step:
    """What the member's words do to their open check-in."""
    word = fold(text)
    if word in STOP:
        return Step((Say("selfhelp.stopped", {"title": instrument.title(language)}),), replace(progress, paused=True))
    if word in RESUME or progress.paused:
        if progress.paused and word not in RESUME:
            return Step((Say("selfhelp.paused", {"title": instrument.title(language)}),), progress, understood=False)
        resumed = replace(progress, paused=False)
        return Step((question(instrument, resumed, language),), resumed)
    if word in BACK:
        if not progress.answers:
            return Step((Say("selfhelp.at_first"), question(instrument, progress, language)), progress)
        earlier = replace(progress, answers=progress.answers[:-1])
        return Step((question(instrument, earlier, language),), earlier)
    index = len(progress.answers)
    choice = choice_of(instrument, index, text, language)
    if choice is None:
        last = str(len(instrument.options_of(index)))
        said = (Say("selfhelp.not_an_answer", {"last": last}), question(instrument, progress, language))
        return Step(said, progress, understood=False)
    return answer(instrument, progress, choice, language)


def answer(instrument: Instrument, progress: Progress, choice: int, language: str) -> Step:
    """The option chosen (its index) for the next item: the next question, or the result after the last one;
    the flag the answer raised. The conversation (`step`) and the form (one call per item, in order) both
    come here, so they score and flag alike."""
    index = len(progress.answers)
    answered = replace(progress, answers=(*progress.answers, choice))
    flag = instrument.flag_for(index, choice)
    raised = Raised(flag, index + 1, choice) if flag is not None else None
    if len(answered.answers) < len(instrument.items):
        return Step((question(instrument, answered, language),), answered, raised=raised)
    result = score(instrument, answered.answers)
    return Step(finished(instrument, result, language), None, result, raised)


def option_label(instrument: Instrument, index: int, choice: int, language: str) -> str:
    return instrument.options_of(index)[choice].label(language)


def score(instrument: Instrument, answers: Sequence[int]) -> Result:
    total = instrument.score(answers)
    return Result(instrument.id, instrument.version, tuple(answers), total, instrument.band(total))


def finished(instrument: Instrument, result: Result, language: str) -> tuple[Say, ...]:
    """The score, its band in plain words, what it does and does not mean (resources: the translator's)."""
    return (
        Say(
            "selfhelp.result",
            {
                "title": instrument.title(language),
                "score": str(result.score),
                "max": str(instrument.max_score),
                "band": result.band.label(language),
                "meaning": result.band.meaning(language),
                "means": instrument.means(language),
                "not": instrument.does_not_mean(language),
            },
        ),
    )


SPARKS = "▁▂▃▄▅▆▇█"
CONFIRMED = frozenset({"yes", "oui"})  # "!forget yes": everything the bot keeps is deleted


def sparkline(scores: Sequence[int], maximum: int) -> str:
    """Scores over time as one line of block characters (0 is the lowest block, maximum the highest)."""
    if maximum <= 0:
        return SPARKS[0] * len(scores)
    top = len(SPARKS) - 1
    return "".join(SPARKS[min(top, max(0, round(s * top / maximum)))] for s in scores)


# the bot's commands, in either language: "!journal <text>", "!historique", …
BOT_COMMANDS = {
    "help": "help",
    "aide": "help",
    "start": "start",
    "commencer": "start",
    "history": "history",
    "historique": "history",
    "journal": "journal",
    "entries": "entries",
    "entrees": "entries",
    "read": "read",
    "lire": "read",
    "delete": "delete",
    "supprimer": "delete",
    "export": "export",
    "exporter": "export",
    "forget": "forget",
    "oublier": "forget",
    "goal": "goal",
    "objectif": "goal",
    "goals": "goals",
    "objectifs": "goals",
    "pace": "pace",
    "rythme": "pace",
    "done": "done",
    "fait": "done",
    "endgoal": "endgoal",
    "terminer": "endgoal",
    "courses": "courses",
    "cours": "courses",
    "enrol": "enrol",
    "enroll": "enrol",
    "inscrire": "enrol",
    "next": "next",
    "suivante": "next",
}


@dataclass(frozen=True, slots=True)
class BotCommand:
    name: str  # a value of BOT_COMMANDS, or "unknown"
    argument: str = ""  # as written (a journal entry keeps its case and lines)


def parse_bot_command(text: str) -> BotCommand | None:
    """A "!word [argument]" command to selfhelp@, or None for anything else."""
    stripped = text.strip()
    if not stripped.startswith("!"):
        return None
    head = stripped[1:].split(maxsplit=1)
    word = fold(head[0]) if head else ""
    argument = head[1].strip() if len(head) > 1 else ""
    return BotCommand(BOT_COMMANDS.get(word, "unknown"), argument if word in BOT_COMMANDS else word)


def form_choices(instrument: Instrument, values: Mapping[str, str]) -> tuple[int, ...] | Say:
    """The options chosen in a submitted check-in form (field: the item's id, value: the option's number from
    1), or what is wrong with it: the items left unanswered, else those answered with no such option."""
    missing = [str(n) for n, item in enumerate(instrument.items, 1) if not values.get(item.id, "").strip()]
    if missing:
        return Say("selfhelp.form_missing", {"numbers": ", ".join(missing)})
    choices = [
        _option_number(values[item.id], len(instrument.options_of(n))) for n, item in enumerate(instrument.items)
    ]
    unknown = [str(n) for n, choice in enumerate(choices, 1) if choice is None]
    if unknown:
        return Say("selfhelp.form_unknown", {"numbers": ", ".join(unknown)})
    return tuple(c for c in choices if c is not None)


def _option_number(value: str, count: int) -> int | None:
    stripped = value.strip()
    if not stripped.isdigit() or not 1 <= int(stripped) <= count:
        return None
    return int(stripped) - 1
