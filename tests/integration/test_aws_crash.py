"""A wizard SIGKILLed during deploy: `sagewiz cleanup` still removes everything it made in the emulator,
and a resumed run creates nothing twice.

The wizard runs as a real `sagewiz run` subprocess against the session's strict emulator (sandbox.aws_endpoint),
so the emulator, and what the killed wizard created in it, outlive the wizard."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from core.runtime.proc import pid_alive
from tests.plugins.aws_fixtures import moto_reset, register_image, sandbox_client
from tests.plugins.pipeline_fixtures import live_resources, read_state, sagewiz_argv, wizard_env

pytestmark = pytest.mark.integration

ROLE = "sagewiz-sagemaker-execution"
DONE_BEFORE = ("environment", "preflight", "tracking", "train", "model", "image", "smoke", "push")


@pytest.fixture
def crashable(project_dir, moto_url, tmp_path, pushed_image, logged_model):
    """A project whose steps up to push are done: the session's model (padded, so that uploading it takes a
    second) and its serving image in the stack registry and the strict emulator's ECR; credentials, iam and deploy
    are pending."""
    from core.runtime.project import Project
    from core.tracking.models import local_copy

    moto_reset(moto_url)
    (project_dir / "sagewiz.toml").write_text(
        f'[sandbox]\nenabled = true\naws_endpoint = "{moto_url}"\nregistry = "{pushed_image["registry"]}"\n'
        f'[image]\nrepository = "{pushed_image["repository"]}"\n', encoding="utf-8")
    model_dir = tmp_path / "padded-model"
    shutil.copytree(local_copy(logged_model, tmp_path / "model", lambda: logged_model["tracking_uri"]), model_dir)
    (model_dir / "padding.bin").write_bytes(os.urandom(24_000_000))  # MLflow ignores files it does not know
    outputs = {"model": {**logged_model, "model_uri": str(model_dir), "tracking_uri": ""},
               "push": register_image(moto_url, pushed_image)}
    with Project(project_dir).open() as project:
        for step in DONE_BEFORE:
            project.state.update_record(step, status="done", outputs=outputs.get(step, {}))
        project.state.upsert_resource("ecr_repository", pushed_image["repository"], status="created", step="push")
    return project_dir


def _kill_during_deploy(project_dir, wanted) -> dict:
    """Start `sagewiz run --sandbox --yes --to deploy`; SIGKILL it once `wanted(ledger)` holds while deploy
    runs. The state the killed wizard left behind."""
    log = project_dir.parent / "killed-run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(sagewiz_argv(project_dir, "run", "--sandbox", "--yes", "--to", "deploy"),
                                env=wizard_env(), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            try:
                state = read_state(project_dir)
            except (FileNotFoundError, json.JSONDecodeError):
                state = {"steps": {}, "ledger": []}
            deploying = state["steps"].get("deploy", {}).get("status") == "running"
            if deploying and wanted(state["ledger"]):
                os.kill(proc.pid, signal.SIGKILL)
                break
            if proc.poll() is not None:
                pytest.fail(f"the wizard ended (code {proc.returncode}) before it could be killed during deploy:\n"
                            + log.read_text(errors="replace")[-3000:])
            time.sleep(0.005)
        else:
            pytest.fail("deploy did not start within 180 s:\n" + log.read_text(errors="replace")[-3000:])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)  # reaped: its lock is free for the next wizard
    assert proc.returncode == -signal.SIGKILL
    state = read_state(project_dir)  # the killed wizard's state still parses
    assert state["steps"]["deploy"]["status"] == "running"
    return state


def _cleanup_all(project_dir) -> subprocess.CompletedProcess:
    done = subprocess.run(sagewiz_argv(project_dir, "cleanup", "--yes", "--all"), env=wizard_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _assert_nothing_left(project_dir, moto_url, killed):
    assert {kind: ids for kind, ids in live_resources(moto_url).items() if ids} == {}
    state = read_state(project_dir)
    assert state["services"] == {}  # the registry the killed wizard started was adopted and stopped
    for service in killed["services"].values():  # stopped; a zombie until whatever adopted it reaps it
        assert not pid_alive(service["pid"])
    assert state["steps"]["cleanup"]["outputs"]["remaining"] == []
    assert [e for e in state["ledger"] if e["status"] != "deleted"] == []


def test_sigkill_mid_upload_then_cleanup_leaves_nothing(crashable, moto_url):
    s3 = sandbox_client(moto_url, "s3")

    def uploading(ledger):
        bucket = next((e["id"] for e in ledger if e["kind"] == "s3_bucket" and e["status"] == "created"), None)
        return (any(e["kind"] == "s3_object" for e in ledger)
                and bool(s3.list_multipart_uploads(Bucket=bucket).get("Uploads")))

    state = _kill_during_deploy(crashable, uploading)
    kinds = {e["kind"] for e in state["ledger"]}
    assert {"iam_role", "s3_bucket", "s3_object"} <= kinds
    left = live_resources(moto_url)
    assert left["buckets"] and left["roles"]  # the crash left resources behind

    done = _cleanup_all(crashable)
    assert "SANDBOX" in done.stdout and "nothing sagewiz created remains" in done.stdout
    _assert_nothing_left(crashable, moto_url, state)


def test_resume_after_sigkill_creates_nothing_twice(crashable, moto_url):
    killed = _kill_during_deploy(crashable, lambda ledger: any(
        e["kind"] == "s3_bucket" and e["status"] == "created" for e in ledger))
    before = live_resources(moto_url)
    assert len(before["buckets"]) == 1 and before["roles"] == [ROLE]

    resumed = subprocess.run(sagewiz_argv(crashable, "run", "--sandbox", "--yes", "--to", "deploy"), env=wizard_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "Resuming at deploy" in resumed.stdout  # credentials and iam were not run again
    state = read_state(crashable)
    assert state["steps"]["deploy"]["status"] == "done"
    after = live_resources(moto_url)
    assert after["buckets"] == before["buckets"] and after["roles"] == [ROLE]
    assert len(after["models"]) == len(after["endpoint_configs"]) == len(after["endpoints"]) == 1
    assert len(after["objects"]) == 1 and after["uploads"] == []
    entries = [(e["kind"], e["id"]) for e in state["ledger"]]
    assert len(entries) == len(set(entries))
    assert [e["created_at"] for e in state["ledger"] if e["kind"] == "s3_bucket"] == \
        [e["created_at"] for e in killed["ledger"] if e["kind"] == "s3_bucket"]  # reused, not made again
    s3 = sandbox_client(moto_url, "s3")
    bucket = after["buckets"][0]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]

    _cleanup_all(crashable)
    _assert_nothing_left(crashable, moto_url, killed)
