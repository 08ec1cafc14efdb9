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
    """Items per second, or seconds per item when slower than one a second."""

    def __init__(self, unit: str = "it") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
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


def make_progress(*, quiet: bool = False, transient: bool = False, unit: str = "it") -> Progress:
    """A rich Progress on stderr: description, bar, M/N, rate, elapsed, remaining.

    With ``quiet`` it renders nothing but still accepts every call (``disable=True``).
    Use it as a context manager: ``with make_progress() as p: t = p.add_task("x", total=n)``.
    """
    return _Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        disable=quiet,
        transient=transient,
    )
