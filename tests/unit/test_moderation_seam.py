from chatd.core.model import Member, Realm, Role, Status
from chatd.core.moderation import Moderation
from policies import Action, Context, Conversation, Field, Verdict

EN = Realm("en", "en", "en.example", "rooms.en.example")


class Recorder:
    def __init__(self, verdict: Verdict | None = None):
        self.contexts: list[Context] = []
        self.verdict = verdict

    def review(self, text: str, context: Context) -> Verdict:
        self.contexts.append(context)
        if self.verdict is None:
            raise ValueError("broken policy")
        return self.verdict


def test_context_carries_realm_language_and_member_state() -> None:
    policy = Recorder(Verdict(Action.DELIVER, "x"))
    moderation = Moderation(policy, probation_seconds=100)
    newcomer = Member(1, "a@x", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, joined_at=950.0)
    moderation.check("x", moderation.context(newcomer, EN, Field.BODY, Conversation.DIRECT, 1000.0, recent_messages=4))
    veteran = Member(2, "b@x", "en", "brave-heron", Role.WALL_GUIDE, Status.ACTIVE, joined_at=0.0)
    moderation.check("x", moderation.context(veteran, EN, Field.SUBJECT, Conversation.ROOM, 1000.0, watched=True))
    first, second = policy.contexts
    assert (first.language, first.new_member, first.recent_messages, first.field) == ("en", True, 4, Field.BODY)
    assert (second.new_member, second.author_role, second.watched) == (False, "wall_guide", True)


def test_a_failing_policy_holds() -> None:
    moderation = Moderation(Recorder(None))
    author = Member(1, "a@x", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)
    verdict = moderation.check("text", moderation.context(author, EN, Field.BODY, Conversation.DIRECT, now=1.0))
    assert verdict.action is Action.HOLD and not verdict.delivers
    assert moderation.failures == 1


class PersonalOnly(Recorder):
    def review_personal_information(self, text: str, context: Context) -> Verdict:
        return Verdict(Action.REDACT, "[removed]")


def test_personal_information_alone_asks_the_narrower_pass_where_the_policy_has_one() -> None:
    author = Member(1, "a@x", "en", "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)
    context = Moderation(Recorder()).context(author, EN, Field.BODY, Conversation.DIRECT, now=1.0)
    assert Moderation(PersonalOnly(Verdict(Action.DELIVER, "x"))).check_personal_information("x", context).text == (
        "[removed]"
    )
    whole = Moderation(Recorder(Verdict(Action.REJECT, "x")))  # a policy with one review only: the whole review
    assert whole.check_personal_information("x", context).action is Action.REJECT
    failing = Moderation(Recorder(None))
    assert failing.check_personal_information("x", context).action is Action.HOLD and failing.failures == 1


class Warming(Recorder):
    def __init__(self, fails: bool) -> None:
        super().__init__()
        self.fails, self.warmed = fails, 0

    def warm(self) -> None:
        self.warmed += 1
        if self.fails:
            raise OSError("model file unreadable")


def test_warm_asks_the_policy_where_it_can_and_a_failure_is_counted_not_raised() -> None:
    Moderation(Recorder()).warm()  # a policy without it: nothing to load
    policy = Warming(fails=False)
    moderation = Moderation(policy)
    moderation.warm()
    assert (policy.warmed, moderation.failures) == (1, 0)
    broken = Moderation(Warming(fails=True))
    broken.warm()
    assert broken.failures == 1
