"""Fixtures for the docker integration tests: the local stack, a logged model, a built image (once per session).

Everything these fixtures create on the shared engine carries a unique name and is removed afterwards
(the vfs storage driver fills the disk fast).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.plugins.outputs import outputs_of

STACK_ENV = Path("/var/tmp/sagewiz-stack/stack.env")
FEATURES = ["petal length (cm)", "petal width (cm)"]


def stack_value(name: str) -> str:
    """A stack setting from the environment, else from the env file `scripts/stack start` writes
    ($SAGEWIZ_STACK_DIR/stack.env, STACK_ENV by default); "" when neither has it."""
    if os.environ.get(name):
        return os.environ[name]
    stack_dir = os.environ.get("SAGEWIZ_STACK_DIR")
    env_file = Path(stack_dir) / "stack.env" if stack_dir else STACK_ENV
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == name:
                return value.strip()
    return ""


@pytest.fixture(scope="session")
def docker_stack(tmp_path_factory):
    """DOCKER_HOST, the registry and the local base image; unavailable() when the engine or image is missing."""
    from tests.conftest import unavailable

    host, base, registry = (stack_value(n) for n in ("DOCKER_HOST", "SAGEWIZ_BASE_IMAGE", "SAGEWIZ_REGISTRY"))
    if host:
        os.environ["DOCKER_HOST"] = host
    import docker

    try:
        api = docker.APIClient(base_url=host or None, timeout=300)
        api.ping()
    except Exception as exc:
        unavailable("The Docker engine", str(exc))
    if not base or not api.images(name=base):
        unavailable("The local base image", f"{base or 'SAGEWIZ_BASE_IMAGE unset'} (run scripts/stack start)")
    return {"api": api, "base": base, "registry": registry, "host": host}


def log_model(tracking_uri: str, n_estimators: int, requirements: list[str] | None = None) -> dict:
    """The tutorial's iris RandomForest logged with MLflow; the model step's outputs for it."""
    import mlflow
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import train_test_split

    frame = load_iris(as_frame=True).frame
    x_train, x_test, y_train, _ = train_test_split(frame[FEATURES], frame["target"], test_size=0.3, random_state=7)
    model = RandomForestRegressor(n_estimators=n_estimators, random_state=7).fit(x_train, y_train)
    example = x_test.head(3)
    # set_tracking_uri also exports MLFLOW_TRACKING_URI, which the tracking step honours: restore it after
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with mlflow.start_run(experiment_id=_experiment_beside(tracking_uri)) as run:
            info = mlflow.sklearn.log_model(model, name="random-forest-model", input_example=example,
                                            skops_trusted_types=["sklearn.tree._tree.Tree"],
                                            pip_requirements=requirements)
    finally:
        mlflow.set_tracking_uri(previous)
    return outputs_of("model", run_id=run.info.run_id, model_uri=info.model_uri, tracking_uri=tracking_uri,
                      experiment_id=run.info.experiment_id, flavor="sklearn",
                      python_version="{}.{}.{}".format(*sys.version_info[:3]), requirements=requirements or [],
                      input_example={"columns": FEATURES, "data": example.values.tolist()},
                      local_predictions=model.predict(example).tolist())


def _experiment_beside(tracking_uri: str) -> str:
    """An experiment whose artifacts live beside the sqlite file (the default is ./mlruns in the cwd)."""
    import mlflow

    name = "sagewiz-tests"
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts"
    return mlflow.create_experiment(name, artifact_location=root.as_uri())


@pytest.fixture(scope="session")
def tracking_store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def logged_model(tracking_store) -> dict:
    return log_model(tracking_store, n_estimators=10)


def open_project(root: Path, **overrides):
    from core.runtime.project import Project

    return Project(root, overrides=overrides).open()


def remove_images(api, repository: str) -> None:
    """Every tag `repository:*` (a test's own repository): removing a tag, not an image id, never takes an image
    that also carries someone else's tag; the engine deletes an image once its last tag is gone."""
    tags = [tag for image in api.images(name=repository) for tag in image.get("RepoTags") or []
            if tag.rpartition(":")[0] == repository]
    remove_quietly(api, tags)


def image_ids(api) -> set[str]:
    """The ids of every image on the engine now, intermediate ones included: what a test must not remove."""
    return {image["Id"] for image in api.images(all=True)}


def remove_quietly(api, refs) -> None:
    for ref in refs:
        try:
            api.remove_image(ref, force=True)
        except Exception:
            pass


def run_step(project, step: str, watch=None):
    """Run one step through the engine (events also to `watch`); (ok, outputs, error, recorder)."""
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from core.runtime.redact import redactor
    from core.steps import STEPS
    from tests.conftest import Recorder

    recorder = Recorder()
    bus = EventBus(redactor)
    bus.subscribe(recorder)
    if watch is not None:
        bus.subscribe(watch)
    ok = Engine(STEPS, project, bus, confirm=lambda q, d: True).run_step(step)
    record = project.state.record(step)
    return ok, record["outputs"], record["error"], recorder


def build_image(root: Path, settings: dict, model: dict):
    """The image step, timed, for a project whose model step chose `model`; (ok, outputs, error, recorder, s)."""
    project = open_project(root, **settings)
    try:
        project.state.update_record("model", status="done", outputs=model)
        started = time.monotonic()
        ok, outputs, error, recorder = run_step(project, "image")
        return ok, outputs, error, recorder, time.monotonic() - started
    finally:
        project.close()


@pytest.fixture(scope="session")
def built_image(docker_stack, logged_model, tmp_path_factory):
    """The image step run once in wheelhouse mode on the local base image; its project dir and outputs."""
    root = tmp_path_factory.mktemp("image-project")
    repository = f"sagewiz-test-{uuid.uuid4().hex[:8]}"
    settings = {"image.base": docker_stack["base"], "image.deps": "wheelhouse", "image.repository": repository}
    created: list[str] = []  # images these builds made; tests add theirs (a layer cache already there is kept)
    existing = image_ids(docker_stack["api"])
    ok, outputs, error, recorder, seconds = build_image(root, settings, logged_model)
    try:
        assert ok, error
        created += outputs.get("cache_images", [])
        yield {"root": root, "settings": settings, "outputs": outputs, "lines": recorder.lines("image"),
               "seconds": seconds, "repository": repository, "created": created}
    finally:
        remove_images(docker_stack["api"], repository)
        remove_images(docker_stack["api"], f"{docker_stack['registry']}/{repository}")  # tests push it
        remove_quietly(docker_stack["api"], [ref for ref in created if ref not in existing])


@pytest.fixture
def private_dockerd(tmp_path, docker_stack):
    """A Docker engine of this test's own (so it can be stopped), with the base image loaded; its DOCKER_HOST."""
    import shutil

    from tests.conftest import unavailable

    if shutil.which("dockerd") is None or os.geteuid() != 0:
        unavailable("A private dockerd", "dockerd is not installed or the tests do not run as root")
    root = Path("/tmp") / f"sagewiz-dockerd-{uuid.uuid4().hex[:8]}"  # short: unix socket paths are limited
    root.mkdir()
    host = f"unix://{root}/docker.sock"
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(["dockerd", "--storage-driver=vfs", "--iptables=false", "--bridge=none", "-H", host,
                             "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                             "--pidfile", str(root / "docker.pid")], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    env = {**os.environ, "DOCKER_HOST": host}
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["docker", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                unavailable("A private dockerd", (root / "dockerd.log").read_text()[-500:])
            time.sleep(0.5)
        save = subprocess.Popen(["docker", "save", docker_stack["base"]], stdout=subprocess.PIPE)
        subprocess.run(["docker", "load"], stdin=save.stdout, env=env, check=True, capture_output=True)
        save.wait()
        yield {"host": host, "proc": proc}
    finally:
        stop_dockerd(proc, root)
        log.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)


def stop_dockerd(proc: subprocess.Popen, root: Path) -> None:
    """Stop a private dockerd and unmount its data root (each start mounts it over itself and leaves it)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for _ in range(2):
        subprocess.run(["umount", str(root / "data")], capture_output=True)
