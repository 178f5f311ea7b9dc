"""The rows of the reliability summary table, filled by the scenarios and printed at the end."""

from __future__ import annotations

from dataclasses import dataclass

from tests.reliability.ledger import Account
from tests.reliability.load import Load


@dataclass(frozen=True)
class Row:
    """One scenario's figures."""

    scenario: str
    seconds: float
    posted: int
    held: float
    faults: str
    bad_inputs: int
    lost: int | None
    duplicated: int | None
    notes: str = ""


ROWS: list[Row] = []
HEADER = ("scenario", "s", "posted", "held/s", "faults injected", "bad", "lost", "dup", "notes")


def record(
    scenario: str,
    seconds: float,
    load: Load | None,
    result: Account | None,
    faults: str,
    bad_inputs: int = 0,
    duplicated: int | None = None,
    notes: str = "",
) -> Row:
    """Add a row for the scenario and return it."""
    row = Row(
        scenario=scenario,
        seconds=seconds,
        posted=len(load.answers) if load else 0,
        held=load.held() if load else 0.0,
        faults=faults,
        bad_inputs=bad_inputs,
        lost=result.lost if result else 0,
        duplicated=len(result.sent_twice) if duplicated is None and result else duplicated or 0,
        notes=notes,
    )
    ROWS.append(row)
    return row


def failed(scenario: str, error: BaseException) -> Row:
    """Add a row for a scenario that ended before recording its figures."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    diagnosis = next((line for line in lines if line.startswith("diagnosis:")), "")
    row = Row(scenario, 0.0, 0, 0.0, "", 0, None, None, f"FAILED: {lines[0][:120]} {diagnosis}")
    ROWS.append(row)
    return row


def table(rows: list[Row]) -> list[str]:
    """Return the rows as aligned text lines under the header."""
    cells = [HEADER] + [
        (
            r.scenario,
            f"{r.seconds:.0f}",
            str(r.posted),
            f"{r.held:.0f}",
            r.faults,
            str(r.bad_inputs),
            "?" if r.lost is None else str(r.lost),
            "?" if r.duplicated is None else str(r.duplicated),
            r.notes,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
