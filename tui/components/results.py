"""The results panel: what the selected step made, as its step describes it (core.runtime.results)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from core.steps import STEPS
from tui.render import render_results


class ResultsPanel(Static):
    """Shows the selected step's outputs."""

    def show(self, step_id: str, outputs: dict[str, Any]) -> None:
        self.update(render_results(STEPS.results(step_id, outputs)))
