"""Progress bars and human text on stderr (stdout stays free for ``--json`` results)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

_console: Console | None = None


def stderr_console() -> Console:
    """The shared rich Console on stderr (created on first use)."""
    global _console
    if _console is None:
        _console = Console(stderr=True)
    return _console


class RateColumn(ProgressColumn):
    """Items per second, or seconds per item when slower than one a second: the average since the
    task began (from its `initial` field on, for a resumed count), so the bar agrees with the
    totals a command prints at the end rather than with the last few items."""

    def __init__(self, unit: str = "it") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        done = task.completed - task.fields.get("initial", 0)
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = done / elapsed if elapsed and done > 0 else None
        if not speed:
            return Text(f"? {self.unit}/s", style="progress.data.speed")
        if speed >= 1:
            return Text(f"{speed:.1f} {self.unit}/s", style="progress.data.speed")
        return Text(f"{1 / speed:.1f} s/{self.unit}", style="progress.data.speed")


class _Progress(Progress):
    def stop(self) -> None:
        if self.tasks or self.disable:
            super().stop()
            return
        # Nothing was tracked (e.g. the input was refused first): leave no blank line behind.
        self.live.transient = True
        self.live.stop()


RESERVED_COLUMNS = 44   # what M/N, rate, elapsed and remaining take on one line, with the gaps
DESCRIPTION_ROOM = 32   # the description gets up to this much before the bar grows past 6


def make_progress(*, quiet: bool = False, transient: bool = False, unit: str = "it") -> Progress:
    """A rich Progress on stderr: description, bar, M/N, rate, elapsed, remaining, on one line of
    the terminal's width (a long description is cut with an ellipsis rather than wrapped).

    With ``quiet`` it renders nothing but still accepts every call (``disable=True``).
    Use it as a context manager: ``with make_progress() as p: t = p.add_task("x", total=n)``.
    """
    from rich.table import Column

    width = stderr_console().width
    bar = max(6, min(40, width - RESERVED_COLUMNS - DESCRIPTION_ROOM))
    return _Progress(
        TextColumn("{task.description}", table_column=Column(
            no_wrap=True, overflow="ellipsis", max_width=max(10, width - RESERVED_COLUMNS - bar))),
        BarColumn(bar_width=bar),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        disable=quiet,
        transient=transient,
    )
