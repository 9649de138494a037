"""How a step's status and duration look, the same in the headless tables and the wizard's step list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.runtime.state import StepStatus

if TYPE_CHECKING:
    from core.runtime.checks import CheckStatus

# Each step status as an icon and a Rich style.
STATUS_ICONS: dict[StepStatus, tuple[str, str]] = {
    "pending": ("·", "dim"), "running": ("▶", "bold cyan"), "done": ("✔", "green"),
    "failed": ("✘", "bold red"), "stale": ("↻", "yellow"), "skipped": ("–", "dim"),
}
# Each check status as a Rich style (doctor, preflight).
CHECK_STYLES: dict[CheckStatus, str] = {"ok": "green", "warn": "yellow", "fail": "red"}


def icon(status: StepStatus) -> str:
    """The status's icon alone, for lines that style it themselves (✔ done, ✘ failed)."""
    return STATUS_ICONS[status][0]


def format_duration(seconds: float | None) -> str:
    """1.2s under a minute, 3m07s above; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"
