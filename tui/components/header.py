"""The top bar: project, SANDBOX/AWS badge, identity and region once known, and the MLflow UI address."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class WizardHeader(Static):
    """Re-rendered from project state whenever a step finishes or a setting is saved."""

    def show(self, project_name: str, sandbox: bool, credentials: dict, region: str, mlflow_url: str,
             mlflow_live: bool) -> None:
        badge = (" SANDBOX ", "bold black on yellow") if sandbox else (" AWS ", "bold black on dark_cyan")
        text = Text.assemble(("sagewiz ", "bold"), badge, "  project ", (project_name, "bold"))
        who = credentials.get("arn") or (f"account {credentials['account']}" if credentials.get("account") else "")
        text.append("  identity ")
        text.append(who or "not known yet", style="bold" if who else "dim")
        text.append("  region ")
        text.append(credentials.get("region") or region, style="bold")
        text.append("\nMLflow UI ")
        text.append(mlflow_url, style="bold underline" if mlflow_live else "dim")
        if not mlflow_live:
            text.append(" (not started: run the tracking step)", style="dim")
        text.append("  press m to open it", style="dim")
        self.update(text)
