"""Rich rendering of core events for `sagewiz run` and friends: live progress plus streamed logs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.prompt import Confirm as ConfirmPrompt
from rich.table import Table

from core.runtime import events
from core.runtime.state import StepStatus
from core.runtime.step import Confirm
from core.steps import STEPS
from tui.marks import STATUS_ICONS, format_duration, icon
from tui.render import render_results

LEVEL_STYLE = {"warn": "yellow", "error": "red", "debug": "dim"}


class HeadlessRenderer:
    """Subscribes to the bus; prints log lines above a live progress bar, one task per running step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[label]}"), TimeElapsedColumn(), console=console,
                                 transient=True)
        self._tasks: dict[str, TaskID] = {}
        # How each core event type is shown: one method per type, looked up by the event's type.
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            events.StepStarted: self._started,
            events.LogLine: self._log_line,
            events.Progress: self._progress,
            events.ResourceChanged: self._resource_changed,
            events.StepFinished: self._finished,
            events.StepFailed: self._failed,
        }

    def __enter__(self) -> HeadlessRenderer:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: events.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _started(self, event: events.StepStarted) -> None:
        title = STEPS.get(event.step).title
        self._tasks[event.step] = self.progress.add_task(title, total=None, label="")
        self.console.print(f"[bold]{icon('running')} {escape(title)}[/] [dim]({event.step})[/]")

    def _log_line(self, event: events.LogLine) -> None:
        style = LEVEL_STYLE.get(event.level, "")
        text = f"  [dim]{escape(event.source)}:[/] {escape(event.text)}"
        self.console.print(f"[{style}]{text}[/]" if style else text, highlight=False, soft_wrap=True)

    def _progress(self, event: events.Progress) -> None:
        if event.step in self._tasks:
            self.progress.update(self._tasks[event.step], completed=event.current, total=event.total,
                                 label=event.label)

    def _resource_changed(self, event: events.ResourceChanged) -> None:
        self.console.print(f"  [magenta]{event.action}[/] {escape(event.kind)} {escape(event.id)}")

    def _end_task(self, step: str) -> None:
        task = self._tasks.pop(step, None)
        if task is not None:
            self.progress.remove_task(task)

    def _failed(self, event: events.StepFailed) -> None:
        self._end_task(event.step)
        title = escape(STEPS.get(event.step).title)
        self.console.print(f"[red]{icon('failed')} {title} failed after {format_duration(event.duration)}:[/] "
                           f"{escape(event.error)}")

    def _finished(self, event: events.StepFinished) -> None:
        self._end_task(event.step)
        title = escape(STEPS.get(event.step).title)
        self.console.print(f"[green]{icon('done')} {title}[/] [dim]{format_duration(event.duration)}[/]")
        results = STEPS.results(event.step, event.outputs)
        if results:
            self.console.print(Padding(render_results(results), (0, 0, 0, 2)))


def make_confirm(console: Console, assume_yes: bool) -> Confirm:
    """Headless confirmation: --yes says yes; a terminal is asked; anything else is a no that says why."""

    def confirm(question: str, details: str) -> bool:
        if details:
            console.print(details, highlight=False)
        if assume_yes:
            console.print(f"{escape(question)} [bold]yes[/] (--yes)")
            return True
        if sys.stdin.isatty():
            return ConfirmPrompt.ask(question, console=console)
        console.print(f"[yellow]{escape(question)} No terminal to ask: pass --yes to agree.[/]")
        return False

    return confirm


def status_table(rows: list[dict[str, Any]], resume: str | None) -> Table:
    table = Table(title="sagewiz steps", title_justify="left")
    for column in ("#", "step", "title", "status", "duration", "note"):
        table.add_column(column)
    for number, row in enumerate(rows, 1):
        status: StepStatus = row["status"]
        icon, style = STATUS_ICONS[status]
        duration = format_duration(row.get("duration"))
        marker = " ◀ next" if row["id"] == resume else ""
        note = row.get("error") or ""
        table.add_row(str(number), row["id"], row["title"],
                      f"[{style}]{icon} {status}[/]{marker}", duration,
                      escape(note[:120]))
    return table
