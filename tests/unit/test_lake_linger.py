"""splake.lake.groupcommit.should_linger: how long a committer waits for more of its table (pure)."""

from __future__ import annotations

from splake.lake.groupcommit import CommitTiming, should_linger

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
    """The queue emptied (all admitted) but they are still landing: one commit for all of them."""
    assert should_linger(5, 0, 3.0, T, queue_seen=True)
    assert not should_linger(5, 0, 3.0, T), "never queued: landing documents only for linger_seconds"
    assert not should_linger(5, 0, 15.0, T, queue_seen=True)
    assert not should_linger(0, 0, 1.0, T, queue_seen=True), "nothing left: commit now"
