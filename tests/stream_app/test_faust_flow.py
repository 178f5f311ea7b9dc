"""A second resume of flow keeps the agents' buffers (stream_app.faust.flow); faust's seams."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from faust.app.base import App
from faust.tables.recovery import Recovery
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from stream_app.faust.declare import create_faust_app
from stream_app.faust.flow import ResumeOnce


def buffer(flow: FlowControlEvent, *items: int) -> FlowControlQueue[int]:
    """Return an agent's buffer as faust builds it (cleared on resume), holding the items."""
    queue: FlowControlQueue[int] = FlowControlQueue(
        maxsize=10, flow_control=flow, clear_on_resume=True
    )
    for item in items:
        queue.put_nowait(item)
    return queue


def test_mode_s_resume_empties_the_buffers_even_when_flow_already_runs() -> None:
    """The behaviour ResumeOnce changes: a second resume empties what arrived after the first."""
    flow = FlowControlEvent()
    flow.resume()
    queue = buffer(flow, 1, 2)
    flow.resume()
    assert queue.qsize() == 0


def test_a_second_resume_keeps_the_buffers() -> None:
    """Records handed over while flow ran stay for the agent."""
    flow = ResumeOnce()
    flow.resume()
    queue = buffer(flow, 1, 2)
    flow.resume()
    assert (flow.is_active(), queue.qsize()) == (True, 2)


def test_a_resume_after_a_suspension_still_empties_the_buffers() -> None:
    """Records of the generation before a rebalance are dropped, as faust drops them."""
    flow = ResumeOnce()
    flow.resume()
    queue = buffer(flow, 1, 2)
    flow.suspend()
    assert not flow.is_active()
    flow.resume()
    assert (flow.is_active(), queue.qsize()) == (True, 0)


def test_the_worker_s_app_and_its_buffers_use_resume_once(
    make_settings: Any, tmp_path: Path
) -> None:
    """create_faust_app installs it before any agent's buffer is built against it."""
    app = create_faust_app(make_settings(), "flow-test", 6069, str(tmp_path))
    channel = app.channel()
    assert isinstance(app.flow_control, ResumeOnce)
    assert channel.queue._flow_control is app.flow_control


def test_faust_empties_the_buffers_when_partitions_are_revoked() -> None:
    """What makes the kept buffers safe: a rebalance suspends flow and empties them itself."""
    source = inspect.getsource(App._on_partitions_revoked)
    assert source.index("self.flow_control.suspend") < source.index("self.flow_control.clear")


def test_faust_s_recovery_resumes_flow_after_its_seek() -> None:
    """The second resume this module makes harmless follows the seek to the committed offsets."""
    source = inspect.getsource(Recovery.on_recovery_completed)
    assert source.index("perform_seek") < source.index("self.app.flow_control.resume()")
