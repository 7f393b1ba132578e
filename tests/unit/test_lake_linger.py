"""splake.lake.commitrecords.should_linger: how long a committer waits for more of its table (pure)."""

from __future__ import annotations

from splake.lake.commitrecords import CommitTiming, should_linger

T = CommitTiming(linger_seconds=2.0, queue_linger_seconds=15.0)


def test_lingers_for_documents_landing_up_to_linger_seconds() -> None:
    assert should_linger(1, 0, 1.9, T)
    assert not should_linger(1, 0, 2.0, T)


def test_lingers_for_queued_documents_up_to_queue_linger_seconds() -> None:
    assert should_linger(0, 3, 14.9, T)
    assert should_linger(1, 3, 5.0, T), "past linger_seconds, but more of the table is queued"
    assert not should_linger(0, 3, 15.0, T)


def test_commits_at_once_when_nothing_more_is_coming() -> None:
    assert not should_linger(0, 0, 0.0, T)


def test_documents_of_a_queue_seen_are_waited_for_while_they_land() -> None:
    """The table's queue emptied (all admitted) but they are still landing while other tables' documents
    are queued: one commit for all of them."""
    assert should_linger(5, 0, 3.0, T, queue_seen=True, queued_anywhere=40)
    assert not should_linger(5, 0, 3.0, T, queued_anywhere=40), "never queued: only for linger_seconds"
    assert not should_linger(5, 0, 15.0, T, queue_seen=True, queued_anywhere=40)
    assert not should_linger(0, 0, 1.0, T, queue_seen=True, queued_anywhere=40), "nothing left: commit now"


def test_at_the_end_of_a_sync_what_is_staged_commits_while_the_last_documents_land() -> None:
    """Nothing queued anywhere: the last commit, which nothing overlaps, carries only the last few."""
    assert not should_linger(5, 0, 3.0, T, queue_seen=True, queued_anywhere=0)
    assert should_linger(5, 0, 1.0, T, queue_seen=True, queued_anywhere=0), "still within linger_seconds"
