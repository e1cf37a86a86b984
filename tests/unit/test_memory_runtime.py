"""The memory runtime's queues deliver as Lambda's SQS poller does: a failed record is retried, and
after DLQ_MAX_RECEIVE_COUNT receives it is a dead letter; the rest of the batch goes on."""

from __future__ import annotations

from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import DLQ_MAX_RECEIVE_COUNT
from infra.local.memory_runtime import MemoryRuntime
from tests.builders import NOW, post, watch


class NoPlatform:
    def get_json(self, url, *, headers=None):
        raise AssertionError("no fetch in this test")


def test_a_poison_post_ends_as_a_dead_letter_and_the_batch_goes_on():
    runtime = MemoryRuntime([watch()], {"weibo": "http://weibo.test"}, NoPlatform(), SimulatedClock(NOW))
    good = post("1", created_at=NOW).model_dump_json()
    runtime.posts_queue.send_all([good, '{"platform": "weibo"'])

    drained = runtime.pump_scorer()

    assert (drained.delivered, drained.failed, drained.dead_lettered) == (1, DLQ_MAX_RECEIVE_COUNT, 1)
    assert runtime.dead_letters == {"posts": ['{"platform": "weibo"']}
    assert len(runtime.posts) == 1 and len(runtime.posts_queue) == 0
