"""The headless CLI: exit codes, status --json, logs listing, usage errors as sentences."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def sagewiz(project_dir, *args, input=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-m", "tui.cli", "--project-dir", str(project_dir), *args],
                          capture_output=True, text=True, input=input, env=env, timeout=300)


def test_help_has_examples():
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "sagewiz run --sandbox --yes" in result.stdout and "examples:" in result.stdout


def test_status_json_reflects_state_after_a_run(project_dir):
    run = sagewiz(project_dir, "run", "--only", "environment")
    assert run.returncode == 0, (f"the environment step failed (exit {run.returncode}):\n"
                                 f"{run.stdout[-2000:]}\n{run.stderr[-3000:]}")
    status = json.loads(sagewiz(project_dir, "status", "--json").stdout)
    env_row = next(r for r in status["steps"] if r["id"] == "environment")
    assert env_row["status"] == "done"
    assert [r["id"] for r in status["steps"]][:3] == ["environment", "preflight", "tracking"]
    assert status["resume_at"] == "preflight"
    assert env_row["log"] and (project_dir / ".sagewiz" / "logs" / env_row["log"]).exists()


def test_logs_lists_runs_and_prints_the_latest(project_dir):
    sagewiz(project_dir, "run", "--only", "environment")
    listing = sagewiz(project_dir, "logs")
    assert listing.returncode == 0 and "environment" in listing.stdout
    latest = sagewiz(project_dir, "logs", "environment")
    assert "STEP  started environment" in latest.stdout


@pytest.mark.parametrize("args, fragment", [
    (["run", "--only", "nosuchstep"], "invalid choice"),
    (["run", "--set", "deploy.instance_count=zero"], "deploy.instance_count"),
    (["run", "--set", "novalue"], "KEY=VALUE"),
    (["run", "--from", "push", "--to", "image"], "comes after"),
    (["--region", "mars-central-9", "status"], "aws.region"),
])
def test_usage_errors_exit_2_with_a_sentence(project_dir, args, fragment):
    result = sagewiz(project_dir, *args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    state = project_dir / ".sagewiz" / "state.json"
    assert not state.exists() or json.loads(state.read_text())["steps"] == {}


def test_corrupt_state_exits_2_and_keeps_the_file(project_dir):
    (project_dir / ".sagewiz").mkdir()
    (project_dir / ".sagewiz" / "state.json").write_text("{broken")
    result = sagewiz(project_dir, "status")
    assert result.returncode == 2 and "not readable state" in result.stderr
    assert (project_dir / ".sagewiz" / "state.json").read_text() == "{broken"


def test_failed_step_exits_1(project_dir):
    (project_dir / "sagewiz.toml").write_text('[train]\nscript = "does/not/exist.py"\n')
    result = sagewiz(project_dir, "run", "--only", "train")
    assert result.returncode == 1


@pytest.mark.parametrize("args, asks, stop", [
    (["run", "--sandbox"], "the iam step asks before it creates the IAM execution role",
     "end the run before iam with --to credentials"),
    (["run", "--sandbox", "--from", "push"], "the deploy step asks", "--to push"),
    (["cleanup", "--sandbox"], "the cleanup step asks before it deletes resources", None),
])
def test_without_a_terminal_or_yes_a_run_that_would_ask_is_refused_before_anything_runs(project_dir, args, asks,
                                                                                         stop):
    result = sagewiz(project_dir, *args, input="")  # stdin is a pipe: no terminal to ask
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Nothing was run" in result.stderr and asks in result.stderr and "--yes" in result.stderr
    assert (stop in result.stderr) if stop else ("--to" not in result.stderr)
    state_file = project_dir / ".sagewiz" / "state.json"
    assert not state_file.exists() or json.loads(state_file.read_text())["steps"] == {}


def test_a_live_endpoint_is_named_with_its_hourly_cost_and_the_cleanup_command(project_dir):
    from core.runtime.project import Project

    with Project(project_dir) as project:
        # The ledger alone says what is live: the deploy step may have died before it saved its outputs.
        project.state.upsert_resource("sagemaker_endpoint", "sagewiz-iris", status="created", region="eu-west-1",
                                      sandbox=False, instance_type="ml.m5.large", instance_count=2)
    result = sagewiz(project_dir, "status")
    text = " ".join(result.stdout.split())
    assert "The endpoint sagewiz-iris in eu-west-1 (2 x ml.m5.large) is still live and costs about" in text
    assert "per hour until it is deleted" in text
    assert f"Delete it with: sagewiz cleanup --project-dir {project_dir}" in text
    with Project(project_dir) as project:
        project.state.upsert_resource("sagemaker_endpoint", "sagewiz-iris", status="deleted")
    assert "still live" not in sagewiz(project_dir, "status").stdout
