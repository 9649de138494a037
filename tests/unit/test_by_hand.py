"""Each step's commands by hand, and the exported files, rendered from a project's settings and state."""

from __future__ import annotations

import ast
import json

import pytest

from core import export
from core.runtime.redact import redactor
from core.steps import STEPS
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.unit

ACCOUNT = "210987654321"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/my-role"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/my-repo@sha256:{'c' * 64}"
EXAMPLE = {"columns": ["petal length (cm)", "petal width (cm)"], "data": [[1.4, 0.2]]}
# What the scripts may import: the standard library and the four packages the issue allows.
ALLOWED = {"argparse", "base64", "contextlib", "json", "os", "re", "shutil", "sys", "tarfile", "tempfile", "time",
           "pathlib", "urllib", "boto3", "botocore", "docker", "mlflow", "sklearn"}


@pytest.fixture
def deployed(project):
    """A project whose state holds the outputs of a whole run, in eu-west-1 with its own names."""
    for key, value in {"aws.region": "eu-west-1", "iam.role_name": "my-role", "image.repository": "my-repo",
                       "deploy.endpoint": "my-endpoint", "train.experiment": "my-exp"}.items():
        project.settings.set(key, value)
    outputs = {
        "tracking": {"tracking_uri": "http://127.0.0.1:5123", "ui_url": "http://127.0.0.1:5123", "managed": True},
        "train": {"experiment_id": "7", "run_id": "a" * 32, "model_uri": f"runs:/{'a' * 32}/random-forest-model"},
        "model": {"run_id": "a" * 32, "model_uri": f"runs:/{'a' * 32}/random-forest-model",
                  "tracking_uri": "http://127.0.0.1:5123", "flavor": "sklearn", "python_version": "3.12.4",
                  "requirements": ["mlflow==3.1.0", "scikit-learn==1.5.0", "numpy==2.0"], "input_example": EXAMPLE},
        "credentials": {"source": "keyring", "key_id_last4": "WXYZ", "account": ACCOUNT,
                        "arn": f"arn:aws:iam::{ACCOUNT}:user/me", "principal_type": "user", "region": "eu-west-1"},
        "iam": {"role_arn": ROLE_ARN, "role_name": "my-role", "policy": "least-privilege",
                "policy_document": {"Version": "2012-10-17", "Statement": [{"Sid": "PullModelImage"}]}},
        "image": {"image_id": "sha256:" + "d" * 64, "tag": "my-repo:abc", "python_version": "3.12.4"},
        "push": {"repository_uri": IMAGE.split("@")[0], "image_uri": IMAGE, "digest": "sha256:" + "c" * 64},
        "deploy": {"endpoint_name": "my-endpoint", "endpoint_config": "my-endpoint-20250101-000000",
                   "model_name": "my-endpoint-20250101-000000", "bucket": "my-bucket", "region": "eu-west-1",
                   "model_data_url": "s3://my-bucket/sagewiz/my-endpoint/m/model.tar.gz", "status": "InService"},
    }
    for step, values in outputs.items():
        project.state.update_record(step, status="done", outputs=outputs_of(step, **values))
    return project


def test_without_a_project_the_generic_manual_is_shown():
    for step in STEPS:
        assert STEPS.by_hand(step.id, None) == step.manual


def test_every_step_renders_before_anything_ran_with_placeholders(project):
    for step in STEPS:
        text = STEPS.by_hand(step.id, project)
        assert text and text != step.manual, step.id
    assert "<role_arn>" in STEPS.by_hand("deploy", project)
    assert "--region us-east-1" in STEPS.by_hand("credentials", project)


def test_deploy_and_predict_show_the_projects_values(deployed):
    deploy = STEPS.by_hand("deploy", deployed)
    for value in (ROLE_ARN, IMAGE, "my-endpoint-20250101-000000", "s3://my-bucket/sagewiz/my-endpoint/m/model.tar.gz",
                  "--region eu-west-1", "InstanceType=ml.m5.large"):
        assert value in deploy
    predict = STEPS.by_hand("predict", deployed)
    assert 'EndpointName="my-endpoint"' in predict
    assert json.dumps({"dataframe_split": EXAMPLE}) in predict


def test_credentials_show_the_identity_call_and_no_key(deployed):
    text = STEPS.by_hand("credentials", deployed)
    assert "aws sts get-caller-identity --query Account --output text --region eu-west-1" in text
    assert ACCOUNT in text and "keyring" in text and "WXYZ" not in text


