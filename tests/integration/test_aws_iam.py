"""credentials and iam steps against moto server."""

from __future__ import annotations

import json

import pytest

from core.steps import STEPS
from tests.plugins.aws_fixtures import run_step_directly

pytestmark = pytest.mark.integration


def test_credentials_reports_the_sandbox_identity(step_ctx, recorder):
    outputs = run_step_directly(step_ctx, "credentials")
    assert outputs["source"] == "sandbox" and outputs["account"] == "123456789012"
    assert outputs["principal_type"] == "user" and outputs["region"] == "us-east-1"
    assert outputs["key_id_last4"] == "OX00"
    assert any("SANDBOX" in line for line in recorder.lines("credentials"))


def test_iam_creates_least_privilege_role_then_reuses_it(step_ctx, sandbox_project, recorder):
    from core.aws import clients as aws

    run_step_directly(step_ctx, "credentials")
    questions = []
    outputs = run_step_directly(step_ctx, "iam", lambda q, d: questions.append((q, d)) or True)
    assert outputs["role_arn"].endswith(":role/sagewiz-sagemaker-execution") and outputs["created"]
    # the JSON was shown before the role was created
    assert questions and '"sagemaker' not in questions[0][0] and "ecr:BatchGetImage" in questions[0][1]
    iam = aws.client(sandbox_project, "iam")
    policy = iam.get_role_policy(RoleName="sagewiz-sagemaker-execution", PolicyName="sagewiz-execution")
    resources = json.dumps(policy["PolicyDocument"])
    assert "repository/sagewiz-model" in resources
    assert "sagewiz-123456789012-us-east-1/sagewiz/sagewiz-iris/*" in resources
    assert '"Resource": "*"' not in resources.replace('"ecr:GetAuthorizationToken", "Resource": "*"', "") \
        .replace('"cloudwatch:PutMetricData", "Resource": "*"', "")
    trust = iam.get_role(RoleName="sagewiz-sagemaker-execution")["Role"]["AssumeRolePolicyDocument"]
    assert "sagemaker.amazonaws.com" in json.dumps(trust)
    ledger = {(e["kind"], e["id"]): e["status"] for e in sandbox_project.state.ledger()}
    assert ledger[("iam_role", "sagewiz-sagemaker-execution")] == "created"

    again = run_step_directly(step_ctx, "iam")
    assert again["role_arn"] == outputs["role_arn"] and not again["created"]
    assert STEPS.get("iam").verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) is None


def test_iam_managed_policy_attaches_sagemaker_full_access(step_ctx, sandbox_project):
    from core.aws import clients as aws

    run_step_directly(step_ctx, "credentials")
    sandbox_project.settings.set("iam.policy", "managed")
    run_step_directly(step_ctx, "iam")
    attached = aws.client(sandbox_project, "iam").list_attached_role_policies(RoleName="sagewiz-sagemaker-execution")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AmazonSageMakerFullAccess"]


def test_iam_declined_creates_nothing(step_ctx, sandbox_project):
    from core.runtime.errors import StepError

    run_step_directly(step_ctx, "credentials")
    with pytest.raises(StepError, match="declined"):
        run_step_directly(step_ctx, "iam", lambda q, d: False)
    assert sandbox_project.state.ledger() == []
