"""Pilot tests of the wizard over the real engine, state, run logs and subprocesses."""

from __future__ import annotations

import os
import time

import pytest
from textual.widgets import Log

from core.steps import STEPS
from tests.plugins.outputs import outputs_of
from tests.tui.conftest import ChattyStep, SleeperStep, wait_until
from tui.components.confirm import ConfirmScreen
from tui.components.header import WizardHeader
from tui.components.sidebar import StepList

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


def prompt(app, step_id: str) -> str:
    sidebar = app.query_one(StepList)
    return str(sidebar.get_option(step_id).prompt)


def banner(app) -> str:
    return str(app.query_one("#banner").render())


async def test_fresh_project_selects_the_first_step(wizard):
    async with wizard.run_test(size=(120, 40)) as pilot:
        assert wizard.selected == "environment"
        assert "Welcome" in banner(wizard)
        await pilot.press("n", "n")
        assert wizard.selected == "tracking"
        await pilot.press("p")
        assert wizard.selected == "preflight"


async def test_a_step_whose_inputs_never_ran_is_refused_with_the_step_to_run_first(wizard):
    async with wizard.run_test(size=(120, 40)) as pilot:
        await wizard.select_step("model")
        await pilot.press("r")
        await wizard.workers.wait_for_complete()
        await wait_until(pilot, lambda: wizard.running_step is None and
                         wizard.project.state.status("model") == "failed", what="the step to be refused")
        await pilot.pause()
        assert "✘" in prompt(wizard, "model")
        refusal = "reads the results of the tracking step, which has not run yet. Run it first"
        assert refusal in banner(wizard)
        assert refusal in str(wizard.query_one("#step-error").render())


async def test_restart_shows_statuses_and_resumes_at_the_first_unfinished_step(project):
    from tui.app import WizardApp

    state = project.state
    state.update_record("environment", status="done", duration=0.4)
    state.update_record("preflight", status="done", duration=2.5)
    state.update_record("tracking", status="stale",
                        error="The environment step's outputs changed; run this step again.")
    state.update_record("train", status="failed", error="Training failed.")
    app = WizardApp(project)
    async with app.run_test(size=(120, 40)):
        assert app.selected == "tracking"
        assert "Resuming at MLflow tracking server: this step is stale" in banner(app)
        assert "✔" in prompt(app, "environment") and "0.4s" in prompt(app, "environment")
        assert "↻" in prompt(app, "tracking")
        assert "✘" in prompt(app, "train")
        assert "·" in prompt(app, "model")


async def test_interrupted_run_is_failed_on_restart(project_dir):
    """A wizard killed mid-step leaves `running` in state; the next start shows it failed and selects it."""
    from core.runtime.project import Project
    from tui.app import WizardApp

    first = Project(project_dir).open()
    first.state.update_record("environment", status="done")
    first.state.update_record("preflight", status="running", started_at=time.time())
    first.lock.release()  # the process "died" without closing
    project = Project(project_dir).open()
    try:
        app = WizardApp(project)
        async with app.run_test(size=(120, 40)):
            assert app.selected == "preflight"
            assert "✘" in prompt(app, "preflight")
            assert "Interrupted" in str(app.query_one("#step-error").render())
    finally:
        project.close()


async def test_cancel_asks_then_stops_the_subprocess(wizard, swap_step):
    swap_step(SleeperStep())
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        buffer = lambda: list(wizard._buffers.get("environment", []))  # noqa: E731
        await wait_until(pilot, lambda: any("pid" in line for line in buffer()), what="the child's pid")
        pid = int(next(line for line in buffer() if "pid" in line).split()[-1])
        await pilot.press("x")
        assert isinstance(wizard.screen, ConfirmScreen)
        await pilot.press("n")  # keep running
        assert wizard.running_step == "environment"
        await pilot.press("x", "y")
        await wizard.workers.wait_for_complete()
        await wait_until(pilot, lambda: wizard.running_step is None, what="the step to stop")
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        record = wizard.project.state.record("environment")
        assert record["status"] == "failed" and record["error"].startswith("Cancelled")


