"""`sagewiz export` end to end: the exported scripts run as plain Python against real MLflow, moto and a
real scoring server, and no exported file holds the secret key stored in the keyring."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

from core.runtime.ports import any_free
from tests.plugins.aws_fixtures import moto_reset, register_image, require_test_keyring, sandbox_client
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration

# A key pair shaped like AWS's, stored in the test session's keyring.
KEY_ID = "AKIAEXPORTTEST000042"
SECRET = "ExportTestSecretKey/0123456789abcdefGHIJ"


def _script_env(moto_url: str | None = None) -> dict[str, str]:
    """A clean environment: the default AWS credential chain sees only what the test sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    if moto_url:
        env.update(AWS_ENDPOINT_URL=moto_url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def _run(directory: Path, script: str, *args: str, env: dict[str, str], timeout: float = 300):
    return subprocess.run([sys.executable, script, *args], cwd=directory, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _export(root: Path, directory: Path) -> None:
    from tui.cli import main

    assert main(["export", str(directory), "--project-dir", str(root)]) == 0


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, moto_url, pushed_image):
    """A sandbox project whose credentials and iam steps ran for real against the strict emulator, whose model was
    trained by the exported train.py into a sqlite MLflow store, and whose image is the session's serving image,
    pushed to the stack registry and in the emulator's ECR (image.repository names its repository, so the iam
    step's policy lets SageMaker pull it)."""
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from core.runtime.project import Project
    from core.runtime.settings import Settings, save_settings
    from core.steps import STEPS

    moto_reset(moto_url)
    root = tmp_path_factory.mktemp("exported") / "proj"
    root.mkdir()
    save_settings(root, Settings({"sandbox.enabled": True, "sandbox.aws_endpoint": moto_url,
                                  "image.repository": pushed_image["repository"]}))

    first = root / "first-export"
    _export(root, first)
    store = f"sqlite:///{root / 'mlflow.db'}"
    trained = _run(first, "train.py", "--tracking-uri", store, "--n-estimators", "20", env=_script_env())
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_id = re.search(r"run id: ([0-9a-f]{32})", trained.stdout).group(1)
    model_uri = re.search(r"model uri: (\S+)", trained.stdout).group(1)

    project = Project(root).open()
    try:
        engine = Engine(STEPS, project, EventBus(), confirm=lambda question, details: True)
        assert engine.run(only="credentials") and engine.run(only="iam"), project.state.record("iam")
        account = project.state.outputs("credentials")["account"]
        push = register_image(moto_url, pushed_image)
        example = {"columns": ["petal length (cm)", "petal width (cm)"], "data": [[1.4, 0.2], [5.1, 1.8]]}
        project.state.update_record("tracking", status="done", outputs=outputs_of(
            "tracking", tracking_uri=store, managed=False))
        project.state.update_record("train", status="done", outputs=outputs_of(
            "train", run_id=run_id, model_uri=model_uri))
        project.state.update_record("model", status="done", outputs=outputs_of(
            "model", run_id=run_id, model_uri=model_uri, tracking_uri=store, flavor="sklearn", python_version="3.11.2",
            requirements=[], input_example=example))
        project.state.update_record("push", status="done", outputs=push)
    finally:
        project.close()
    return {"root": root, "run_id": run_id, "model_uri": model_uri, "store": store, "account": account,
            "example": example, "moto": moto_url, "digest": push["digest"]}


@contextlib.contextmanager
def _stored_key():
    """The test key pair in the session's keyring while the block runs."""
    from core.aws import keys as aws_keys

    require_test_keyring()
    aws_keys.store(KEY_ID, SECRET)
    try:
        yield
    finally:
        aws_keys.forget()


@pytest.fixture(scope="module")
def exported(pipeline, tmp_path_factory):
    """The export of the pipeline's project, made while the test keyring holds a key pair."""
    directory = tmp_path_factory.mktemp("out") / "sagewiz-export"
    with _stored_key():
        _export(pipeline["root"], directory)
    return directory


def test_export_fills_in_the_pipeline_values_and_holds_no_secret(exported, pipeline):
    names = sorted(p.name for p in exported.iterdir())
    assert names == ["BY-HAND.md", "Dockerfile", "README.md", "build_and_push.py", "cleanup.py", "deploy.py",
                     "iam-policy.json", "predict.py", "train.py", "trust-policy.json"]
    deploy = (exported / "deploy.py").read_text()
    assert f"MODEL_URI = {pipeline['model_uri']!r}" in deploy
    assert f"ROLE_ARN = 'arn:aws:iam::{pipeline['account']}:role/sagewiz-sagemaker-execution'" in deploy
    readme = (exported / "README.md").read_text()
    assert pipeline["run_id"] in readme and "SANDBOX" in readme and pipeline["moto"] in readme
    policy = json.loads((exported / "iam-policy.json").read_text())
    assert policy["Statement"], "the iam step's least-privilege policy is exported"
    for path in exported.iterdir():
        text = path.read_text()
        assert SECRET not in text and KEY_ID not in text, path.name


def test_export_refuses_to_write_a_stored_secret(tmp_path):
    """A secret pasted into a setting (here inside the tracking URI) stops the export before any file is written."""
    from tui.cli import main

    root = tmp_path / "proj"
    root.mkdir()
    (root / "sagewiz.toml").write_text(f'[tracking]\nuri = "http://me:{SECRET}@mlflow.example.com"\n')
    with _stored_key():
        assert main(["export", str(tmp_path / "refused"), "--project-dir", str(root)]) == 1
    assert not (tmp_path / "refused").exists()


def _predictions(output: str) -> list[float]:
    return json.loads(re.search(r"^predictions: (.*)$", output, re.M).group(1))


@pytest.fixture(scope="module")
def scoring_server(pipeline):
    """MLflow's scoring server for the trained model on a free port: the process the exported Dockerfile runs."""
    port = any_free()
    env = {**_script_env(), "MLFLOW_TRACKING_URI": pipeline["store"]}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # it starts uvicorn by name
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "--model-uri", pipeline["model_uri"],
                             "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=pipeline["root"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/ping", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"mlflow models serve did not answer on {url}: {proc.communicate()[1][-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def _model_predicts(store: str, model_uri: str, example: dict, cwd) -> list[float]:
    """The model's own predictions for the example, in a child so this process's MLflow state stays clean."""
    expected = subprocess.run(
        [sys.executable, "-c", "import json, sys, mlflow, pandas as pd; mlflow.set_tracking_uri(sys.argv[1]); "
         "m = mlflow.pyfunc.load_model(sys.argv[2]); "
         "print(json.dumps([float(x) for x in m.predict(pd.DataFrame(**json.loads(sys.argv[3])))]))",
         store, model_uri, json.dumps(example)],
        cwd=cwd, env=_script_env(), capture_output=True, text=True, timeout=120)
    assert expected.returncode == 0, expected.stderr[-2000:]
    return json.loads(expected.stdout)


def test_predict_local_url_gets_the_models_own_predictions(exported, pipeline, scoring_server):
    expected = _model_predicts(pipeline["store"], pipeline["model_uri"], pipeline["example"], pipeline["root"])
    answer = _run(exported, "predict.py", "--local-url", scoring_server, env=_script_env(), timeout=120)
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert "ping: HTTP 200" in answer.stdout
    assert _predictions(answer.stdout) == pytest.approx(expected)


def _managed_policy_alone_reads_the_model(url: str, container: dict) -> None:
    """README step 3 offers the managed policy AmazonSageMakerFullAccess instead of iam-policy.json; SageMaker must
    accept deploy.py's model (image and model data) as a role with that policy alone. That policy reads S3 only in
    buckets named after SageMaker or objects tagged SageMaker=true. The check's model and role are removed."""
    from core.aws import iam_policy

    iam, sagemaker = sandbox_client(url, "iam"), sandbox_client(url, "sagemaker")
    role, model, managed = "sagewiz-export-managed-only", "sagewiz-export-managed-only", \
        iam_policy.managed_policy_arn("us-east-1")
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(iam_policy.TRUST_POLICY))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=managed)
    try:
        sagemaker.create_model(ModelName=model, ExecutionRoleArn=arn, PrimaryContainer={
            "Image": container["Image"], "ModelDataUrl": container["ModelDataUrl"]})
        sagemaker.delete_model(ModelName=model)
    finally:
        iam.detach_role_policy(RoleName=role, PolicyArn=managed)
        iam.delete_role(RoleName=role)


