"""resources@<realm>: the resource library by topic, in the member's language."""

from __future__ import annotations

from tests.integration.conftest import Stack
from tests.support.client import body_of, message_from


async def test_resource_bot_answers_in_english(stack: Stack, connect) -> None:
    alice = await connect("alice")
    bot = f"resources@{stack.en}"
    alice.send_chat(bot, "crisis")
    got = body_of(await alice.expect(message_from(bot, "Support services")))
    assert got and "988" in got and "911" in got and "1-844-750-1648" in got
    alice.send_chat(bot, "Veterans")
    got = body_of(await alice.expect(message_from(bot, "veterans")))
    assert got and "1-800-268-7708" in got


async def test_resource_bot_answers_in_french(stack: Stack, connect) -> None:
    denise = await connect("denise")
    bot = f"resources@{stack.fr}"
    denise.send_chat(bot, "familles")
    got = body_of(await denise.expect(message_from(bot, "Services de soutien")))
    assert got and "1-800-866-4546" in got and "Ligne d’information pour les familles" in got
    denise.send_chat(bot, "jeunes")
    got = body_of(await denise.expect(message_from(bot, "Jeunesse")))
    assert got and "1-800-668-6868" in got


async def test_unknown_topic_gets_the_menu(stack: Stack, connect) -> None:
    alice = await connect("alice")
    bot = f"resources@{stack.en}"
    alice.send_chat(bot, "what do you have?")
    got = body_of(await alice.expect(message_from(bot, "Send one of these topics")))
    assert got and "sexual misconduct" in got and "families" in got
