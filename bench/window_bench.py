"""Cost of conversation-level risk per text: each member's recent texts scored together.

For every text, the desk adds it to its author's window (chatd/core/window.py) and scores the
window with PolicyEngine.assess_recent through chatd's moderation layer (after the text's own severe
alert is confirmed by the model's doubt, PolicyEngine.confirmed). As a baseline, the same
run times PolicyEngine.review on the same texts (the inline check every text passes anyway).
Also reports the window's memory for many members. With --ahead N the texts come N at a time (a backlog
at the desk) and the meanings their windows could ask for are encoded together first
(PolicyEngine.read_ahead), as the desk does; the encoder's calls and texts are counted either way.

Usage: python bench/window_bench.py [--texts 4000] [--members 50] [--window 8] [--ahead 1]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tomllib
import tracemalloc
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's chatd and policies
sys.path.insert(0, str(Path(__file__).resolve().parent))
from policies_bench import SENTENCES, percentile

from chatd import i18n
from chatd.core.model import Member, Realm, Role, Status
from chatd.core.moderation import Moderation
from chatd.core.window import RecentTexts
from policies import Conversation, Field, risk_model
from policies.engine import PolicyEngine

SETTINGS = Path(__file__).parents[1] / "conf" / "policies.toml"


def texts(count: int, seed: int = 5) -> list[tuple[int, str, str]]:
    """(member, language, text): chat-sized texts of one to three sentences."""
    chooser = random.Random(seed)
    built = []
    for _ in range(count):
        member = chooser.randrange(1000)
        language = "en" if member % 2 else "fr"
        built.append((member, language, " ".join(chooser.sample(SENTENCES[language], chooser.randint(1, 3)))))
    return built


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--members", type=int, default=50, help="members writing at the same time")
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--ahead", type=int, default=1, help="texts waiting together (1: each read alone)")
    args = parser.parse_args()
    engine = PolicyEngine.from_settings(tomllib.loads(SETTINGS.read_text()), i18n.label)
    moderation = Moderation(engine)
    if not hasattr(engine, "assess_recent"):
        print("PolicyEngine has no assess_recent: nothing to measure")
        return
    realms = {lang: Realm(lang, lang, f"{lang}.bench", f"rooms.{lang}.bench") for lang in ("en", "fr")}
    contexts = {}
    for lang, realm in realms.items():
        author = Member(1, "a@bench", lang, "calm-otter", Role.MEMBER, Status.ACTIVE, 0.0)
        contexts[lang] = moderation.context(author, realm, Field.BODY, Conversation.DIRECT, 1e9)
    batch = [(member % args.members, lang, text) for member, lang, text in texts(args.texts)]
    window = RecentTexts(args.window, 1800.0)

    for _, lang, text in batch[:200]:  # warm up
        engine.review(text, contexts[lang])
    encode = risk_model.encoder()
    calls = [0, 0, 0]  # encoder calls, texts encoded, CPU ns

    def counted(texts: list[str]) -> risk_model.Vectors:
        calls[0] += 1
        calls[1] += len(texts)
        start = time.thread_time_ns()
        try:
            return encode(texts)
        finally:
            calls[2] += time.thread_time_ns() - start

    risk_model.encoder = lambda: counted  # type: ignore[assignment]
    gc.collect()
    review_us, window_us, alerts, ahead_ns = [], [], 0, 0
    cpu = time.process_time()
    for at, (member, lang, text) in enumerate(batch):
        context = contexts[lang]
        if args.ahead > 1 and at % args.ahead == 0:
            coming = batch[at : at + args.ahead]
            start = time.perf_counter_ns()
            held = window.upcoming([(who, said, float(at + n)) for n, (who, _, said) in enumerate(coming)])
            moderation.read_ahead([(texts, language) for texts, (_, language, _) in zip(held, coming, strict=True)])
            ahead_ns += time.perf_counter_ns() - start
        start = time.perf_counter_ns()
        verdict = engine.review(text, context)
        middle = time.perf_counter_ns()
        verdict = moderation.confirmed(verdict, text, lang)  # after delivery, as the desk does
        alerted = max((a.severity for a in verdict.alerts if a.kind.startswith("risk.")), default=0)
        alert = window.add(member, text, float(at), alerted, partial(moderation.assess_recent, context=context))
        end = time.perf_counter_ns()
        review_us.append((middle - start) / 1000)
        window_us.append((end - middle) / 1000)
        alerts += alert is not None
    cpu = time.process_time() - cpu

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<38} p50 {statistics.median(values):8.1f} µs   p99 {percentile(values, 0.99):8.1f} µs"
            f"   mean {statistics.fmean(values):8.1f} µs"
        )

    print(f"{len(batch)} texts, {args.members} members writing at once, window of {args.window} texts")
    print(line("baseline: review (one text)", review_us))
    print(line("window: confirm + add + assess_recent", window_us))
    window_mean = statistics.fmean(window_us) + ahead_ns / 1000 / len(batch)
    if args.ahead > 1:
        print(f"read ahead, {args.ahead} texts at a time: {ahead_ns / 1000 / len(batch):8.1f} µs per text")
    print(f"CPU per text, review + window (read ahead included): {cpu / len(batch) * 1e6:8.1f} µs")
    print(
        f"encoder: {calls[0]} calls, {calls[1]} texts ({calls[1] / max(calls[0], 1):.1f} per call),"
        f" CPU {calls[2] / 1e6 / max(calls[1], 1):.2f} ms per text encoded,"
        f" {calls[2] / 1e3 / len(batch):.0f} µs per text"
    )
    ratio = window_mean / statistics.fmean(review_us)
    print(f"window (read ahead included) / review (mean): {ratio:.2f}   window alerts raised: {alerts}")

    tracemalloc.start()
    held = RecentTexts(args.window, 1800.0)
    for member in range(10000):
        for n in range(args.window):
            text = batch[(member + n) % len(batch)][2] + " "  # a string of its own, as received
            held.add(member, text, 0.0, 0, lambda _texts: ())
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory for 10,000 members with full windows: {size / 1e6:.1f} MB (texts included)")


if __name__ == "__main__":
    main()
