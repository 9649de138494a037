"""The bad-input table: each bad input gets a sentence and an exit code, and state and ledger stay unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.runtime.state import StateStore
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# (case id, sagewiz.toml text or None, CLI arguments, stdin, exit code, fragment of the message)
CASES = [
    ("region-shape", '[aws]\nregion = "moon-1"\n', ["status"], None, 2, "aws.region"),
    ("region-type", "[aws]\nregion = 5\n", ["status"], None, 2, "aws.region"),
    ("port-low", "[tracking]\nport = 80\n", ["status"], None, 2, "from 1024 to 65535"),
    ("port-high", "[tracking]\nport = 70000\n", ["status"], None, 2, "tracking.port"),
    ("port-string", '[tracking]\nport = "5000"\n', ["status"], None, 2, "tracking.port"),
    ("tracking-uri-scheme", '[tracking]\nuri = "ftp://mlflow"\n', ["status"], None, 2, "http(s) URL"),
    ("estimators-zero", "[train]\nn_estimators = 0\n", ["status"], None, 2, "train.n_estimators"),
    ("estimators-bool", "[train]\nn_estimators = true\n", ["status"], None, 2, "train.n_estimators"),
    ("experiment-empty", '[train]\nexperiment = " "\n', ["status"], None, 2, "train.experiment"),
    ("script-not-python", '[train]\nscript = "train.sh"\n', ["status"], None, 2, ".py file"),
    ("run-id-shape", '[model]\nrun_id = "latest"\n', ["status"], None, 2, "32-character hex"),
    ("deps-mode", '[image]\ndeps = "conda"\n', ["status"], None, 2, "pip or wheelhouse"),
    ("ecr-upper", '[image]\nrepository = "MyRepo"\n', ["status"], None, 2, "image.repository"),
    ("ecr-short", '[image]\nrepository = "a"\n', ["status"], None, 2, "image.repository"),
    ("ecr-trailing-dash", '[image]\nrepository = "repo-"\n', ["status"], None, 2, "image.repository"),
    ("role-space", '[iam]\nrole_name = "my role"\n', ["status"], None, 2, "iam.role_name"),
    ("role-too-long", f'[iam]\nrole_name = "{"r" * 65}"\n', ["status"], None, 2, "iam.role_name"),
    ("policy-choice", '[iam]\npolicy = "admin"\n', ["status"], None, 2, "least-privilege or managed"),
    ("endpoint-leading-dash", '[deploy]\nendpoint = "-iris"\n', ["status"], None, 2, "deploy.endpoint"),
    ("endpoint-underscore", '[deploy]\nendpoint = "my_endpoint"\n', ["status"], None, 2, "deploy.endpoint"),
    ("endpoint-too-long", f'[deploy]\nendpoint = "{"e" * 64}"\n', ["status"], None, 2, "1 to 63"),
    ("instance-type-shape", '[deploy]\ninstance_type = "m5.large"\n', ["status"], None, 2, "ml.m5.large"),
    ("instance-count", "[deploy]\ninstance_count = 11\n", ["status"], None, 2, "from 1 to 10"),
    ("bucket-upper", '[deploy]\nbucket = "My_Bucket"\n', ["status"], None, 2, "deploy.bucket"),
    ("bucket-short", '[deploy]\nbucket = "ab"\n', ["status"], None, 2, "deploy.bucket"),
    ("bucket-xn-prefix", '[deploy]\nbucket = "xn--bucket"\n', ["status"], None, 2, "deploy.bucket"),
    ("timeout-zero", "[deploy]\ntimeout_minutes = 0\n", ["status"], None, 2, "deploy.timeout_minutes"),
    ("sandbox-string", '[sandbox]\nenabled = "yes"\n', ["status"], None, 2, "sandbox.enabled"),
    ("sandbox-endpoint-scheme", '[sandbox]\naws_endpoint = "localhost:4566"\n', ["status"], None, 2, "http URL"),
    ("sandbox-registry-port", '[sandbox]\nregistry = "localhost"\n', ["status"], None, 2, "host:port"),
    ("unknown-key", "[deploy]\nendpiont = \"x\"\n", ["status"], None, 2, "Unknown setting deploy.endpiont"),
    ("toml-syntax", "[deploy\n", ["status"], None, 2, "not valid TOML"),
    ("only-unknown-step", None, ["run", "--only", "deplyo"], None, 2, "invalid choice"),
    ("range-reversed", None, ["run", "--from", "push", "--to", "image"], None, 2, "comes after"),
    ("set-without-value", None, ["run", "--set", "deploy.instance_count"], None, 2, "KEY=VALUE"),
    ("set-not-a-number", None, ["run", "--set", "deploy.instance_count=two"], None, 2, "deploy.instance_count"),
    ("set-unknown-key", None, ["run", "--set", "deploy.size=2"], None, 2, "Unknown setting"),
    ("region-flag", None, ["--region", "mars-central-9", "status"], None, 2, "aws.region"),
    ("run-id-flag", None, ["run", "--run-id", "newest"], None, 2, "model.run_id"),
    ("logs-unknown-step", None, ["logs", "nosuch"], None, 2, "invalid choice"),
    ("project-dir-missing", None, ["--project-dir", "/nonexistent/sagewiz", "status"], None, 2, "does not exist"),
    ("key-id-shape", None, ["credentials", "store"], "AKIA123\n" + "s" * 40 + "\n", 2, "AKIA"),
    ("secret-length", None, ["credentials", "store"], "AKIAIOSFODNN7EXAMPLE\nshort\n", 2, "40 characters"),
    ("unknown-flag", None, ["cleanup", "--force"], None, 2, "unrecognized arguments"),
]


def seed(project_dir: Path) -> None:
    """Done steps and a live ledger entry, so 'unchanged' means something."""
    store = StateStore(project_dir / ".sagewiz" / "state.json")
    store.update_record("environment", status="done", outputs=outputs_of("environment", python_version="3.11"))
    store.update_record("train", status="done", outputs=outputs_of("train", run_id="a" * 32))
    store.upsert_resource("sagemaker-endpoint", "sagewiz-iris", status="created", region="us-east-1")


@pytest.mark.parametrize("case, toml, args, stdin, code, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_explained_and_changes_nothing(tmp_path, case, toml, args, stdin, code, fragment):
    project_dir = tmp_path / "proj"
    (project_dir / ".sagewiz").mkdir(parents=True)
    seed(project_dir)
    if toml is not None:
        (project_dir / "sagewiz.toml").write_text(toml)
    before = (project_dir / ".sagewiz" / "state.json").read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBUS_"))}
    argv = args if "--project-dir" in args else ["--project-dir", str(project_dir), *args]
    result = subprocess.run([sys.executable, "-m", "tui.cli", *argv], input=stdin, capture_output=True,
                            text=True, env=env, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert fragment in output
    assert "Traceback" not in output
    assert (project_dir / ".sagewiz" / "state.json").read_bytes() == before
    assert not (project_dir / ".sagewiz" / "lock").exists()


# Inputs that only a running step can judge: (case id, step, settings, fragment). Exit code 1; the step is
# failed; every other step's record and the ledger stay as they were.
PREDICT_COLUMNS = ["petal length (cm)", "petal width (cm)"]
STEP_CASES = [
    ("rows-broken-json", "predict", {"predict.input": "[[1.4, 0.2"}, "not valid JSON"),
    ("rows-too-few-values", "predict", {"predict.input": "[[1.4]]"}, "needs 2"),
    ("rows-not-numbers", "predict", {"predict.input": '[["wide", 0.2]]'}, "is not a number"),
    ("rows-missing-column", "predict", {"predict.input": '[{"petal length (cm)": 1.4}]'}, "lacks petal width"),
    ("rows-csv-header", "predict", {"predict.input": "length,width\n1.4,0.2"}, "CSV header lacks"),
    ("rows-csv-no-rows", "predict", {"predict.input": "petal length (cm),petal width (cm)\n"}, "no rows"),
    ("rows-file-missing", "predict", {"predict.input": "no-such-rows.csv"}, "does not exist"),
    ("script-crashes", "train", {"train.script": str(FIXTURES / "train_crash.py")}, "failed with exit code"),
    ("script-logs-no-model", "train", {"train.script": str(FIXTURES / "train_nomodel.py")}, "logged no model"),
    ("script-missing", "train", {"train.script": "no_such_train.py"}, "does not exist"),
]


ENDPOINT, REGION, ROLE = "sagewiz-iris", "us-east-1", "sagewiz-bad-inputs"


def _model_tarball(logged_model: dict, work: Path) -> Path:
    """The session's model as SageMaker's model.tar.gz (the MLflow model directory's files at the top level)."""
    import tarfile

    from core.tracking.models import local_copy

    model_dir = local_copy(logged_model, work / "model", lambda: logged_model["tracking_uri"])
    tarball = work / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        for item in sorted(model_dir.iterdir()):
            archive.add(item, arcname=item.name)
    return tarball


def _deploy_in_emulator(moto_url: str, pushed_image: dict, tarball: Path) -> dict:
    """The emulator reset, then the endpoint ENDPOINT created as SageMaker needs it and waited on until InService:
    the session's serving image in the emulator's ECR, the model tarball in S3, and an execution role SageMaker may
    assume whose least-privilege policy lets it pull that image and read that tarball. The push step's outputs."""
    from core.aws import iam_policy
    from tests.plugins.aws_fixtures import moto_reset, register_image, sandbox_client

    moto_reset(moto_url)
    push = register_image(moto_url, pushed_image)
    account = sandbox_client(moto_url, "sts").get_caller_identity()["Account"]
    bucket, prefix = f"sagewiz-{account}-{REGION}", f"sagewiz/{ENDPOINT}"
    key = f"{prefix}/m/model.tar.gz"
    s3 = sandbox_client(moto_url, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(tarball), bucket, key)
    iam = sandbox_client(moto_url, "iam")
    role_arn = iam.create_role(RoleName=ROLE,
                               AssumeRolePolicyDocument=json.dumps(iam_policy.TRUST_POLICY))["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="sagewiz-execution", PolicyDocument=json.dumps(
        iam_policy.execution_policy(account, REGION, pushed_image["repository"], bucket, prefix, ENDPOINT)))
    sagemaker = sandbox_client(moto_url, "sagemaker")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn=role_arn,
                           PrimaryContainer={"Image": push["image_uri"], "ModelDataUrl": f"s3://{bucket}/{key}"})
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="c")
    # as on SageMaker: Creating while the container starts, InService once it answers GET /ping
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 600})
    return push


