"""SVG snapshots of every screen at 120x40 (pytest-textual-snapshot); update with --snapshot-update."""

from __future__ import annotations

import time

import pytest

from tests.plugins.outputs import outputs_of
from tests.tui.test_screens import write_run
from tui.components.confirm import ConfirmScreen
from tui.components.secret import SecretScreen

pytestmark = pytest.mark.tui
SIZE = (120, 40)


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def known_aws(monkeypatch):
    """The header's account, credentials and region pinned: the real ones depend on this machine's keyring
    and ~/.aws, and arrive from a worker at a moment no snapshot can wait for."""
    from core.aws.clients import InUse
    from tui.app import WizardApp

    found = InUse("profile:dev", "eu-west-1", "WXYZ", "123456789012", "arn:aws:iam::123456789012:user/dev")
    monkeypatch.setattr(WizardApp, "look_up_in_use", lambda app: app._show_in_use(found))


@pytest.fixture
def resumed(project):
    """A project part-way through: local steps done, train failed, outputs for the results panel."""
    state = project.state
    state.update_record("environment", status="done", duration=0.8, outputs=outputs_of(
        "environment", python_version="3.11.7"))
    state.update_record("preflight", status="done", duration=2.1, outputs=outputs_of("preflight"))
    state.update_record("tracking", status="done", duration=4.6, outputs=outputs_of(
        "tracking", tracking_uri="http://127.0.0.1:5000", ui_url="http://127.0.0.1:5000", managed=True))
    state.update_record("train", status="failed", duration=12.3,
                        error="Training failed: the script exited with status 1. Fix train.py and run the step again.")
    return project


def test_fresh_wizard(snap_compare, wizard):
    assert snap_compare(wizard, terminal_size=SIZE)


def test_resumed_wizard_at_a_failed_step(snap_compare, resumed):
    from tui.app import WizardApp

    assert snap_compare(WizardApp(resumed), terminal_size=SIZE)


def test_results_of_a_done_step(snap_compare, resumed):
    from tui.app import WizardApp

    resumed.state.update_record("train", status="done", error=None, outputs=outputs_of(
        "train", experiment_id="1", run_id="0123456789abcdef0123456789abcdef", model_uri="runs:/0123/model",
        metrics={"mse": 0.0427}, artifacts=["model/MLmodel", "model/conda.yaml", "model/model.pkl"]))
    app = WizardApp(resumed)

    async def show_train(pilot):
        await app.select_step("train")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=show_train)


def test_deploy_cost_confirmation(snap_compare, wizard):
    async def ask(pilot):
        await wizard.push_screen(ConfirmScreen(
            "Create the SageMaker endpoint sagewiz-iris?",
            "1 x ml.m5.large in us-east-1 costs about $0.115 per hour (about $83 per month) until the cleanup "
            "step deletes it."))

    assert snap_compare(wizard, terminal_size=SIZE, run_before=ask)


def test_secret_entry(snap_compare, wizard):
    async def ask(pilot):
        await wizard.push_screen(SecretScreen(
            backend="Stored in your OS keyring (keyring.backends.SecretService.Keyring), service 'sagewiz'."))
        await pilot.press(*"AKIA12")
        wizard.screen.focused.cursor_blink = False  # a blinking cursor makes the picture flaky

    assert snap_compare(wizard, terminal_size=SIZE, run_before=ask)


def test_logs_screen(snap_compare, wizard, utc):
    logs_dir = wizard.project.logs_dir
    write_run(logs_dir, "20231114-221320-000000-environment", "environment", 20, started=1.7e9)
    write_run(logs_dir, "20231114-221420-000000-train", "train", 20, status="failed", started=1.7e9 + 60)
    assert snap_compare(wizard, terminal_size=SIZE, press=["l"])


def test_log_viewer_with_search(snap_compare, wizard, utc):
    write_run(wizard.project.logs_dir, "20231114-221320-000000-train", "train", 200)

    async def search(pilot):
        from textual.widgets import Input

        await pilot.press("l", "enter", "slash", *"line 120 ", "enter")
        wizard.screen.query_one("#search", Input).cursor_blink = False  # a blinking cursor makes the picture flaky
        await pilot.pause(0.3)

    assert snap_compare(wizard, terminal_size=SIZE, run_before=search)


def test_help_panel(snap_compare, wizard):
    assert snap_compare(wizard, terminal_size=SIZE, press=["question_mark"])
