"""A caller without a permission gets a message naming it and saying what to do.

A moto server of its own enforces IAM (INITIAL_NO_AUTH_ACTION_COUNT: after the setup calls, every request
must be signed by a known key whose policies allow the action), with restricted users made during setup."""

from __future__ import annotations

import json

import pytest

from core.runtime.errors import StepError
from tests.plugins.aws_fixtures import point_at, run_step_directly, sandbox_client, start_moto, stop_moto
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration

EXISTING_ROLE = "prepared-execution-role"
# Each user may do everything the AWS steps do except one action.
LACKING = {"no-create-role": "iam:CreateRole", "no-create-model": "sagemaker:CreateModel"}
SETUP_CALLS = 1 + 3 * len(LACKING)  # create_role, then create_user, put_user_policy, create_access_key each


@pytest.fixture(scope="module")
def enforcing_moto():
    """The emulator enforcing IAM after setup; {user: (key id, secret)} and the prepared role's ARN."""
    server = start_moto(INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS))
    try:
        iam = sandbox_client(server.url, "iam")
        role_arn = iam.create_role(RoleName=EXISTING_ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "sagemaker.amazonaws.com"}}]}),
        )["Role"]["Arn"]
        keys = {}
        for user, missing in LACKING.items():
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="almost-everything", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["sts:*", "iam:*", "s3:*", "ecr:*", "sagemaker:*", "logs:*"],
                     "Resource": "*"},
                    {"Effect": "Deny", "Action": missing, "Resource": "*"}]}))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
        with pytest.raises(Exception, match="InvalidClientTokenId|security token"):  # enforcing from here on
            sandbox_client(server.url, "iam").list_roles()
        yield server.url, keys, role_arn
    finally:
        stop_moto(server)


@pytest.fixture
def as_user(project, monkeypatch, enforcing_moto):
    """A factory: the project in real-AWS mode against the enforcing emulator, with `user`'s key in the env."""
    url, keys, _ = enforcing_moto

    def use(user):
        point_at(project, monkeypatch, url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[user][0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[user][1])
        return project

    return use


def test_iam_without_create_role_names_the_permission(as_user, step_ctx_for):
    project = as_user("no-create-role")
    step_ctx = step_ctx_for(project)
    assert run_step_directly(step_ctx, "credentials")["arn"].endswith(":user/no-create-role")
    with pytest.raises(StepError) as failure:
        run_step_directly(step_ctx, "iam")
    message = str(failure.value)
    assert "iam:CreateRole" in message and "Ask your AWS administrator to allow iam:CreateRole" in message
    assert [(e["kind"], e["status"]) for e in project.state.ledger()] == [("iam_role", "intent")]


def test_deploy_without_create_model_names_the_permission(as_user, step_ctx_for, enforcing_moto, tmp_path):
    project = as_user("no-create-model")
    step_ctx = step_ctx_for(project)
    run_step_directly(step_ctx, "credentials")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    project.state.update_record("model", status="done", outputs=outputs_of(
        "model", model_uri=str(model_dir), tracking_uri=""))
    project.state.update_record("iam", status="done", outputs=outputs_of("iam", role_arn=enforcing_moto[2]))
    project.state.update_record("push", status="done", outputs=outputs_of(
        "push", image_uri=f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sagewiz-model@sha256:{'a' * 64}"))
    with pytest.raises(StepError) as failure:
        run_step_directly(step_ctx, "deploy")
    message = str(failure.value)
    assert "sagemaker:CreateModel" in message and "Ask your AWS administrator to allow sagemaker:CreateModel" in message
    assert "is not authorized to perform" in message and "<" not in message  # the AWS text, not its XML body
