"""/metrics parses as Prometheus text and counts what the test did."""

from __future__ import annotations

import asyncio
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Stack
from tests.support.client import message_from
from tests.support.muc import join


def scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{stack.chatd.http_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_count_stanzas_verdicts_and_moderation_time(stack: Stack, connect) -> None:
    before = await asyncio.to_thread(scrape, stack)
    alice, bob = await connect("alice"), await connect("bob")
    for n in range(3):
        alice.send_chat(stack.pseudonym_jid("bob"), f"metrics message {n}")
    alice.send_chat(stack.pseudonym_jid("bob"), "REJECTME for metrics")
    await join(bob, "general@rooms.en.localhost", "brave-heron")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "metrics message 2"))
    await asyncio.sleep(0.3)
    after = await asyncio.to_thread(scrape, stack)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("chatd_stanzas_in_total", domain=stack.en) >= 4
    assert delta("chatd_stanzas_out_total", domain=stack.en) >= 4  # 3 relayed + 1 error
    assert delta("chatd_verdicts_total", action="deliver", category="none") == 3
    assert delta("chatd_verdicts_total", action="reject", category="none") == 1
    assert delta("chatd_moderation_seconds_count") == 4
    assert after[("chatd_stream_up", (("domain", stack.en),))] == 1
    assert ("chatd_outbox_depth", (("domain", stack.fr),)) in after
    assert ("chatd_queue_depth", ()) in after
    assert after[("chatd_members_online", ())] >= 1
