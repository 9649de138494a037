"""A step is one module: a step defined here alone, once registered, shows in every view with no other edit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rich.console import Console

from core.runtime.outputs import StepOutputs
from core.runtime.results import Cell, Line
from core.runtime.step import Shown, Step, StepContext
from core.steps import STEPS
from tests.tui.conftest import wait_until
from tui.cli import main

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


@dataclass(frozen=True)
class AuditOutputs(StepOutputs):
    findings: int
    endpoint: str


class AuditStep(Step):
    """Throwaway: counts findings about the endpoint (nothing real)."""

    id, title, group = "audit", "Audit the endpoint", "AWS"
    explanation = "Looks the endpoint over before anyone calls it."
    manual = "aws sagemaker describe-endpoint --endpoint-name ENDPOINT"
    Outputs = AuditOutputs

    def run(self, ctx: StepContext) -> AuditOutputs:
        ctx.log("audited")
        return AuditOutputs(findings=3, endpoint=ctx.settings["deploy.endpoint"])

    def by_hand(self, v: Shown) -> str:
        return f"aws sagemaker describe-endpoint --endpoint-name {v['endpoint']}  # audit"

    def results(self, outputs: AuditOutputs) -> list:
        return [Line(["findings ", Cell(str(outputs.findings), "warn", strong=True)])]


@pytest.fixture
def audit():
    with STEPS.added(AuditStep(), after="predict") as step:
        yield step


def cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_cli_lists_explains_and_reports_it(audit, project_dir, capsys):
    where = ("--project-dir", str(project_dir))
    assert "Audit the endpoint" in cli(capsys, *where, "steps")
    explained = cli(capsys, *where, "explain", "audit")
    assert "Looks the endpoint over" in explained
    assert "aws sagemaker describe-endpoint --endpoint-name sagewiz-iris  # audit" in explained
    assert main([*where, "run", "--only", "audit"]) == 0
    ran = capsys.readouterr().out
    assert "Audit the endpoint" in ran and "findings 3" in ran
    status = cli(capsys, *where, "status")
    assert "audit" in status and "Audit the endpoint" in status


def test_export_writes_its_commands(audit, project_dir, tmp_path, capsys):
    cli(capsys, "--project-dir", str(project_dir), "export", str(tmp_path / "out"))
    by_hand = (tmp_path / "out" / "BY-HAND.md").read_text()
    assert "## 13. Audit the endpoint (`audit`)" in by_hand
    assert "describe-endpoint --endpoint-name sagewiz-iris  # audit" in by_hand


async def test_the_wizard_shows_it_in_the_sidebar_and_its_pane(audit, project):
    from tui.app import WizardApp

    wizard = WizardApp(project)
    async with wizard.run_test(size=(120, 40)) as pilot:
        titles = [str(option.prompt) for option in wizard.query_one("#steps").options]
        assert any("Audit the endpoint" in title for title in titles)
        await wizard.select_step("audit")
        await pilot.pause()
        assert "Audit the endpoint" in str(wizard.query_one("#step-title").render())
        assert "# audit" in str(wizard.query_one("#step-equivalent").render())
        await pilot.press("r")
        await wait_until(pilot, lambda: project.state.status("audit") == "done", what="the audit step")
        await pilot.pause()
        console = Console(width=120, record=True)
        console.print(wizard.query_one("#results").content)
        assert "findings 3" in console.export_text()
