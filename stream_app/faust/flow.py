"""faust's flow control, kept from emptying the agents' buffers when it is resumed twice.

faust suspends its flow control when a rebalance starts and empties every agent's buffer then
(`App._on_partitions_revoked`). Its `resume` empties them again, and recovery calls it twice:
when it starts reading the changelogs, and after its seek to the committed offsets
(`Recovery.on_recovery_completed`). Records of the new assignment handed to the agents in
between, during that seek, were emptied out unprocessed, while the consumer had already
fetched past them: nothing read them again until a later record of the partition revealed the
hole to the continuity check. When they were a partition's last records, they waited for the
next notification: a worker that took over a finished stream left its tail unhandled and
uncommitted (tests/stream_app/test_worker_failover.py). Resuming flow that is not suspended
now changes nothing; a resume after a suspension empties the buffers as before.

Private seams: `App.flow_control` is a settable attribute holding mode's FlowControlEvent,
whose `resume` clears the managed queues (tests/stream_app/test_faust_flow.py).
"""

from __future__ import annotations

import faust
from mode.utils.queues import FlowControlEvent


class ResumeOnce(FlowControlEvent):
    """A FlowControlEvent whose `resume` of flow already running keeps the buffers."""

    def resume(self) -> None:
        """Resume suspended flow, emptying the buffers; leave flow already running alone."""
        if self.is_active():
            return
        super().resume()


def use_resume_once(app: faust.App) -> None:
    """Give the app a ResumeOnce flow control (before any agent creates its buffer)."""
    app.flow_control = ResumeOnce(loop=app.loop)