def test_deploy_predict_and_cleanup_against_the_emulator(exported, pipeline):
    """The scripts as a user runs them, against the strict emulator: deploy.py's endpoint runs the serving image
    with the uploaded model, and predict.py's InvokeEndpoint gets that model's own predictions."""
    env = _script_env(pipeline["moto"])
    sagemaker, s3 = (sandbox_client(pipeline["moto"], service) for service in ("sagemaker", "s3"))

    deployed = _run(exported, "deploy.py", env=env)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert sagemaker.describe_endpoint(EndpointName="sagewiz-iris")["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint(EndpointName="sagewiz-iris")["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]
    container = sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]
    assert container["Image"].endswith("@" + pipeline["digest"])
    bucket = f"sagewiz-{pipeline['account']}-us-east-1"
    key = container["ModelDataUrl"].removeprefix(f"s3://{bucket}/")
    assert key.startswith("sagewiz/sagewiz-iris/") and key.endswith("/model.tar.gz")
    tarball = pipeline["root"] / "downloaded.tar.gz"
    s3.download_file(bucket, key, str(tarball))
    with tarfile.open(tarball) as tar:
        assert "MLmodel" in tar.getnames()
    _managed_policy_alone_reads_the_model(pipeline["moto"], container)

    status = _run(exported, "predict.py", "--status", env=env)
    assert status.returncode == 0 and "sagewiz-iris: InService" in status.stdout, status.stderr[-2000:]
    expected = _model_predicts(pipeline["store"], pipeline["model_uri"], pipeline["example"], pipeline["root"])
    invoked = _run(exported, "predict.py", env=env)  # InvokeEndpoint, answered by the endpoint's container
    assert invoked.returncode == 0, invoked.stderr[-2000:]
    assert _predictions(invoked.stdout) == pytest.approx(expected)

    cleaned = _run(exported, "cleanup.py", "--all", "--yes", env=env)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr[-3000:]
    assert "Nothing billable is left" in cleaned.stdout
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert sandbox_client(pipeline["moto"], "ecr").describe_repositories()["repositories"] == []
    roles = sandbox_client(pipeline["moto"], "iam").list_roles()["Roles"]
    assert all(r["RoleName"] != "sagewiz-sagemaker-execution" for r in roles)

    after = _run(exported, "predict.py", "--status", env=env)
    assert after.returncode != 0 and "was not found" in after.stderr


def test_predict_local_url_against_the_sagewiz_serving_image(exported, pipeline, built_image, logged_model):
    """The same script against the image the image step builds, served as SageMaker would run it."""
    from core.container.serving import host_port, serve

    expected = _model_predicts(logged_model["tracking_uri"], logged_model["model_uri"], pipeline["example"],
                               pipeline["root"])
    with serve(built_image["outputs"]["image_id"], port=host_port(), on_log=lambda line: None) as url:
        answer = _run(exported, "predict.py", "--local-url", url, env=_script_env(), timeout=120)
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert "ping: HTTP 200" in answer.stdout
    assert _predictions(answer.stdout) == pytest.approx(expected)
