"""The image step against the real Docker engine: contract, layer reuse on retrain, clear failures."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.plugins.docker_fixtures import build_image, log_model, open_project, remove_images, run_step

pytestmark = pytest.mark.integration

NAIVE_SINGLE_STAGE_BYTES = 1.33e9  # the same model, single stage, full mlflow, wheels left in a layer


def test_image_follows_the_sagemaker_contract(built_image, docker_stack):
    outputs = built_image["outputs"]
    info = docker_stack["api"].inspect_image(outputs["tag"])
    assert info["Id"] == outputs["image_id"]
    assert (info["Os"], info["Architecture"]) == ("linux", "amd64")
    assert info["Config"]["Entrypoint"][-1] == "/opt/sagewiz/server.py"
    assert outputs["size"] == info["Size"] and outputs["size"] < 0.6 * NAIVE_SINGLE_STAGE_BYTES
    assert outputs["base"] == docker_stack["base"] and outputs["python_version"].startswith("3.11")
    dockerfile = (built_image["root"] / ".sagewiz" / "build" / "Dockerfile").read_text()
    assert "--no-index" in dockerfile and dockerfile.index("AS deps") < dockerfile.index("COPY app/")
    lines = built_image["lines"]
    assert any(line.startswith("Step 1/") for line in lines), "each build log line is an event"
    assert any("Successfully tagged " + outputs["tag"] in line for line in lines)


def test_rebuild_after_retrain_rebuilds_only_the_model_layer(built_image, docker_stack, tracking_store):
    api = docker_stack["api"]
    first = api.inspect_image(built_image["outputs"]["image_id"])["RootFS"]["Layers"]
    retrained = log_model(tracking_store, n_estimators=25)
    ok, outputs, error, recorder, seconds = build_image(built_image["root"], built_image["settings"], retrained)
    assert ok, error
    built_image["created"] += outputs["cache_images"]
    second = api.inspect_image(outputs["image_id"])["RootFS"]["Layers"]
    assert outputs["tag"].endswith(retrained["run_id"]) and outputs["image_id"] != built_image["outputs"]["image_id"]
    assert second[:-1] == first[:-1], "the dependency layers are reused"
    assert second[-1] != first[-1], "the model layer is new"
    lines = recorder.lines("image")
    run_at = next(i for i, line in enumerate(lines) if line.startswith("Step ") and " : RUN " in line)
    assert "Using cache" in lines[run_at + 1]
    assert seconds < built_image["seconds"]


@pytest.mark.parametrize("deps, expected", [
    ("wheelhouse", "No matching distribution found for sagewiz-no-such-package-4711"),
    # pip mode fails inside the build; here containers cannot reach PyPI, elsewhere the package is missing
    ("pip", "The image build failed at `RUN python3 -m venv"),
])
def test_a_requirement_that_does_not_exist_fails_the_build_clearly(deps, expected, docker_stack, tracking_store,
                                                                   tmp_path):
    model = log_model(tracking_store, n_estimators=5,
                      requirements=["sagewiz-no-such-package-4711==1.0", "scikit-learn"])
    repository = f"sagewiz-test-{uuid.uuid4().hex[:8]}"
    project = open_project(tmp_path, **{"image.base": docker_stack["base"], "image.deps": deps,
                                        "image.repository": repository})
    try:
        project.state.update_record("model", status="done", outputs=model)
        ok, outputs, error, recorder = run_step(project, "image")
        assert not ok and project.state.status("image") == "failed" and outputs == {}
        assert expected in error
        if deps == "pip":
            assert "No matching distribution found for" in error and "Nothing was tagged" in error
        assert docker_stack["api"].images(name=repository) == []
        assert (tmp_path / ".sagewiz" / "build" / "Dockerfile").exists()
    finally:
        project.close()
        remove_images(docker_stack["api"], repository)


def test_the_engine_stopping_mid_build_fails_the_step_cleanly(built_image, private_dockerd, monkeypatch, tmp_path,
                                                              logged_model):
    from core.runtime.events import LogLine

    monkeypatch.setenv("DOCKER_HOST", private_dockerd["host"])
    installing = threading.Event()

    def watch(event) -> None:
        if isinstance(event, LogLine) and event.text.startswith(" ---> Running in"):
            installing.set()

    project = open_project(tmp_path, **built_image["settings"])
    try:
        project.state.update_record("model", status="done", outputs=logged_model)
        result = {}
        worker = threading.Thread(
            target=lambda: result.update(zip("oerl", run_step(project, "image", watch), strict=True)))
        worker.start()
        assert installing.wait(180), "the build never reached the dependency install"
        private_dockerd["proc"].kill()
        worker.join(timeout=120)
        assert not worker.is_alive()
        ok, error = result["o"], project.state.record("image")["error"]
        assert ok is False
        assert "The Docker engine stopped during the build (at `RUN python3 -m venv" in error
        assert "Start Docker again" in error
        record = project.state.record("image")
        assert record["status"] == "failed" and record["outputs"] == {}
    finally:
        project.close()
