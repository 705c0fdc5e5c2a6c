"""Delivery confirmations (transmitted, then routed) and the sent log."""

from __future__ import annotations

from pathlib import Path

from chatd.core.delivery import PROBE_PREFIX, Confirmations
from chatd.store.journal import Journal
from chatd.store.sentlog import SentLog


def test_tokens_are_transmitted_in_byte_order() -> None:
    confirmations = Confirmations()
    confirmations.written("a", 100)
    confirmations.written("b", 250)
    assert confirmations.transmitted(99) == []
    assert confirmations.transmitted(100) == ["a"]
    assert confirmations.untransmitted == 1
    assert confirmations.transmitted(400) == ["b"]


def test_a_probe_covers_what_was_transmitted_before_it_and_answers_come_in_order() -> None:
    confirmations = Confirmations()
    assert confirmations.start_probe() is None  # nothing to cover
    confirmations.written("a", 10)
    confirmations.transmitted(10)
    first = confirmations.start_probe()
    assert first is not None and first.startswith(PROBE_PREFIX)
    confirmations.written("b", 20)
    confirmations.transmitted(20)
    second = confirmations.start_probe()  # several may be in flight
    confirmations.written("c", 30)
    confirmations.transmitted(30)
    third = confirmations.start_probe()
    assert not confirmations.answered("chatd-routed-unknown")
    assert confirmations.answered(second or "")  # the server answers in order: the first is covered too
    assert confirmations.oldest_probe == third
    assert confirmations.connection_lost() == ["c"]


def test_a_dropped_connection_returns_everything_not_routed_in_order() -> None:
    confirmations = Confirmations()
    for n, token in enumerate(["a", "b", "c"]):
        confirmations.written(token, (n + 1) * 10)
    confirmations.transmitted(10)
    confirmations.start_probe()  # covers "a"
    confirmations.transmitted(20)  # "b" transmitted, not yet probed; "c" still in buffers
    assert confirmations.connection_lost() == ["a", "b", "c"]
    assert confirmations.connection_lost() == []


def test_unanswered_probes_are_folded_into_the_next() -> None:
    confirmations = Confirmations()
    confirmations.written("a", 10)
    confirmations.transmitted(10)
    first = confirmations.start_probe()
    confirmations.retry()
    assert confirmations.oldest_probe is None
    second = confirmations.start_probe()
    assert second is not None and second != first
    assert not confirmations.answered(first or "")
    assert confirmations.answered(second)
    assert confirmations.connection_lost() == []


def test_the_sent_log_keeps_ids_for_the_next_run_and_rotates(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "chatd.sqlite3"
    log = SentLog(database)
    log.start()
    log.append(["m1", "m2"])
    log.close()
    assert SentLog(database).recorded() == {"m1", "m2"}  # what a killed process left
    monkeypatch.setattr("chatd.store.sentlog.ROTATE_BYTES", 8)
    log = SentLog(database)
    log.start()  # the previous run's file is gone: its ids were folded into the archive
    assert log.recorded() == set()
    log.append(["m3", "m4", "m5"])
    obsolete = log.rotate()
    assert len(obsolete) == 1 and log.rotate() == []
    log.append(["m6"])
    log.remove(obsolete)
    assert log.recorded() == {"m6"}
    log.close()


def test_the_journal_recovers_whole_records_across_a_rotation(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "chatd.sqlite3"
    monkeypatch.setattr("chatd.store.journal.ROTATE_BYTES", 20)
    journal = Journal(database)
    journal.start()
    for record in (b"<message>1</message>", b"<message>2</message>", b"<message>3</message>"):
        journal.append(record)
    journal.close()
    with open(journal.current, "ab") as cut_short:  # the crash came in the middle of a write
        cut_short.write(b"\x00\x00\x00\x40<mess")
    assert Journal(database).recover() == [b"<message>2</message>", b"<message>3</message>"]  # 1 rotated out
    fresh = Journal(database)
    fresh.start()
    assert fresh.recover() == []
    fresh.close()
