"""Dependencies dying mid-step: the Docker engine during push, the AWS emulator during deploy, AWS throttling and
5xx answers (a fault proxy in front of the emulator). Each fails the step within a bound with a sentence naming
the dependency and what to do, leaves state that parses, and `sagewiz run` finishes the step once it is back.

Covered elsewhere and not repeated: the engine stopped mid-build (test_image_build.py), the MLflow server killed
during training (test_tracking_server.py::test_server_killed_mid_training_fails_clearly_and_resume_restarts_it),
the wizard itself SIGKILLed during deploy (test_aws_crash.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.plugins.aws_fixtures import (
    MotoServer,
    moto_reset,
    register_image,
    sandbox_client,
    start_moto,
    stop_moto,
)
from tests.plugins.docker_fixtures import stop_dockerd
from tests.plugins.fault_proxy import THROTTLING, UNAVAILABLE, FaultProxy, amz_target, s3_put_object
from tests.plugins.outputs import outputs_of
from tests.plugins.pipeline_fixtures import read_state, sagewiz_argv, wizard_env

pytestmark = pytest.mark.integration

ATTEMPTS = 3  # botocore max_attempts in core.aws.clients.client
FAIL_WITHIN = 30.0  # seconds from the fault to a failed step (retries and backoff included)
LOCAL_STEPS = ("environment", "preflight", "tracking", "train", "model")


def _run_engine(project_dir: Path, end: str | None, watch=None, only: str | None = None) -> tuple[bool, dict]:
    """Resume the project up to `end` (or run `only`) in this process, events also to `watch`; ok and the state
    file, parsed."""
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from core.runtime.project import Project
    from core.runtime.redact import redactor
    from core.steps import STEPS

    bus = EventBus(redactor)
    if watch is not None:
        bus.subscribe(watch)
    with Project(project_dir).open() as project:
        ok = Engine(STEPS, project, bus, confirm=lambda question, details: True).run(end=end, only=only)
    return ok, read_state(project_dir)


def _resume(project_dir: Path, end: str, **env: str) -> dict:
    """`sagewiz run --sandbox --yes --to END`, as the user reruns it; the state it leaves, `end` done."""
    done = subprocess.run(sagewiz_argv(project_dir, "run", "--sandbox", "--yes", "--to", end), env=wizard_env(**env),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = read_state(project_dir)
    assert state["steps"][end]["status"] == "done"
    return state


def _failed_with_sentence(state: dict, step: str, *phrases: str) -> str:
    record = state["steps"][step]
    assert record["status"] == "failed" and record["error"]
    error = record["error"]
    for phrase in phrases:
        assert phrase in error, error
    assert "sagewiz run" in error, error  # says how to go on
    for raw in ("Traceback", "Unexpected error", "<?xml", "<Error>", "\n"):
        assert raw not in error, error
    return error


def _ready_to_deploy(project_dir: Path, endpoint: str, emulator: str, pushed: dict, model: dict) -> None:
    """A sandbox project on `endpoint` whose local steps, image, smoke and push are done (the session's image is in
    the ECR of the emulator at `emulator`, its model chosen); credentials, iam and deploy are pending. The model is
    small: one PutObject."""
    from core.runtime.project import Project

    (project_dir / "sagewiz.toml").write_text(
        f'[sandbox]\nenabled = true\naws_endpoint = "{endpoint}"\nregistry = "{pushed["registry"]}"\n'
        f'[image]\nrepository = "{pushed["repository"]}"\n', encoding="utf-8")
    outputs = {"model": model, "push": register_image(emulator, pushed)}
    with Project(project_dir).open() as project:
        for step in (*LOCAL_STEPS, "image", "smoke", "push"):
            project.state.update_record(step, status="done", outputs=outputs.get(step, {}))


def _in_service(url: str, state: dict) -> bool:
    name = state["steps"]["deploy"]["outputs"]["endpoint_name"]
    return sandbox_client(url, "sagemaker").describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


def _restart_moto(killed: MotoServer) -> MotoServer:
    """moto again on the killed one's port (its memory is gone, as an emulator's is)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(killed.proc.args, env=env | {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = MotoServer(killed.url, proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(killed.url + "/moto-api/", timeout=2).close()
            return server
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "moto did not come back on its port"
            time.sleep(0.2)


def test_emulator_stopped_during_the_upload_fails_deploy_fast_and_resume_deploys(project_dir, pushed_image,
                                                                                 logged_model):
    from core.runtime.events import ResourceChanged

    moto = start_moto()
    try:
        _ready_to_deploy(project_dir, moto.url, moto.url, pushed_image, logged_model)
        killed_at: list[float] = []

        def kill_mid_upload(event) -> None:  # as the model's upload starts (its ledger intent is written)
            if isinstance(event, ResourceChanged) and (event.kind, event.action) == ("s3_object", "intent"):
                moto.proc.kill()
                moto.proc.wait()
                killed_at.append(time.time())

        ok, state = _run_engine(project_dir, "deploy", kill_mid_upload)
        assert killed_at and not ok
        assert state["steps"]["deploy"]["finished_at"] - killed_at[0] < FAIL_WITHIN
        _failed_with_sentence(state, "deploy", f"The sandbox's AWS emulator at {moto.url} stopped answering",
                              "deploy the model to SageMaker", "Start the emulator again")
        assert [e["status"] for e in state["ledger"] if e["kind"] == "s3_object"] == ["intent"]

        moto = _restart_moto(moto)
        register_image(moto.url, pushed_image)  # what it held before the deploy; the role is gone: iam makes it again
        state = _resume(project_dir, "deploy")
        assert state["steps"]["iam"]["status"] == "done" and _in_service(moto.url, state)
    finally:
        stop_moto(moto)


@pytest.fixture
def proxied(project_dir, moto_url, pushed_image, logged_model):
    """A project ready to deploy whose sandbox.aws_endpoint is a fault proxy in front of the session's moto."""
    moto_reset(moto_url)
    proxy = FaultProxy(moto_url)
    _ready_to_deploy(project_dir, proxy.url, moto_url, pushed_image, logged_model)
    yield proxy
    proxy.close()


def test_a_few_throttles_and_503s_are_absorbed_by_botocore_retries(proxied, project_dir, moto_url):
    create_endpoint, upload = amz_target("SageMaker.CreateEndpoint"), s3_put_object("/model.tar.gz")
    proxied.fail(create_endpoint, THROTTLING, times=ATTEMPTS - 1)
    proxied.fail(upload, UNAVAILABLE, times=ATTEMPTS - 1)
    ok, state = _run_engine(project_dir, "deploy")
    assert ok, state["steps"]["deploy"]["error"]
    for operation in (create_endpoint, upload):
        assert proxied.count(operation, injected=True) == ATTEMPTS - 1
        assert proxied.count(operation) == ATTEMPTS  # the last retry went through
    assert state["steps"]["deploy"]["duration"] < FAIL_WITHIN
    assert _in_service(moto_url, state)


@pytest.mark.parametrize("match, answer, phrase", [
    (amz_target("SageMaker.CreateModel"), THROTTLING, "AWS kept throttling the requests to create the SageMaker model"),
    (s3_put_object("/model.tar.gz"), UNAVAILABLE, "AWS answered 503 (ServiceUnavailable)"),
], ids=["throttling", "503"])
def test_endless_errors_fail_deploy_after_bounded_attempts_and_resume_deploys(match, answer, phrase, proxied,
                                                                             project_dir, moto_url):
    proxied.fail(match, answer, times=None)
    ok, state = _run_engine(project_dir, "deploy")
    assert not ok
    assert proxied.count(match) == ATTEMPTS  # bounded: botocore gave up, nothing retried on top
    assert state["steps"]["deploy"]["duration"] < FAIL_WITHIN
    _failed_with_sentence(state, "deploy", phrase, f"still after {ATTEMPTS} attempts", "Wait a")

    proxied.heal()
    state = _resume(project_dir, "deploy")
    assert _in_service(moto_url, state)


def test_endless_throttling_fails_cleanup_with_a_sentence_too(proxied, project_dir):
    """Every AWS step turns exhausted retries into a sentence, not only deploy (here: cleanup's listing)."""
    ok, state = _run_engine(project_dir, "deploy")
    assert ok, state["steps"]["deploy"]["error"]
    match = amz_target("SageMaker.ListEndpoints")
    proxied.fail(match, THROTTLING, times=None)
    ok, state = _run_engine(project_dir, None, only="cleanup")
    assert not ok and proxied.count(match) == ATTEMPTS, state["steps"]["cleanup"]["error"]
    _failed_with_sentence(state, "cleanup", "AWS kept throttling the requests to clean up the AWS resources",
                          f"still after {ATTEMPTS} attempts", "Wait a")


def test_engine_stopped_during_push_fails_the_step_and_resume_pushes(private_dockerd, docker_stack, moto_url,
                                                                   project_dir, monkeypatch):
    import docker

    from core.runtime.events import Progress
    from core.runtime.project import Project

    host = private_dockerd["host"]
    monkeypatch.setenv("DOCKER_HOST", host)
    moto_reset(moto_url)
    api = docker.APIClient(base_url=host)
    image_id = api.inspect_image(docker_stack["base"])["Id"]
    repository = f"sagewiz-fault-{uuid.uuid4().hex[:8]}"
    api.tag(image_id, repository, "v1")  # the base image stands in for a built one: one 145 MB layer
    (project_dir / "sagewiz.toml").write_text(
        f'[sandbox]\nenabled = true\naws_endpoint = "{moto_url}"\n[image]\nrepository = "{repository}"\n',
        encoding="utf-8")
    with Project(project_dir).open() as project:
        for step in (*LOCAL_STEPS, "image", "smoke"):
            outputs = outputs_of("image", image_id=image_id, tag=f"{repository}:v1") if step == "image" else {}
            project.state.update_record(step, status="done", outputs=outputs)
    killed_at: list[float] = []

    def kill_mid_push(event) -> None:
        if isinstance(event, Progress) and event.step == "push" and event.current > 0 and not killed_at:
            os.killpg(private_dockerd["proc"].pid, signal.SIGKILL)  # the engine and its containerd
            killed_at.append(time.time())

    restarted, root = None, Path(host.removeprefix("unix://")).parent
    try:
        ok, state = _run_engine(project_dir, "push", kill_mid_push)
        assert killed_at, "the push ended before the engine could be stopped"
        assert not ok and state["steps"]["push"]["finished_at"] - killed_at[0] < FAIL_WITHIN
        _failed_with_sentence(state, "push", "The Docker engine stopped answering", "Start Docker again")
        assert [e["status"] for e in state["ledger"] if e["kind"] == "ecr_image"] == ["intent"]

        private_dockerd["proc"].wait()
        for stale in ("docker.pid", "exec/containerd/containerd.pid"):  # else it waits for the dead containerd
            (root / stale).unlink(missing_ok=True)
        restarted = subprocess.Popen(private_dockerd["proc"].args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while subprocess.run(["docker", "-H", host, "info"], capture_output=True).returncode != 0:
            assert restarted.poll() is None and time.monotonic() < deadline, "the engine did not come back"
            time.sleep(0.5)
        state = _resume(project_dir, "push", DOCKER_HOST=host)
        outputs = state["steps"]["push"]["outputs"]
        details = sandbox_client(moto_url, "ecr").describe_images(
            repositoryName=repository, imageIds=[{"imageDigest": outputs["digest"]}])["imageDetails"]
        assert details and outputs["image_uri"].endswith("@" + outputs["digest"])
        assert [e["status"] for e in read_state(project_dir)["ledger"] if e["kind"] == "ecr_image"] == ["created"]
    finally:
        if restarted is not None:
            stop_dockerd(restarted, root)