def _in_service(moto_url: str) -> bool:
    import botocore.exceptions

    from tests.plugins.aws_fixtures import sandbox_client

    try:
        described = sandbox_client(moto_url, "sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    except botocore.exceptions.ClientError:
        return False
    return described["EndpointStatus"] == "InService"


@pytest.fixture(scope="module")
def live_endpoint(moto_url, pushed_image, logged_model, tmp_path_factory):
    """live_endpoint() -> the push step's outputs, with ENDPOINT InService in the session's emulator. The endpoint
    is created once for the module (its container takes a while to start) and again whenever it is no longer
    InService; the cases only read it. Deleted at the end, so no container outlives the module."""
    from tests.plugins.aws_fixtures import sandbox_client

    tarball = _model_tarball(logged_model, tmp_path_factory.mktemp("bad-inputs-model"))
    pushed: dict = {}

    def ensure() -> dict:
        if not pushed or not _in_service(moto_url):
            pushed.update(_deploy_in_emulator(moto_url, pushed_image, tarball))
        return dict(pushed)

    yield ensure
    if pushed and _in_service(moto_url):
        sagemaker = sandbox_client(moto_url, "sagemaker")
        sagemaker.delete_endpoint(EndpointName=ENDPOINT)
        sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=ENDPOINT,
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 300})


