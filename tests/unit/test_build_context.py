"""The build context, the in-image request translation, wheel tags and request bodies."""

from __future__ import annotations

import json

import pytest

from core.container import build_context, wheelhouse
from core.container.in_image import server
from core.runtime.errors import StepError
from core.steps.push import refuse_index, refuse_unservable
from core.tracking import scoring

pytestmark = pytest.mark.unit

EXAMPLE = {"columns": ["a", "b"], "data": [[1.5, 0.2], [4.0, 1.3]]}


def test_mlflow_becomes_mlflow_skinny_at_the_same_version():
    reqs = build_context.serving_requirements(["# pinned", "mlflow[extras]==3.1.0", "", "scikit-learn==1.5.0",
                                               "mlflow-tracing==3.1.0"], "3.1.0")
    assert reqs == ["mlflow-skinny==3.1.0", "scikit-learn==1.5.0", "mlflow-tracing==3.1.0"]
    assert build_context.serving_requirements(["numpy"], "3.2.0") == ["mlflow-skinny==3.2.0", "numpy"]
    assert build_context.serving_requirements(["mlflow-skinny>=3"], "3.2.0") == ["mlflow-skinny>=3"]


def test_dockerfile_puts_dependencies_before_the_model_and_installs_offline_in_wheelhouse_mode():
    text = build_context.dockerfile(base="python:3.11-slim", deps="wheelhouse", model_uri="models:/m-1",
                                    run_id="r1", tag="sagewiz-model:r1")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim AS deps"
    assert lines.index("COPY --from=deps /opt/venv /opt/venv") < lines.index("COPY app/ /opt/") == len(lines) - 1
    assert "--no-index --find-links /tmp/sagewiz/wheels" in text
    pip = build_context.dockerfile(base="b", deps="pip", model_uri="m", run_id="r", tag="t")
    assert "--no-index" not in pip and "pip install" in pip


def test_create_writes_a_readable_context_and_replaces_the_old_one(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    build = tmp_path / "build"
    (build / "stale").mkdir(parents=True)
    build_context.create(build, model_dir=model, requirements=["mlflow-skinny==3"], base="b", deps="pip",
                         model_uri="m", run_id="r", tag="t")
    assert not (build / "stale").exists()
    assert (build / "deps" / "requirements.txt").read_text() == "mlflow-skinny==3\n"
    assert (build / "app" / "ml" / "model" / "MLmodel").exists()
    assert (build / "app" / "sagewiz" / "server.py").read_text().startswith('"""The serving image')


def test_tutorial_request_is_wrapped_for_mlflow_and_others_pass_through():
    body, content_type = server.tutorial_request(json.dumps(EXAMPLE).encode(),
                                                 "application/json; format=pandas-split; charset=utf-8")
    assert json.loads(body) == {"dataframe_split": EXAMPLE} and content_type == "application/json; charset=utf-8"
    wrapped = json.dumps({"dataframe_split": EXAMPLE}).encode()
    assert server.tutorial_request(wrapped, "application/json; format=pandas-split")[0] == wrapped
    assert server.tutorial_request(b"a,b\n1,2\n", "text/csv") == (b"a,b\n1,2\n", "text/csv")
    assert server.bind_port({}) == 8080 and server.bind_port({"SAGEMAKER_BIND_TO_PORT": "9000"}) == 9000


def test_wheel_platforms_cover_older_manylinux_tags_and_refuse_old_glibc():
    tags = wheelhouse.platform_tags((2, 36))
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
    with pytest.raises(StepError, match="glibc 2.12"):
        wheelhouse.platform_tags((2, 12))
    assert wheelhouse.key(["b", "a"], (3, 11), (2, 36)) == wheelhouse.key(["a", "b"], (3, 11), (2, 36))
    assert wheelhouse.key(["a"], (3, 11), (2, 36)) != wheelhouse.key(["a"], (3, 12), (2, 36))


def test_wheelhouse_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SAGEWIZ_CACHE_DIR", str(tmp_path))
    assert wheelhouse.cache_root() == tmp_path


def test_request_bodies():
    assert json.loads(scoring.dataframe_split(EXAMPLE)[0]) == {"dataframe_split": EXAMPLE}
    assert scoring.csv_body(EXAMPLE) == (b"a,b\n1.5,0.2\n4.0,1.3\n", "text/csv")
    assert scoring.tutorial_split(EXAMPLE)[1] == "application/json; format=pandas-split"
    with pytest.raises(StepError, match="input example"):
        scoring.dataframe_split({"data": []})
    assert scoring.parse_predictions('{"predictions": [1.0, 2.0]}') == [1.0, 2.0]
    assert scoring.same([1.0, 2.0000000001], [1.0, 2.0]) and not scoring.same([1.0], [1.1])


def test_push_refuses_what_sagemaker_rejects():
    refuse_unservable({"Os": "linux", "Architecture": "amd64"})
    with pytest.raises(StepError, match="linux/arm64.*amd64 images only"):
        refuse_unservable({"Os": "linux", "Architecture": "arm64"})
    refuse_index("application/vnd.docker.distribution.manifest.v2+json")
    with pytest.raises(StepError, match="index"):
        refuse_index("application/vnd.oci.image.index.v1+json")