async def test_quit_while_a_step_runs_asks_first(wizard, swap_step):
    swap_step(SleeperStep())
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: wizard.running_step == "environment", what="the step to start")
        await pilot.press("q")
        assert isinstance(wizard.screen, ConfirmScreen)
        await pilot.press("n")
        assert wizard.is_running and wizard.running_step == "environment"
        await pilot.press("q", "y")
        await wizard.workers.wait_for_complete()
        await wait_until(pilot, lambda: not wizard.is_running, what="the app to exit")
    assert wizard.project.state.status("environment") == "failed"


async def test_log_lines_are_batched_bounded_and_all_on_disk(wizard, swap_step, monkeypatch):
    step = swap_step(ChattyStep())
    calls = []
    original = Log.write_lines

    def counting(self, lines, scroll_end=None):
        lines = list(lines)
        calls.append(len(lines))
        return original(self, lines, scroll_end)

    monkeypatch.setattr(Log, "write_lines", counting)
    async with wizard.run_test(size=(120, 40)) as pilot:
        log = wizard.query_one("#log", Log)
        await pilot.press("r")
        await wizard.workers.wait_for_complete()
        await wait_until(pilot, lambda: wizard.running_step is None, what="the step to finish")
        await pilot.pause()
        assert len(calls) < step.lines / 20  # batches, never one call per line
        assert max(calls) <= log.max_lines and log.line_count <= log.max_lines
        assert log.lines[-2].endswith(f"line {step.lines - 1}") and log.lines[-1].endswith("Environment done")
    record = wizard.project.state.record("environment")
    text = (wizard.project.logs_dir / record["log"]).read_text()
    assert f"line {step.lines - 1}\n" in text and text.count("[sagewiz] line ") == step.lines


async def test_log_panel_stays_put_when_the_user_scrolled_up(wizard, swap_step):
    swap_step(ChattyStep())
    async with wizard.run_test(size=(120, 40)) as pilot:
        log = wizard.query_one("#log", Log)
        log.write_lines([f"old {i}" for i in range(100)])
        await pilot.pause()
        log.scroll_to(y=5, animate=False, immediate=True)
        for event in [f"new {i}" for i in range(50)]:
            wizard.bridge(__import__("core.runtime.events", fromlist=["LogLine"]).LogLine("environment", event))
        await pilot.pause(0.2)
        assert log.scroll_y == 5 and log.lines[-1].endswith("new 49")
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        wizard.bridge(__import__("core.runtime.events", fromlist=["LogLine"]).LogLine("environment", "newest"))
        await pilot.pause(0.2)
        assert log.is_vertical_scroll_end


async def test_step_confirmation_blocks_the_worker_until_answered(wizard):
    async with wizard.run_test(size=(120, 40)) as pilot:
        worker = wizard.run_worker(lambda: wizard.confirm_from_worker(
            "Deploy the endpoint?", "ml.m5.large costs about $0.115 per hour while it runs."), thread=True)
        await wait_until(pilot, lambda: isinstance(wizard.screen, ConfirmScreen), what="the dialog")
        assert "$0.115 per hour" in str(wizard.screen.query_one("#confirm-details Static").render())
        assert not worker.is_finished
        await pilot.press("y")
        await worker.wait()
        assert worker.result is True


async def test_command_palette_lists_every_step_and_action(wizard):
    async with wizard.run_test(size=(120, 40)):
        titles = [c.title for c in wizard.get_system_commands(wizard.screen)]
    for step in STEPS:
        assert f"Go to {step.title}" in titles and f"Run {step.title}" in titles
    for action in ("Step logs", "Clean up AWS resources", "Cancel the running step", "Open the MLflow UI",
                   "Store AWS keys"):
        assert action in titles


async def test_mlflow_url_is_shown_from_the_tracking_outputs(project):
    from tui.app import WizardApp

    project.state.update_record("tracking", status="done", outputs=outputs_of(
        "tracking", ui_url="http://127.0.0.1:5123", tracking_uri="http://127.0.0.1:5123", managed=True))
    app = WizardApp(project)
    async with app.run_test(size=(120, 40)):
        header = str(app.query_one("#header").render())
        assert "http://127.0.0.1:5123" in header and "not started" not in header


