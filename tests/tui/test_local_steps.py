"""End to end through the wizard with the real local steps: environment, preflight, tracking, train, model."""

from __future__ import annotations

import pytest
from rich.console import Console

from core.runtime.ports import any_free
from tests.tui.conftest import wait_until
from tui.components.results import ResultsPanel

pytestmark = [pytest.mark.tui, pytest.mark.slow, pytest.mark.anyio]
LOCAL = ("environment", "preflight", "tracking", "train", "model")


async def test_environment_to_model_through_the_wizard(project_dir):
    from core.runtime.project import Project
    from tui.app import WizardApp

    project = Project(project_dir, overrides={"tracking.port": any_free()}).open()
    try:
        app = WizardApp(project)
        async with app.run_test(size=(120, 40)) as pilot:
            for step_id in LOCAL:
                assert app.selected == step_id
                await pilot.press("r")
                await wait_until(pilot, lambda step_id=step_id: app.running_step is None and not app._step_worker_busy()
                                 and project.state.status(step_id) not in ("pending", "running"),
                                 timeout=300, what=f"the {step_id} step")
                await pilot.pause()
                record = project.state.record(step_id)
                assert record["status"] == "done", f"{step_id}: {record['error']}"
                assert "done" in str(app.query_one("#banner").render())
                if step_id != LOCAL[-1]:
                    await pilot.press("n")
            console = Console(width=120, record=True)
            console.print(app.query_one(ResultsPanel).content)  # the model step's results panel
            assert project.state.outputs("train")["run_id"] in console.export_text()
            header = str(app.query_one("#header").render())
            assert project.state.outputs("tracking")["ui_url"] in header and "not started" not in header
    finally:
        project.close()
