"""The outcome window: when recent calls say Intercom as a whole is failing."""

from __future__ import annotations

from stream_app.writer.breaker import BreakerPolicy, OutcomeWindow
from tests.fakes.clock import FakeClock


def window(clock: FakeClock, failures: int = 3, ratio: float = 0.8) -> OutcomeWindow:
    """Return a window of 30 s on the fake clock."""
    return OutcomeWindow(BreakerPolicy(failures=failures, window=30.0, ratio=ratio), clock)


def test_consecutive_failures_trip_it(clock: FakeClock) -> None:
    """The third failure in a row, with no answered call between them, trips the circuit."""
    outcomes = window(clock)
    assert [outcomes.down() for _ in range(3)] == [False, False, True]


def test_an_answered_call_between_failures_does_not_trip_it(clock: FakeClock) -> None:
    """One command's failures interleaved with other calls' successes never trip it."""
    outcomes = window(clock)
    tripped = []
    for _ in range(10):
        tripped.append(outcomes.down())
        outcomes.up()
    assert not any(tripped)
    assert outcomes.ratio() == 0.5


def test_a_high_failure_ratio_over_the_window_trips_it(clock: FakeClock) -> None:
    """With 2 x failures calls in the window, a failure share at the ratio trips it."""
    outcomes = window(clock, failures=3, ratio=0.6)
    tripped = []
    for _ in range(3):
        tripped += [outcomes.down(), outcomes.down()]
        outcomes.up()
    assert tripped == [False, False, False, False, True, True]  # never 3 in a row
    assert outcomes.consecutive == 0


def test_outcomes_older_than_the_window_are_forgotten(clock: FakeClock) -> None:
    """Failures of more than 30 s ago no longer count towards the ratio."""
    outcomes = window(clock)
    for _ in range(5):
        outcomes.down()
        outcomes.up()
    clock.advance(31)
    outcomes.up()
    assert outcomes.ratio() == 0.0


def test_up_since_says_whether_another_call_was_answered_meanwhile(clock: FakeClock) -> None:
    """A command failing since t is not alone when some call was answered at or after t."""
    outcomes = window(clock)
    first_failure = clock()
    assert not outcomes.up_since(first_failure)
    clock.advance(1)
    outcomes.up()
    assert outcomes.up_since(first_failure)
    assert not outcomes.up_since(clock() + 1)
