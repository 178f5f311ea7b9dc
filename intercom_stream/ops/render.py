"""Output of the operations commands: rich tables and progress bars on a terminal, plain lines
otherwise (one JSON object per line with --json), so scripts and logs read them too."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

PLAIN_EVERY_SECONDS = 1.0


def plain(console: Console, line: str) -> None:
    """Write one line as is: no markup, highlighting, wrapping or tab expansion."""
    console.file.write(line + "\n")
    console.file.flush()


def text(value: Any) -> str:
    """Return a cell's text ('-' for nothing)."""
    return "-" if value is None or value == "" else str(value)


def rows(
    console: Console, records: Iterable[Mapping[str, Any]], columns: list[str], as_json: bool
) -> None:
    """Print records as JSON lines, a rich table on a terminal, or tab-separated lines."""
    records = list(records)
    if as_json:
        for record in records:
            plain(console, orjson.dumps(record, default=str).decode())
    elif console.is_terminal:
        table = Table(*columns, header_style="bold")
        for record in records:
            table.add_row(*(text(record.get(c)) for c in columns))
        console.print(table)
    else:
        plain(console, "\t".join(columns))
        for record in records:
            plain(console, "\t".join(text(record.get(c)) for c in columns))


def fields(console: Console, title: str, values: Mapping[str, Any]) -> None:
    """Print one record's fields as aligned `name: value` lines under a title."""
    plain(console, title)
    width = max((len(name) for name in values), default=0)
    for name, value in values.items():
        plain(console, f"  {name.ljust(width)}  {text(value)}")


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        """Return the task's current speed."""
        return Text(f"{task.speed or 0:.1f}/s")


class Progress:
    """Counts work done: a rich bar on a terminal, else a plain line at most once a second."""

    def __init__(
        self,
        console: Console,
        description: str,
        total: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the display; nothing is shown until the context is entered."""
        self.console, self.description, self.total, self.clock = console, description, total, clock
        self.done = 0
        self.started = self.last_line = clock()
        self.bar: RichProgress | None = None
        self.task: Any = None

    def __enter__(self) -> Progress:
        """Start the bar on a terminal."""
        if self.console.is_terminal:
            self.bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TaskProgressColumn(), RateColumn(), TimeRemainingColumn(),
                console=self.console,
            )  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=self.total)
        return self

    def advance(self, count: int = 1) -> None:
        """Count finished items and show them."""
        self.done += count
        if self.bar is not None:
            self.bar.update(self.task, advance=count)
        elif self.clock() - self.last_line >= PLAIN_EVERY_SECONDS:
            self.last_line = self.clock()
            plain(self.console, self.line())

    def line(self) -> str:
        """Return the plain progress line: count, total, rate."""
        elapsed = max(self.clock() - self.started, 1e-9)
        total = f"/{self.total}" if self.total is not None else ""
        return f"{self.description}: {self.done}{total} ({self.done / elapsed:.1f}/s)"

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the bar; without a terminal, print the final count line."""
        if self.bar is not None:
            self.bar.stop()
        else:
            plain(self.console, self.line())
