"""The whole pipeline headless in the SANDBOX, environment to cleanup, with real predictions from the local
container; then nothing it started is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_run_sandbox_yes_goes_through_all_steps(project_dir, docker_stack):
    from tests.conftest import free_port

    env = dict(os.environ)
    argv = [sys.executable, "-m", "tui.cli", "run", "--sandbox", "--yes", "--project-dir", str(project_dir),
            "--set", f"tracking.port={free_port()}", "--set", "cleanup.everything=true",
            "--set", f"image.base={docker_stack['base']}", "--set", "image.deps=wheelhouse"]
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1500)
    finally:  # the image it built, under every tag (its own registry's port changes each run)
        state_file = project_dir / ".sagewiz" / "state.json"
        built = json.loads(state_file.read_text())["steps"].get("image", {}) if state_file.exists() else {}
        if built.get("outputs", {}).get("image_id"):
            docker_stack["api"].remove_image(built["outputs"]["image_id"], force=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "SANDBOX" in done.stdout
    state = json.loads((project_dir / ".sagewiz" / "state.json").read_text())
    assert all(state["steps"][s]["status"] == "done" for s in state["steps"])
    predict = state["steps"]["predict"]["outputs"]
    assert predict["predictions"] and predict["local_predictions"]
    assert predict["predictions"] == pytest.approx(predict["local_predictions"], rel=1e-6)
    assert state["steps"]["cleanup"]["outputs"]["remaining"] == []
    assert state["services"] == {}  # the emulator and registry it started were stopped
    secret_free = (project_dir / ".sagewiz" / "state.json").read_text()
    assert "sagewiz-sandbox-credentials-not-secret-0" not in secret_free