def test_iam_shows_the_trust_and_the_roles_policy(deployed):
    text = STEPS.by_hand("iam", deployed)
    assert '"Service": "sagemaker.amazonaws.com"' in text and '"Sid": "PullModelImage"' in text
    assert "put-role-policy --region eu-west-1 --role-name my-role" in text
    deployed.settings.set("iam.policy", "managed")
    deployed.state.update_record("iam", outputs=outputs_of("iam", role_arn=ROLE_ARN, role_name="my-role",
                                                           policy="managed", policy_document={
                                                               "Version": "2012-10-17",
                                                               "Statement": [{"Sid": "ReadModelData"}]}))
    managed = STEPS.by_hand("iam", deployed)
    assert "attach-role-policy" in managed and "AmazonSageMakerFullAccess" in managed
    # the managed policy reads only buckets named after SageMaker: the model's read comes beside it
    assert "put-role-policy" in managed and '"Sid": "ReadModelData"' in managed
    assert "PullModelImage" not in managed


def test_image_shows_the_dockerfile_for_the_models_python(deployed):
    text = STEPS.by_hand("image", deployed)
    assert "FROM python:3.12-slim" in text and "--port 8080" in text
    assert "docker build --platform linux/amd64 -t my-repo:abc ." in text
    assert "docker run --rm -d --name smoke -p 8080:8080 my-repo:abc serve" in STEPS.by_hand("smoke", deployed)


def test_sandbox_commands_point_the_aws_cli_at_the_emulator(deployed):
    deployed.settings.set("sandbox.enabled", True)
    deployed.settings.set("sandbox.aws_endpoint", "http://127.0.0.1:4566")
    assert "--endpoint-url http://127.0.0.1:4566" in STEPS.by_hand("cleanup", deployed)


def test_a_secret_that_reached_state_is_masked(deployed):
    secret = "UnitTestSecretValue/abcdefghijklmnopqrstu"
    redactor.register(secret)
    deployed.state.update_record("deploy", outputs=outputs_of("deploy", endpoint_name="my-endpoint", bucket=secret))
    text = STEPS.by_hand("cleanup", deployed)
    assert secret not in text and "****" in text


def test_exported_scripts_compile_and_import_only_the_allowed_packages(deployed):
    content = export.files(deployed)
    assert set(content) >= {"train.py", "build_and_push.py", "deploy.py", "predict.py", "cleanup.py", "README.md",
                            "Dockerfile", "trust-policy.json", "iam-policy.json", "BY-HAND.md"}
    for name in export.SCRIPTS:
        tree = ast.parse(content[name], name)
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported <= ALLOWED, (name, imported - ALLOWED)
        assert "__VALUES__" not in content[name]


def test_exported_values_are_the_projects(deployed):
    content = export.files(deployed)
    namespace = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(content["deploy.py"]).body
                 if isinstance(node, ast.Assign)}
    assert (namespace["ROLE_ARN"], namespace["IMAGE_URI"], namespace["REGION"], namespace["BUCKET"]) == \
        (ROLE_ARN, IMAGE, "eu-west-1", "my-bucket")
    assert "KNOWN_MODELS = ['my-endpoint-20250101-000000']" in content["cleanup.py"]
    assert f"INPUT_EXAMPLE = {EXAMPLE!r}" in content["predict.py"]
    assert "EXPERIMENT = 'my-exp'" in content["train.py"]
    assert "SANDBOX" not in content["README.md"] and ROLE_ARN in content["README.md"]
    # the embedded server stops with sagewiz: the README says how to start it
    started = f"mlflow server --host 127.0.0.1 --port 5123 \\\n  --backend-store-uri sqlite:///{deployed.mlflow_dir}"
    assert started + "/mlflow.db" in content["README.md"]


def test_the_ledger_adds_resources_to_clean_up(deployed):
    deployed.state.upsert_resource("sagemaker_model", "my-endpoint-20240101-000000", status="created")
    deployed.state.upsert_resource("sagemaker_model", "gone-model", status="deleted")
    content = export.files(deployed)["cleanup.py"]
    assert "KNOWN_MODELS = ['my-endpoint-20240101-000000', 'my-endpoint-20250101-000000']" in content


def test_by_hand_md_has_every_step_in_order_with_the_projects_values(deployed):
    text = export.files(deployed)["BY-HAND.md"]
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [f"## {n}. {step.title} (`{step.id}`)" for n, step in enumerate(STEPS, 1)]
    assert STEPS.by_hand("deploy", deployed).strip() in text and ROLE_ARN in text
