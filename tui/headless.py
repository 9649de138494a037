"""Rich rendering of core events for `sagewiz run` and friends: live progress plus streamed logs."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.prompt import Confirm
from rich.table import Table

from core import events
from core.steps import get

LEVEL_STYLE = {"warn": "yellow", "error": "red", "debug": "dim"}
# Each step status as an icon and a Rich style, in the headless tables and the wizard's step list alike.
STATUS_ICONS = {"pending": ("·", "dim"), "running": ("▶", "bold cyan"), "done": ("✔", "green"),
                "failed": ("✘", "bold red"), "stale": ("↻", "yellow"), "skipped": ("–", "dim")}


class HeadlessRenderer:
    """Subscribes to the bus; prints log lines above a live progress bar, one task per running step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[label]}"), TimeElapsedColumn(), console=console,
                                 transient=True)
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "HeadlessRenderer":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.StepStarted):
            self._tasks[event.step] = self.progress.add_task(get(event.step).title, total=None, label="")
            self.console.print(f"[bold]▶ {escape(get(event.step).title)}[/] [dim]({event.step})[/]")
        elif isinstance(event, events.LogLine):
            style = LEVEL_STYLE.get(event.level, "")
            text = f"  [dim]{escape(event.source)}:[/] {escape(event.text)}"
            self.console.print(f"[{style}]{text}[/]" if style else text, highlight=False, soft_wrap=True)
        elif isinstance(event, events.Progress) and event.step in self._tasks:
            self.progress.update(self._tasks[event.step], completed=event.current, total=event.total,
                                 label=event.label)
        elif isinstance(event, events.ResourceChanged):
            self.console.print(f"  [magenta]{event.action}[/] {escape(event.kind)} {escape(event.id)}")
        elif isinstance(event, (events.StepFinished, events.StepFailed)):
            task = self._tasks.pop(event.step, None)
            if task is not None:
                self.progress.remove_task(task)
            if isinstance(event, events.StepFailed):
                self.console.print(f"[red]✘ {escape(get(event.step).title)} failed after {event.duration:.1f}s:[/] "
                                   f"{escape(event.error)}")
            else:
                self.console.print(f"[green]✔ {escape(get(event.step).title)}[/] [dim]{event.duration:.1f}s[/]")


def make_confirm(console: Console, assume_yes: bool):
    """Headless confirmation: --yes says yes; a terminal is asked; anything else is a no that says why."""

    def confirm(question: str, details: str) -> bool:
        if details:
            console.print(details, highlight=False)
        if assume_yes:
            console.print(f"{escape(question)} [bold]yes[/] (--yes)")
            return True
        if sys.stdin.isatty():
            return Confirm.ask(question, console=console)
        console.print(f"[yellow]{escape(question)} No terminal to ask: pass --yes to agree.[/]")
        return False

    return confirm


def status_table(rows: list[dict], resume: str | None) -> Table:
    table = Table(title="sagewiz steps", title_justify="left")
    for column in ("#", "step", "title", "status", "duration", "note"):
        table.add_column(column)
    for number, row in enumerate(rows, 1):
        status = row["status"]
        icon, style = STATUS_ICONS[status]
        duration = f"{row['duration']:.1f}s" if row.get("duration") is not None else ""
        marker = " ◀ next" if row["id"] == resume else ""
        note = row.get("error") or ""
        table.add_row(str(number), row["id"], row["title"],
                      f"[{style}]{icon} {status}[/]{marker}", duration,
                      escape(note[:120]))
    return table
