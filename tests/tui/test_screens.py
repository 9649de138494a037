"""Pilot tests of the settings form, the secret modal (real keyring), results and the log viewer."""

from __future__ import annotations

import json
import time

import pytest
from rich.console import Console
from textual.app import App
from textual.widgets import Input

from core.runtime.settings import load_settings
from core.steps import STEPS
from tests.plugins.aws_fixtures import require_test_keyring
from tests.plugins.outputs import outputs_of
from tests.tui.conftest import wait_until
from tui.components.log_view import LazyLogView
from tui.components.log_viewer import LogViewerScreen
from tui.components.logs_screen import LogsScreen
from tui.components.secret import SecretScreen
from tui.components.settings_form import SettingsForm
from tui.render import render_results

pytestmark = [pytest.mark.tui, pytest.mark.anyio]


class FormApp(App):
    def __init__(self, project, keys) -> None:
        super().__init__()
        self.project, self.keys = project, keys

    def compose(self):
        yield SettingsForm(self.project, self.keys)


async def test_form_validates_inline_and_saves_valid_values(project):
    app = FormApp(project, ("deploy.endpoint", "train.n_estimators"))
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.query_one(SettingsForm)
        endpoint = app.query_one("#field-deploy-endpoint", Input)
        endpoint.value = "-bad-name"
        await pilot.pause()
        assert "deploy.endpoint" in form.errors and endpoint.has_class("-invalid")
        assert "not starting or ending with a hyphen" in str(app.query_one("#field-deploy-endpoint-help").render())
        assert project.settings["deploy.endpoint"] == "sagewiz-iris"
        endpoint.value = "iris-prod"
        trees = app.query_one("#field-train-n-estimators", Input)
        trees.value = "250"
        await pilot.pause()
        assert not form.errors
    assert project.settings["deploy.endpoint"] == "iris-prod" and project.settings["train.n_estimators"] == 250
    on_disk = load_settings(project.root)
    assert on_disk["deploy.endpoint"] == "iris-prod" and on_disk["train.n_estimators"] == 250


async def test_form_does_not_persist_command_line_overrides(project_dir):
    from core.runtime.project import Project

    project = Project(project_dir, overrides={"sandbox.enabled": True}).open()
    try:
        app = FormApp(project, ("deploy.endpoint",))
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#field-deploy-endpoint", Input).value = "other-endpoint"
            await pilot.pause()
        assert load_settings(project_dir)["sandbox.enabled"] is False
    finally:
        project.close()


async def test_secret_modal_stores_the_pair_in_the_os_keyring(wizard):
    from core.aws import keys as aws_keys

    require_test_keyring()  # the session's own keyring, never the user's real key pair
    key_id, secret = "AKIA" + "TESTTUIWIZARD123"[:16], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTUIKEY1234"
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("k")
        screen = wizard.screen
        assert isinstance(screen, SecretScreen)
        await wait_until(pilot, lambda: "OS keyring" in str(screen.query_one("#backend").render()),
                         what="the keyring backend sentence")
        assert "SecretService" in str(screen.query_one("#backend").render())
        key_input, secret_input = screen.query_one("#key-id", Input), screen.query_one("#secret", Input)
        assert key_input.password and secret_input.password
        key_input.value = "AKIA123"
        await pilot.pause()
        assert "20 characters" in str(screen.query_one("#key-id-problem").render())
        key_input.value = key_id
        secret_input.value = secret
        await pilot.pause()
        await pilot.click("#store")
        await wait_until(pilot, lambda: not isinstance(wizard.screen, SecretScreen), what="the key to be stored")
        banner = str(wizard.query_one("#banner").render())
        assert "keyring" in banner and secret not in banner and key_id not in banner
    try:
        assert aws_keys.load() == (key_id, secret)
    finally:
        aws_keys.forget()
    assert _files_holding(wizard.project, key_id, secret) == []


def _files_holding(project, *needles: str) -> list[str]:
    """'path: needle' for each file under the project root holding a needle; fails unless the scan reached the
    wizard's own files (its state directory and the lock it holds while open)."""
    files = [path for path in project.root.rglob("*") if path.is_file() and not path.is_symlink()]
    assert project.dir / "lock" in files, f"the scan of {project.root} missed the wizard's lock: {files}"
    return [f"{path}: {needle[:8]}..." for path in files for needle in needles
            if needle.encode() in path.read_bytes()]


