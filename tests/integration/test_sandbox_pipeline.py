"""The whole pipeline headless in the SANDBOX with real predictions from the local container: an open-ended run
stops after predict and says the endpoint is still up; cleanup runs when asked; nothing started is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_run_sandbox_yes_stops_after_predict_then_cleanup_when_asked(project_dir, docker_stack):
    from core.runtime.ports import any_free

    env = dict(os.environ)
    settings = ["--set", f"tracking.port={any_free()}",
                "--set", f"image.base={docker_stack['base']}", "--set", "image.deps=wheelhouse"]
    cli = [sys.executable, "-m", "tui.cli"]
    try:
        done = subprocess.run([*cli, "run", "--sandbox", "--yes", "--project-dir", str(project_dir), *settings],
                              env=env, capture_output=True, text=True, timeout=1500)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        cleanup = subprocess.run([*cli, "cleanup", "--sandbox", "--yes", "--all", "--project-dir", str(project_dir)],
                                 env=env, capture_output=True, text=True, timeout=600)
    finally:  # the image it built, under every tag (its own registry's port changes each run)
        state_file = project_dir / ".sagewiz" / "state.json"
        built = json.loads(state_file.read_text())["steps"].get("image", {}) if state_file.exists() else {}
        if built.get("outputs", {}).get("image_id"):
            docker_stack["api"].remove_image(built["outputs"]["image_id"], force=True)
    assert "SANDBOX" in done.stdout
    said = " ".join(done.stdout.split())
    assert "The SANDBOX endpoint sagewiz-iris in us-east-1 (1 x ml.m5.large) is still in the ledger" in said
    assert f"Delete it with: sagewiz cleanup --project-dir {project_dir} --sandbox" in said
    assert cleanup.returncode == 0, cleanup.stdout[-3000:] + cleanup.stderr[-3000:]
    assert "still in the ledger" not in cleanup.stdout
    state = json.loads((project_dir / ".sagewiz" / "state.json").read_text())
    assert all(state["steps"][s]["status"] == "done" for s in state["steps"])
    assert state["steps"]["cleanup"]["started_at"] > state["steps"]["predict"]["finished_at"]
    predict = state["steps"]["predict"]["outputs"]
    assert predict["predictions"] and predict["local_predictions"]
    assert predict["predictions"] == pytest.approx(predict["local_predictions"], rel=1e-6)
    assert state["steps"]["cleanup"]["outputs"]["remaining"] == []
    assert state["services"] == {}  # the emulator and registry it started were stopped
    secret_free = (project_dir / ".sagewiz" / "state.json").read_text()
    assert "sagewiz-sandbox-credentials-not-secret-0" not in secret_free
