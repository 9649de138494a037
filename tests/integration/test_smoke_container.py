"""The smoke step against the real engine: real predictions, the tutorial's request (its positional columns
too), a container that hangs."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest

from tests.plugins.docker_fixtures import FEATURES, open_project, run_step
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


@pytest.fixture(scope="module")
def serving(built_image):
    """The built image serving on a free port; its URL and the container's log lines so far."""
    from core.container.serving import serve
    from core.runtime.ports import any_free

    lines: list[str] = []
    with serve(built_image["outputs"]["image_id"], port=any_free(), on_log=lines.append) as url:
        yield url, lines


@pytest.fixture(scope="module")
def local_model(logged_model, tmp_path_factory):
    """The logged model loaded here from MLflow, as the image has it."""
    import mlflow.pyfunc

    from core.tracking.models import local_copy

    path = local_copy(logged_model, tmp_path_factory.mktemp("local-model"), lambda: logged_model["tracking_uri"])
    return mlflow.pyfunc.load_model(str(path))


def logged_after(lines: list[str], seen: int, text: str, timeout: float = 10) -> list[str]:
    """The log lines after the first `seen` once one holds `text` (the log stream lags the answer), else []."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines[seen:]):
        if time.monotonic() > deadline:
            return []
        time.sleep(0.1)
    return lines[seen:]


def test_the_tutorials_positional_columns_are_mapped_to_the_models_inputs(serving, local_model):
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    from core.tracking import scoring

    assert local_model.metadata.get_input_schema().input_names() == FEATURES
    # The tutorial trains on the petal columns as a numpy array, `X = iris.data[:, 2:]`, and its predict.py sends
    # `pd.DataFrame(X_train).iloc[[3]].to_json(orient="split")`: columns 0 and 1, and an index (the seed is ours).
    x_train, _ = train_test_split(load_iris().data[:, 2:], test_size=0.2, random_state=7)
    body = pd.DataFrame(x_train).iloc[[3]].to_json(orient="split")
    assert json.loads(body).keys() == {"columns", "index", "data"} and json.loads(body)["columns"] == [0, 1]
    expected = local_model.predict(pd.DataFrame(x_train[[3]], columns=FEATURES)).tolist()
    mapped = f"Mapped positional columns [0, 1] to the model's inputs {FEATURES} in order."
    url, lines = serving
    seen = len(lines)
    predictions = scoring.invoke(url, body.encode(), "application/json; format=pandas-split")
    assert len(predictions) == 1 and predictions == pytest.approx(expected)
    assert logged_after(lines, seen, mapped).count(mapped) == 1, lines[seen:]
    # MLflow 2+'s own shape of the same payload is mapped too
    seen = len(lines)
    wrapped = json.dumps({"dataframe_split": json.loads(body)}).encode()
    assert scoring.invoke(url, wrapped, "application/json") == pytest.approx(expected)
    assert logged_after(lines, seen, mapped).count(mapped) == 1, lines[seen:]


def test_positional_columns_of_the_wrong_count_still_get_mlflows_schema_error(serving):
    import pandas as pd

    from core.runtime.errors import StepError
    from core.tracking import scoring

    body = pd.DataFrame([[1.3, 0.2, 5.0]]).to_json(orient="split")
    assert json.loads(body)["columns"] == [0, 1, 2]
    url, lines = serving
    seen = len(lines)
    with pytest.raises(StepError, match=r"HTTP 400: .*Failed to enforce schema.*Model is missing inputs"):
        scoring.invoke(url, body.encode(), "application/json; format=pandas-split")
    answered = logged_after(lines, seen, '"POST /invocations HTTP/1.1" 400')
    assert answered and not any("Mapped positional columns" in line for line in answered), lines[seen:]


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
