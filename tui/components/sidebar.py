"""The step list: steps grouped Local / Container / AWS, each with a status icon and duration."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from core.steps import STEPS
from tui.marks import STATUS_ICONS, format_duration

if TYPE_CHECKING:
    from core.runtime.state import StepStatus

GROUPS = ("Local", "Container", "AWS")


class StepList(OptionList):
    """Highlighting a step selects it; the app feeds it each step's record."""

    def __init__(self, **kwargs: Any) -> None:
        options: list[Option | None] = []
        for group in GROUPS:
            if options:
                options.append(None)
            options.append(Option(Text(group.upper(), style="bold"), id=f"group-{group}", disabled=True))
            options.extend(Option(self._prompt(step.title, "pending", None), id=step.id)
                           for step in STEPS if step.group == group)
        super().__init__(*options, **kwargs)
        self.border_title = "Steps"
        self._titles = {step.id: step.title for step in STEPS}

    @staticmethod
    def _prompt(title: str, status: StepStatus, duration: float | None) -> Text:
        icon, style = STATUS_ICONS.get(status, STATUS_ICONS["pending"])
        text = Text.assemble((f" {icon} ", style), title, no_wrap=True, overflow="ellipsis")
        when = format_duration(duration)
        if when:
            text.append(f" {when}", style="dim")
        return text

    def show_record(self, step_id: str, record: dict[str, Any]) -> None:
        duration = record.get("duration")
        if record.get("status") == "running" and record.get("started_at"):
            duration = time.time() - record["started_at"]
        self.replace_option_prompt(step_id, self._prompt(self._titles[step_id], record.get("status", "pending"),
                                                         duration))

    def select_step(self, step_id: str) -> None:
        self.highlighted = self.get_option_index(step_id)
