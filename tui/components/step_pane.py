"""The main pane for the selected step: what and why, the manual equivalent, settings, Run, results, logs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Log, ProgressBar, Static

from core.runtime.events import Progress
from tui.components.results import ResultsPanel
from tui.components.settings_form import SettingsForm

if TYPE_CHECKING:
    from core.runtime.project import Project
    from core.runtime.state import StepStatus
    from core.runtime.step import Step

LOG_MAX_LINES = 5000


class StepPane(Vertical):
    """Rebuilt in place when another step is selected; the log panel keeps its widget."""

    def compose(self) -> ComposeResult:
        yield Static(id="banner")
        with VerticalScroll(id="details"):
            yield Static(id="step-title")
            yield Static(id="step-explanation")
            yield Static(id="step-equivalent", markup=False)
            yield Static(id="step-checks")
            yield Vertical(id="form-slot")
            with Horizontal(id="actions"):
                yield Button("Run (r)", id="run", variant="success")
                yield Button("Store AWS keys (k)", id="keys")
                yield Button("Cancel (x)", id="cancel", variant="error")
            yield Static(id="step-error")
            yield ResultsPanel(id="results")
        with Horizontal(id="progress-row"):
            yield Label(id="progress-label")
            yield ProgressBar(id="progress", show_eta=False)
        yield Log(max_lines=LOG_MAX_LINES, id="log")

    def on_mount(self) -> None:
        self.query_one("#progress-row").display = False
        self.query_one("#details").border_title = "Step"
        self.query_one("#log", Log).border_title = "Live log"

    async def show_step(self, step: Step, equivalent: str, checks: list[str], project: Project) -> None:
        self.query_one("#step-title", Static).update(
            Text.assemble((step.title, "bold"), (f"  {step.group} · {step.id}", "dim")))
        self.query_one("#step-explanation", Static).update(step.explanation.strip())
        self.show_equivalent(equivalent)
        step_checks = self.query_one("#step-checks", Static)
        step_checks.update(f"Checked before it runs: {', '.join(checks)}." if checks else "")
        step_checks.display = bool(checks)
        self.query_one("#keys", Button).display = "store_keys" in step.actions
        slot = self.query_one("#form-slot", Vertical)
        await slot.remove_children()
        await slot.mount(SettingsForm(project, step.settings, id="form"))
        self.query_one("#progress-row").display = False
        self.query_one("#details", VerticalScroll).scroll_home(animate=False)

    def show_equivalent(self, equivalent: str) -> None:
        self.query_one("#step-equivalent", Static).update("By hand:\n" + equivalent.strip())

    def show_record(self, step_id: str, record: dict[str, Any], running: bool) -> None:
        self.query_one("#run", Button).disabled = running
        self.query_one("#cancel", Button).display = running
        error = self.query_one("#step-error", Static)
        status: StepStatus = record.get("status", "pending")
        if record.get("error") and status in ("failed", "stale"):
            error.update(Text(record["error"], style="bold red" if status == "failed" else "yellow"))
            error.display = True
        else:
            error.display = False
        self.query_one(ResultsPanel).show(step_id, record.get("outputs") or {})

    def show_progress(self, event: Progress, started_at: float | None) -> None:
        row = self.query_one("#progress-row")
        row.display = True
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=event.total, progress=event.current)
        elapsed = f" · {time.time() - started_at:.0f}s elapsed" if started_at else ""
        self.query_one("#progress-label", Label).update(f"{event.label}{elapsed}")

    def hide_progress(self) -> None:
        self.query_one("#progress-row").display = False

    def banner(self, text: str, style: str = "") -> None:
        self.query_one("#banner", Static).update(Text(text, style=style))

    # The live log panel ------------------------------------------------------
    def clear_log(self) -> None:
        self.query_one("#log", Log).clear()

    def write_log_lines(self, lines: Iterable[str]) -> None:
        """Lines at the end of the log panel, in one write however many there are."""
        self.query_one("#log", Log).write_lines(lines)

    def write_log_line(self, line: str) -> None:
        self.query_one("#log", Log).write_line(line)