def seed_for_steps(project_dir: Path, tracking_uri: str, moto_url: str, push: dict) -> None:
    """Done tracking, model, push and deploy steps; the endpoint really exists in the emulator, InService (see
    live_endpoint), so predict's inputs still hold and it gets as far as reading the rows."""
    seed(project_dir)
    store = StateStore(project_dir / ".sagewiz" / "state.json")
    store.update_record("tracking", status="done", outputs=outputs_of("tracking", tracking_uri=tracking_uri))
    store.update_record("model", status="done", outputs=outputs_of("model", input_example={
        "columns": PREDICT_COLUMNS, "data": [[1.4, 0.2]]}))
    store.update_record("push", status="done", outputs=push)
    store.update_record("deploy", status="done", outputs=outputs_of("deploy", endpoint_name=ENDPOINT,
                                                                    region=REGION))
    (project_dir / "sagewiz.toml").write_text(f'[sandbox]\nenabled = true\naws_endpoint = "{moto_url}"\n')


@pytest.mark.parametrize("case, step, settings, fragment", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_bad_step_input_fails_the_step_with_a_sentence(tmp_path, mlflow_server, moto_url, live_endpoint, case, step,
                                                       settings, fragment):
    project_dir = tmp_path / "proj"
    (project_dir / ".sagewiz").mkdir(parents=True)
    seed_for_steps(project_dir, mlflow_server.url, moto_url, live_endpoint())
    before = json.loads((project_dir / ".sagewiz" / "state.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    sets = [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--project-dir", str(project_dir), "run", "--only",
                             step, *sets], capture_output=True, text=True, env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert fragment in " ".join(output.split())
    after = json.loads((project_dir / ".sagewiz" / "state.json").read_text())
    assert after["steps"][step]["status"] == "failed"
    assert fragment in " ".join(after["steps"][step]["error"].split())
    assert "Traceback" not in after["steps"][step]["error"]  # a crashing script's own traceback is only logged
    assert after["ledger"] == before["ledger"]
    assert {k: v for k, v in after["steps"].items() if k != step} == \
        {k: v for k, v in before["steps"].items() if k != step}


def test_the_tables_hold_at_least_forty_bad_inputs():
    assert len(CASES) + len(STEP_CASES) >= 40
