"""The smoke step against the real engine: real predictions, the tutorial's request, a container that hangs."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.plugins.docker_fixtures import open_project, run_step
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration


def containers_of(api, image_id: str) -> list:
    return api.containers(all=True, filters={"ancestor": image_id})


def test_smoke_answers_like_the_local_model(built_image, docker_stack, logged_model):
    project = open_project(built_image["root"], **built_image["settings"])
    try:
        project.state.update_record("model", status="done", outputs=logged_model)
        project.state.update_record("image", status="done", outputs=built_image["outputs"])
        ok, outputs, error, recorder = run_step(project, "smoke")
    finally:
        project.close()
    assert ok, error
    assert outputs["predictions"] == pytest.approx(logged_model["local_predictions"])
    assert 0 < outputs["ping_seconds"] < 120
    lines = recorder.lines("smoke")
    assert any("format=pandas-split" in line for line in lines), "the tutorial's request was answered"
    assert any("Model loaded" in line for line in lines), "container logs are streamed"
    assert containers_of(docker_stack["api"], built_image["outputs"]["image_id"]) == []


def test_serving_the_tutorial_request_directly(built_image, logged_model):
    from core.container.serving import serve
    from core.runtime.ports import any_free
    from core.tracking import scoring

    with serve(built_image["outputs"]["image_id"], port=any_free(), on_log=lambda line: None) as url:
        body, content_type = scoring.tutorial_split(logged_model["input_example"])
        assert content_type == "application/json; format=pandas-split"
        assert scoring.invoke(url, body, content_type) == pytest.approx(logged_model["local_predictions"])
        with pytest.raises(Exception, match="HTTP 4"):
            scoring.invoke(url, b"not json", "application/json")


@pytest.fixture
def silent_image(docker_stack):
    """An image whose server starts but never answers /ping."""
    api = docker_stack["api"]
    tag = f"sagewiz-test-silent:{uuid.uuid4().hex[:8]}"
    dockerfile = (f"FROM {docker_stack['base']}\n"
                  'ENTRYPOINT ["/bin/sh", "-c", "echo loading a model that never loads; exec sleep 600", "--"]\n')
    for _ in api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True, decode=True,
                       network_mode="host"):
        pass
    image_id = api.inspect_image(tag)["Id"]
    yield {"image_id": image_id, "tag": tag}
    api.remove_image(tag, force=True)  # its tag, not the id: another session's identical build shares the id


def test_a_container_that_never_answers_ping_fails_with_its_logs_and_is_removed(silent_image, docker_stack, tmp_path,
                                                                                 logged_model):
    project = open_project(tmp_path, **{"smoke.ping_timeout": 6})
    try:
        project.state.update_record("model", status="done", outputs=logged_model)
        project.state.update_record("image", status="done", outputs=outputs_of("image", **silent_image))
        ok, outputs, error, recorder = run_step(project, "smoke")
        assert not ok and project.state.status("smoke") == "failed"
    finally:
        project.close()
    assert "did not answer GET /ping with 200 within 6 s" in error
    assert "loading a model that never loads" in error
    assert containers_of(docker_stack["api"], silent_image["image_id"]) == []