def rendered(step_id: str, outputs: dict) -> str:
    console = Console(width=120, record=True)
    console.print(render_results(STEPS.results(step_id, outputs)))
    return console.export_text()


def test_results_show_run_table_artifact_tree_and_predictions():
    train = rendered("train", outputs_of("train", experiment_id="1", run_id="a" * 32, model_uri="runs:/x/model",
                                         metrics={"mse": 0.0421}, artifacts=["model/MLmodel", "model/model.pkl"]))
    assert "a" * 32 in train and "0.0421" in train and "MLmodel" in train and "model.pkl" in train
    predict = rendered("predict", outputs_of("predict", status="InService", predictions=[1.5, 2.0],
                                             local_predictions=[1.5, 1.0]))
    assert "InService" in predict and "✔" in predict and "✘" in predict
    image = rendered("image", outputs_of("image", tag="sagewiz-model:1", size=250 * 1024 * 1024, image_id="sha256:ab"))
    assert "250.0 MB" in image
    iam = rendered("iam", outputs_of("iam", role_arn="arn:aws:iam::1:role/r", policy_document={"a": 1}))
    assert "role_arn" in iam and '{"a": 1}' in iam
    assert "No results yet" in rendered("deploy", {})
    older = rendered("deploy", {"endpoint_name": "sagewiz-iris"})  # a state file from another version
    assert "do not have the shape" in older and "sagewiz run --only deploy" in older and "sagewiz-iris" in older


def write_run(logs_dir, run_id: str, step: str, lines: int, status: str = "done", started: float = 1.7e9) -> None:
    path = logs_dir / f"{run_id}.log"
    with open(path, "w") as handle:
        for i in range(lines):
            handle.write(f"2024-01-01T00:00:00.000 INFO  [{step}] line {i} of the {step} step\n")
    with open(logs_dir / "index.jsonl", "a") as handle:
        handle.write(json.dumps({"id": run_id, "step": step, "started_at": started, "log": path.name,
                                 "status": status, "finished_at": started + 3.2, "duration": 3.2}) + "\n")


@pytest.mark.slow
async def test_a_million_line_log_opens_at_once_and_search_finds_the_last_line(wizard):
    logs_dir = wizard.project.logs_dir
    write_run(logs_dir, "20240101-000000-000000-train", "train", 1_000_000)
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        assert isinstance(wizard.screen, LogsScreen)
        started = time.monotonic()
        await pilot.press("enter")
        assert isinstance(wizard.screen, LogViewerScreen)
        view = wizard.screen.query_one(LazyLogView)
        await wait_until(pilot, lambda: view.line_count > 0, what="the first lines")
        assert time.monotonic() - started < 3.0  # usable long before the whole file is indexed
        await wait_until(pilot, lambda: view.line_count == 1_000_000, timeout=30, what="the whole index")
        assert "line 0 of the train step" in view.line_text(0)
        await pilot.press("slash")
        await pilot.press(*"line 999999 ", "enter")
        await wait_until(pilot, lambda: view.match_line is not None, what="the search result")
        assert view.match_line == 999_999
        assert view.scroll_offset.y > 999_000
        await pilot.press("escape", "escape")
        assert isinstance(wizard.screen, LogsScreen)


async def test_log_viewer_follows_a_growing_log(wizard):
    logs_dir = wizard.project.logs_dir
    write_run(logs_dir, "20240101-000000-000000-push", "push", 10, status="running")
    async with wizard.run_test(size=(120, 40)) as pilot:
        await pilot.press("l", "enter")
        view = wizard.screen.query_one(LazyLogView)
        assert view.following
        await wait_until(pilot, lambda: view.line_count == 10, what="the first lines")
        with open(logs_dir / "20240101-000000-000000-push.log", "a") as handle:
            handle.writelines(f"appended {i}\n" for i in range(100))
        await wait_until(pilot, lambda: view.line_count == 110, what="the appended lines")
        await pilot.pause(0.1)
        assert view.is_vertical_scroll_end
