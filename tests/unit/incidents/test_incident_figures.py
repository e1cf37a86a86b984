"""When an open incident's figures are written apart: counts at most every STATS_REFRESH, and the
last busy moment never more than STATS_REFRESH behind (the quiet resolve counts from it)."""

from __future__ import annotations

from datetime import timedelta

from crisiswatch.incidents.service import STATS_REFRESH, _figures_due
from tests.builders import NOW, incident

MINUTE = timedelta(minutes=1)


def test_counts_that_moved_wait_for_the_refresh_interval():
    stored = incident(updated_at=NOW, last_active_at=NOW)
    busier = stored.stats.model_copy(update={"mentions": stored.stats.mentions + 5})
    moved = stored.model_copy(update={"stats": busier})
    assert not _figures_due(stored, moved, NOW + MINUTE)
    assert _figures_due(stored, moved, NOW + STATS_REFRESH)
    assert not _figures_due(stored, stored, NOW + 10 * STATS_REFRESH)  # nothing moved: nothing written


def test_a_busy_moment_well_past_the_stored_one_is_written_whenever_the_last_write_was():
    # Written a minute ago for other figures, with a last busy moment 40 minutes old: busy again now.
    stored = incident(updated_at=NOW - MINUTE, last_active_at=NOW - 40 * MINUTE)
    busy_now = stored.model_copy(update={"last_active_at": NOW})
    assert _figures_due(stored, busy_now, NOW)
    # Busy again two minutes after the stored moment: within the interval, it can wait.
    recent = incident(updated_at=NOW - MINUTE, last_active_at=NOW - 2 * MINUTE)
    assert not _figures_due(recent, recent.model_copy(update={"last_active_at": NOW}), NOW)
