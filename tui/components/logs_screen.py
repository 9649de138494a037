"""Past step runs (when, step, status, duration); Enter opens a run's full log from disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.runtime.runlog import list_runs
from tui.marks import format_duration


class LogsScreen(Screen[None]):
    """Newest run first; refreshed each time the screen is shown."""

    BINDINGS = [Binding("escape,l", "app.pop_screen", "Back"), Binding("enter", "open", "Open log"),
                Binding("r", "reload", "Reload")]

    def __init__(self, logs_dir: Path) -> None:
        super().__init__()
        self.logs_dir = logs_dir
        self.runs: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(f"Step runs — full logs in {self.logs_dir.parent.name}/{self.logs_dir.name}  "
                     "(Enter opens one, Escape goes back)", classes="screen-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("when", "step", "status", "duration", "log file")
        self.action_reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.runs = list(reversed(list_runs(self.logs_dir)))
        for run in self.runs:
            when = dt.datetime.fromtimestamp(run["started_at"]).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(when, run["step"], run.get("status", ""), format_duration(run.get("duration")),
                          run["log"], key=run["id"])
        if not self.runs:
            self.notify("No step has run yet in this project.")

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.runs and table.cursor_row is not None and table.cursor_row < len(self.runs):
            self._open(self.runs[table.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        run = next((r for r in self.runs if r["id"] == event.row_key.value), None)
        if run is not None:
            self._open(run)

    def _open(self, run: dict[str, Any]) -> None:
        from tui.components.log_viewer import LogViewerScreen

        path = self.logs_dir / run["log"]
        if not path.exists():
            self.notify(f"The log file {path} is gone.", severity="error")
            return
        self.app.push_screen(LogViewerScreen(path, follow=run.get("status") == "running"))
