"""One error path: rules return refusals, handlers raise them, one place answers."""

import pytest

from chatd.core.refusal import Refusal, Refused, allowed, answered, checked

NO = Refusal("forbidden", "error.guides_only", kind="auth")


def test_checked_and_allowed_raise_only_refusals() -> None:
    checked(None)
    assert allowed(7) == 7
    for raising in (lambda: checked(NO), lambda: allowed(NO)):
        with pytest.raises(Refused) as caught:
            raising()
        assert caught.value.refusal is NO


async def test_a_refusal_raised_in_queued_work_becomes_the_answer() -> None:
    answers: list[Refusal] = []
    done: list[str] = []

    async def refused_job() -> None:
        raise Refused(NO)

    async def fine_job() -> None:
        done.append("ok")

    await answered(refused_job, answers.append)()
    await answered(fine_job, answers.append)()
    assert answers == [NO] and done == ["ok"]
