"""credentials and iam steps against moto server."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from core.runtime.engine import Engine
from core.runtime.events import LogLine
from core.steps import STEPS
from tests.plugins.aws_fixtures import run_step_directly

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/sagewiz-sagemaker-execution"
REPOSITORY = "arn:aws:ecr:us-east-1:123456789012:repository/sagewiz-model"
BUCKET = "arn:aws:s3:::sagewiz-123456789012-us-east-1"
ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sagewiz-iris"
STALE = ("The role's policy no longer matches the settings (deploy.endpoint, deploy.bucket or image.repository "
         "changed); run the iam step again.")


class Simulator:
    """IAM's policy simulator, which moto lacks, answered inside the step's own boto3 clients: it records each
    request and denies the actions in `denied`."""

    def __init__(self):
        self.requests = []
        self.denied = set()

    def pairs(self):
        return {(action, resource) for request in self.requests for action in request["ActionNames"]
                for resource in request.get("ResourceArns", ["*"])}

    def record(self, params, **kwargs):
        self.requests.append(dict(params))

    def answer(self, **kwargs):
        results = [{"EvalActionName": action, "EvalResourceName": resource,
                    "EvalDecision": "implicitDeny" if action in self.denied else "allowed"}
                   for action in self.requests[-1]["ActionNames"]
                   for resource in self.requests[-1].get("ResourceArns", ["*"])]
        return SimpleNamespace(status_code=200, headers={}), {"EvaluationResults": results, "IsTruncated": False}


@pytest.fixture
def simulator(monkeypatch):
    from core.aws import clients

    simulated = Simulator()
    make = clients.client

    def client(*args, **kwargs):
        made = make(*args, **kwargs)
        made.meta.events.register("before-parameter-build.iam.SimulatePrincipalPolicy", simulated.record)
        made.meta.events.register("before-call.iam.SimulatePrincipalPolicy", simulated.answer)
        return made

    monkeypatch.setattr(clients, "client", client)
    return simulated


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


def test_iam_simulates_the_callers_actions_on_the_resources_they_act_on(step_ctx, sandbox_project, simulator):
    from core.aws import clients as aws

    run_step_directly(step_ctx, "credentials")
    run_step_directly(step_ctx, "iam")
    first = simulator.pairs()
    assert all(len(request.get("ResourceArns", [])) <= 1 for request in simulator.requests)
    assert {("iam:CreateRole", ROLE), ("iam:TagRole", ROLE), ("iam:PassRole", ROLE),
            ("ecr:CreateRepository", REPOSITORY), ("ecr:TagResource", REPOSITORY), ("ecr:PutImage", REPOSITORY),
            ("s3:CreateBucket", BUCKET), ("s3:PutObject", f"{BUCKET}/sagewiz/sagewiz-iris/*"),
            ("sagemaker:CreateEndpoint", ENDPOINT), ("sagemaker:AddTags", ENDPOINT)} <= first
    assert ("sagemaker:CreateEndpoint", "*") not in first

    # the role exists now; the bucket and the repository too
    aws.client(sandbox_project, "s3").create_bucket(Bucket="sagewiz-123456789012-us-east-1")
    aws.client(sandbox_project, "ecr").create_repository(repositoryName="sagewiz-model")
    simulator.requests.clear()
    run_step_directly(step_ctx, "iam")
    again = simulator.pairs()
    assert not {"iam:CreateRole", "iam:TagRole", "ecr:CreateRepository", "ecr:TagResource",
                "s3:CreateBucket"} & {action for action, _ in again}
    assert {("iam:PutRolePolicy", ROLE), ("iam:PassRole", ROLE), ("ecr:PutImage", REPOSITORY)} <= again


def test_iam_warns_about_what_the_simulator_denies_and_goes_on(step_ctx, sandbox_project, recorder, simulator):
    run_step_directly(step_ctx, "credentials")
    simulator.denied = {"iam:PassRole", "sagemaker:AddTags"}
    outputs = run_step_directly(step_ctx, "iam")
    assert outputs["created"]
    warnings = [e.text for e in recorder.of(LogLine) if e.step == "iam" and e.level == "warn"]
    assert len(warnings) == 1
    assert f"iam:PassRole on {ROLE}" in warnings[0] and f"sagemaker:AddTags on {ENDPOINT}" in warnings[0]


@pytest.mark.parametrize("key,value", [("deploy.endpoint", "iris-prod"), ("deploy.bucket", "my-model-bucket"),
                                       ("image.repository", "team/iris")])
def test_a_setting_the_roles_policy_is_built_from_makes_iam_stale(step_ctx, sandbox_project, bus, key, value):
    run_step_directly(step_ctx, "credentials")
    run_step_directly(step_ctx, "iam")
    iam = STEPS.get("iam")
    assert iam.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) is None
    sandbox_project.settings.set(key, value)
    assert iam.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) == STALE
    # the engine asks before the deploy step, which consumes the role: iam turns stale and deploy waits for it
    engine = Engine(STEPS, sandbox_project, bus, lambda question, details: True)
    assert engine.run(only="deploy") is False
    assert sandbox_project.state.status("iam") == "stale"
    assert STALE in sandbox_project.state.record("deploy")["error"]
    run_step_directly(step_ctx, "iam")
    assert iam.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) is None


def test_iam_managed_policy_lets_the_role_read_the_model_and_is_verified(step_ctx, sandbox_project):
    from core.aws import clients as aws

    run_step_directly(step_ctx, "credentials")
    sandbox_project.settings.set("iam.policy", "managed")
    run_step_directly(step_ctx, "iam")
    iam = aws.client(sandbox_project, "iam")
    inline = iam.get_role_policy(RoleName="sagewiz-sagemaker-execution", PolicyName="sagewiz-execution")
    assert inline["PolicyDocument"]["Statement"] == [{
        "Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::sagewiz-123456789012-us-east-1/sagewiz/sagewiz-iris/*"}]
    step = STEPS.get("iam")
    assert step.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) is None
    sandbox_project.settings.set("deploy.bucket", "my-model-bucket")
    assert step.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) == STALE
    sandbox_project.settings.set("deploy.bucket", "")
    iam.detach_role_policy(RoleName="sagewiz-sagemaker-execution",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    assert "AmazonSageMakerFullAccess" in step.verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam"))


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.tui
@pytest.mark.anyio
async def test_the_iam_form_shows_the_policys_settings_and_a_change_there_makes_iam_stale(step_ctx, sandbox_project):
    from textual.widgets import Input

    from tests.tui.conftest import wait_until
    from tui.app import WizardApp

    run_step_directly(step_ctx, "credentials")
    run_step_directly(step_ctx, "iam")
    app = WizardApp(sandbox_project)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.select_step("iam")
        await pilot.pause()
        for key in ("iam.role_name", "iam.policy", "deploy.endpoint", "deploy.bucket", "image.repository"):
            assert app.query_one(f"#field-{key.replace('.', '-').replace('_', '-')}")
        app.query_one("#field-deploy-endpoint", Input).value = "iris-prod"
        await wait_until(pilot, lambda: sandbox_project.settings["deploy.endpoint"] == "iris-prod",
                         what="the form to save deploy.endpoint")
    assert STEPS.get("iam").verify(step_ctx("iam"), STEPS.outputs(sandbox_project, "iam")) == STALE
