"""`sagewiz run` (and `sagewiz status`) on a machine with no AWS account configured runs the AWS steps in the
SANDBOX and says so once; with credentials (here: environment variables aimed at moto) it does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

NOTICE = "No AWS account is configured, so AWS steps run in the SANDBOX"


def _clean_env(home) -> dict[str, str]:
    """No AWS_* variables, HOME an empty directory (no ~/.aws), wide lines so the notice is not wrapped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), COLUMNS="400")
    return env


def _run_credentials(project_dir, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "run", "--only", "credentials", "--project-dir",
                           str(project_dir)], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def empty_keyring():
    """No sagewiz key pair in the keyring this test session can see (or no keyring at all)."""
    from core.aws import keys as aws_keys
    from core.runtime.secrets import SecretsUnavailable
    from tests.conftest import unavailable

    try:
        pair = aws_keys.load()
    except SecretsUnavailable:
        pair = None
    if pair is not None:
        unavailable("An empty keyring", "a sagewiz key pair is stored in it (run the suite through scripts/test)")


def test_no_credentials_anywhere_runs_in_the_sandbox_and_says_so_once(project_dir, tmp_path, empty_keyring):
    home = tmp_path / "home"
    home.mkdir()
    done = _run_credentials(project_dir, _clean_env(home))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count(NOTICE) == 1
    assert "SANDBOX" in done.stdout.split(NOTICE, 1)[1]  # the banner follows the notice
    state = json.loads((project_dir / ".sagewiz" / "state.json").read_text())
    outputs = state["steps"]["credentials"]["outputs"]
    assert outputs["source"] == "sandbox" and outputs["sandbox"] is True
    assert state["services"] == {}  # the emulator and registry it started are stopped
    assert not (project_dir / "sagewiz.toml").exists()  # decided per run, not written into the settings


def test_credentials_in_the_environment_mean_real_aws(project_dir, tmp_path, moto_url, empty_keyring):
    from tests.plugins.aws_fixtures import moto_reset

    moto_reset(moto_url)
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    env.update(AWS_ACCESS_KEY_ID="AKIASGWZDECISION0001", AWS_SECRET_ACCESS_KEY="x" * 40, AWS_ENDPOINT_URL=moto_url)
    done = _run_credentials(project_dir, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert NOTICE not in done.stdout and "SANDBOX" not in done.stdout
    outputs = json.loads((project_dir / ".sagewiz" / "state.json").read_text())["steps"]["credentials"]["outputs"]
    assert outputs["source"] == "environment" and outputs["key_id_last4"] == "0001"


def test_status_shows_the_mode_run_would_use(project_dir, tmp_path, empty_keyring):
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    status = [sys.executable, "-m", "tui.cli", "status", "--project-dir", str(project_dir)]
    shown = subprocess.run(status, env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-3000:]
    assert NOTICE in shown.stdout and "SANDBOX" in shown.stdout.split(NOTICE, 1)[1]
    as_json = subprocess.run(status + ["--json"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(as_json.stdout)["sandbox"] is True
    env.update(AWS_ACCESS_KEY_ID="AKIASGWZDECISION0002", AWS_SECRET_ACCESS_KEY="x" * 40)
    as_json = subprocess.run(status + ["--json"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(as_json.stdout)["sandbox"] is False
    assert not (project_dir / "sagewiz.toml").exists() and not (project_dir / ".sagewiz" / "state.json").exists()
