"""The top bar: project, SANDBOX/AWS badge, identity and region once known, and the MLflow UI address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from core.aws.clients import InUse


class WizardHeader(Static):
    """Re-rendered from project state whenever a step finishes or a setting is saved."""

    def show(self, project_name: str, sandbox: bool, in_use: InUse | None, mlflow_url: str, mlflow_live: bool) -> None:
        """`in_use`: None while it is being looked up (just after start)."""
        badge = (" SANDBOX ", "bold black on yellow") if sandbox else (" AWS ", "bold black on dark_cyan")
        text = Text.assemble(("sagewiz ", "bold"), badge, "  project ", (project_name, "bold"))
        if in_use is None:
            text.append("  AWS credentials: looking up…", style="dim")
        elif in_use.source is None:
            text.append("  AWS: no usable credentials (k stores a key pair)", style="bold red")
            text.append(f"  region {in_use.region}")
        else:
            text.append("  account ")
            text.append(in_use.account or "not checked yet", style="bold" if in_use.account else "dim")
            text.append(f" ({in_use.source})  region ")
            text.append(in_use.region, style="bold")
        text.append("\nMLflow UI ")
        text.append(mlflow_url, style="bold underline" if mlflow_live else "dim")
        if not mlflow_live:
            text.append(" (not started: run the tracking step)", style="dim")
        text.append("  press m to open it", style="dim")
        self.update(text)