async def test_the_header_shows_the_account_credentials_and_region_in_use(project_dir):
    from core.aws.clients import SANDBOX_KEY_ID
    from core.runtime.project import Project
    from tui.app import WizardApp

    project = Project(project_dir, overrides={"sandbox.enabled": True, "aws.region": "eu-west-1"}).open()
    project.state.update_record("credentials", status="done", outputs=outputs_of(
        "credentials", arn="arn:aws:iam::123456789012:user/alice", account="123456789012", region="eu-west-1",
        source="sandbox", key_id_last4=SANDBOX_KEY_ID[-4:]))
    try:
        app = WizardApp(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.in_use is not None, what="the credentials in use")
            await pilot.pause()
            header = " ".join(str(app.query_one("#header").render()).split())
            assert "SANDBOX" in header and "account 123456789012 (sandbox) region eu-west-1" in header
        # The credentials step last checked other credentials: their account is not claimed for these.
        project.state.update_record("credentials", outputs=outputs_of(
            "credentials", account="999999999999", source="profile:dev"))
        app = WizardApp(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.in_use is not None, what="the credentials in use")
            await pilot.pause()
            header = " ".join(str(app.query_one("#header").render()).split())
            assert "account not checked yet (sandbox)" in header and "999999999999" not in header
    finally:
        project.close()


async def test_quitting_with_a_live_endpoint_says_what_it_costs_and_how_to_delete_it(project):
    from tui.app import WizardApp

    project.state.upsert_resource("sagemaker_endpoint", "sagewiz-iris", status="created", region="us-east-1",
                                  sandbox=False, instance_type="ml.m5.large", instance_count=1)
    app = WizardApp(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        said = app.screen.details
        assert "endpoint sagewiz-iris in us-east-1 (1 x ml.m5.large) is still live" in said
        assert "per hour" in said and "Delete it with: sagewiz cleanup" in said
        await pilot.press("n")
        assert app.is_running and "Press c to clean up" in banner(app)
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running, what="the app to exit")


async def test_quitting_with_nothing_live_does_not_ask(wizard):
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await wait_until(pilot, lambda: not wizard.is_running, what="the app to exit")


def test_sidebar_groups_local_container_aws():
    sidebar = StepList()
    ids = [sidebar.get_option_at_index(i).id for i in range(sidebar.option_count)]
    assert ids == ["group-Local", "environment", "preflight", "tracking", "train", "model",
                   "group-Container", "image", "smoke", "push",
                   "group-AWS", "credentials", "iam", "deploy", "predict", "cleanup"]


async def test_no_aws_account_opens_in_the_sandbox_and_says_so(project, monkeypatch, tmp_path):
    from core.aws.clients import decide_sandbox
    from tui.app import WizardApp

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    app = WizardApp(project, notice=decide_sandbox(project))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert project.sandbox
        assert "SANDBOX" in str(app.query_one("#header").render())
        assert any("No AWS account is configured" in str(n.message) for n in app._notifications)


async def test_a_setting_saved_in_the_form_updates_the_header_and_the_commands_by_hand(wizard):
    from textual.widgets import Input

    async with wizard.run_test(size=(120, 40)) as pilot:
        await wizard.select_step("tracking")
        wizard.query_one("#field-tracking-port", Input).value = "5077"
        await wait_until(pilot, lambda: "127.0.0.1:5077" in str(wizard.query_one("#step-equivalent").render()),
                         what="the commands by hand to use the new port")
        assert "127.0.0.1:5077" in str(wizard.query_one(WizardHeader).render())


async def test_a_step_pane_names_its_checks_for_people(wizard):
    async with wizard.run_test(size=(120, 40)) as pilot:
        await wizard.select_step("image")
        await pilot.pause()
        shown = str(wizard.query_one("#step-checks").render())
    assert shown == "Checked before it runs: Docker engine."

