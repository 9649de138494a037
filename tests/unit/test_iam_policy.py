"""The iam step without AWS: what the caller is simulated for, on which resources, and what a denial does."""

from __future__ import annotations

import botocore.exceptions
import pytest

from core.aws import iam_policy
from core.runtime.engine import Engine
from core.runtime.events import LogLine
from core.steps import STEPS
from core.steps.iam import IamStep

pytestmark = pytest.mark.unit

ACCOUNT, REGION = "123456789012", "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/exec"
REPOSITORY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/model"
BUCKET = "arn:aws:s3:::my-bucket"
OBJECTS = "arn:aws:s3:::my-bucket/sagewiz/Iris-Prod/*"
MODEL = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/iris-prod-20250101-000000"
CONFIG = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/iris-prod-cfg-20250101-000000"
ENDPOINT = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/iris-prod"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/Iris-Prod"
CREATES = {"iam:CreateRole", "iam:TagRole", "ecr:CreateRepository", "ecr:TagResource", "s3:CreateBucket",
           "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketTagging"}


def needs(**given):
    """The caller's needs for a project with an upper-case endpoint name, `given` changed."""
    args = {"account": ACCOUNT, "region": REGION, "role": "exec", "repository": "team/model", "bucket": "my-bucket",
            "prefix": "sagewiz/Iris-Prod", "endpoint": "Iris-Prod", "model": "Iris-Prod-20250101-000000",
            "endpoint_config": "Iris-Prod-cfg-20250101-000000", "managed": False, "everything": False,
            "existing": ()}
    return iam_policy.caller_needs(**{**args, **given})


def pairs(found):
    return {(action, need.resource) for need in found for action in need.actions}


def test_a_new_project_is_simulated_for_creating_everything_on_its_own_arns():
    found = pairs(needs())
    assert {("iam:GetRole", ROLE), ("iam:CreateRole", ROLE), ("iam:TagRole", ROLE), ("iam:PutRolePolicy", ROLE),
            ("iam:PassRole", ROLE),
            ("ecr:CreateRepository", REPOSITORY), ("ecr:TagResource", REPOSITORY), ("ecr:PutImage", REPOSITORY),
            ("ecr:InitiateLayerUpload", REPOSITORY), ("ecr:UploadLayerPart", REPOSITORY),
            ("ecr:CompleteLayerUpload", REPOSITORY), ("ecr:DescribeImages", REPOSITORY),
            ("s3:CreateBucket", BUCKET), ("s3:PutBucketPublicAccessBlock", BUCKET),
            ("s3:PutEncryptionConfiguration", BUCKET), ("s3:PutBucketTagging", BUCKET),
            ("s3:GetBucketLocation", BUCKET), ("s3:PutObject", OBJECTS), ("s3:DeleteObject", OBJECTS),
            ("sagemaker:CreateModel", MODEL), ("sagemaker:AddTags", MODEL), ("sagemaker:DeleteModel", MODEL),
            ("sagemaker:CreateEndpointConfig", CONFIG), ("sagemaker:AddTags", CONFIG),
            ("sagemaker:CreateEndpoint", ENDPOINT), ("sagemaker:AddTags", ENDPOINT),
            ("sagemaker:UpdateEndpoint", ENDPOINT), ("sagemaker:DescribeEndpoint", ENDPOINT),
            ("sagemaker:InvokeEndpoint", ENDPOINT), ("sagemaker:DeleteEndpoint", ENDPOINT),
            ("logs:DescribeLogStreams", LOG_GROUP), ("logs:GetLogEvents", f"{LOG_GROUP}:log-stream:*"),
            } <= found
    # only the actions that take no resource are simulated on *
    assert {action for action, resource in found if resource == "*"} == {
        "ecr:GetAuthorizationToken", "sagemaker:ListEndpoints", "sagemaker:ListEndpointConfigs",
        "sagemaker:ListModels"}
    # without cleanup.everything and with least privilege, nothing deletes the role or attaches a managed policy
    assert not {"iam:DeleteRole", "ecr:DeleteRepository", "iam:AttachRolePolicy"} & {a for a, _ in found}
    passing = [need for need in needs() if "iam:PassRole" in need.actions]
    assert passing == [iam_policy.Need(ROLE, ("iam:PassRole",), (("iam:PassedToService", "sagemaker.amazonaws.com"),))]


def test_the_create_actions_of_resources_that_exist_are_not_simulated():
    everything_exists = pairs(needs(existing={"role", "repository", "bucket"}))
    assert not CREATES & {action for action, _ in everything_exists}
    assert {("iam:PutRolePolicy", ROLE), ("iam:PassRole", ROLE), ("ecr:PutImage", REPOSITORY),
            ("s3:PutObject", OBJECTS)} <= everything_exists
    role_exists = {action for action, _ in pairs(needs(existing={"role"}))}
    assert CREATES & role_exists == CREATES - {"iam:CreateRole", "iam:TagRole"}


def test_the_managed_policy_and_a_full_cleanup_are_simulated_for_their_own_actions():
    managed = pairs(needs(managed=True))
    assert {("iam:AttachRolePolicy", ROLE), ("iam:ListAttachedRolePolicies", ROLE),
            ("iam:PutRolePolicy", ROLE)} <= managed
    everything = pairs(needs(everything=True))
    assert {("iam:DeleteRole", ROLE), ("iam:DeleteRolePolicy", ROLE), ("iam:DetachRolePolicy", ROLE),
            ("ecr:DeleteRepository", REPOSITORY)} <= everything


def test_the_arns_follow_the_partition():
    assert all(need.resource.startswith("arn:aws-cn:") for need in needs(region="cn-north-1")
               if need.resource != "*")


class FakeIam:
    """IAM's policy simulator: records each request, denies the actions in `denied`."""

    def __init__(self, denied=()):
        self.requests = []
        self.denied = set(denied)

    def simulate_principal_policy(self, **request):
        self.requests.append(request)
        return {"EvaluationResults": [
            {"EvalActionName": action, "EvalDecision": "implicitDeny" if action in self.denied else "allowed"}
            for action in request["ActionNames"]]}


def test_the_caller_is_simulated_per_resource_and_a_denial_only_warns(project, bus, recorder):
    iam = FakeIam(denied={"iam:PassRole", "s3:PutObject"})
    found = needs()
    IamStep._check_caller(Engine(STEPS, project, bus).context("iam"), iam,
                          f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/me", found)
    assert [(r.get("ResourceArns", ["*"]), r["ActionNames"]) for r in iam.requests] == [
        ([need.resource], list(need.actions)) for need in found]
    assert {r["PolicySourceArn"] for r in iam.requests} == {f"arn:aws:iam::{ACCOUNT}:role/Dev"}
    assert [r.get("ContextEntries") for r in iam.requests if r["ActionNames"] == ["iam:PassRole"]] == [
        [{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["sagemaker.amazonaws.com"],
          "ContextKeyType": "string"}]]
    warnings = [e.text for e in recorder.of(LogLine) if e.level == "warn"]
    assert len(warnings) == 1
    assert f"iam:PassRole on {ROLE}" in warnings[0] and f"s3:PutObject on {OBJECTS}" in warnings[0]
    assert "sagemaker:CreateModel" not in warnings[0]


def error(code, status):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code},
                                            "ResponseMetadata": {"HTTPStatusCode": status}}, "Call")


class FakeS3:
    def __init__(self, answer=None):
        self.answer = answer

    def head_bucket(self, Bucket):  # noqa: N803 - boto3's name
        if self.answer is not None:
            raise self.answer
        return {}


class FakeEcr:
    def __init__(self, answer=None):
        self.answer = answer

    def describe_repositories(self, repositoryNames):  # noqa: N803 - boto3's name
        if self.answer is not None:
            raise self.answer
        return {"repositories": [{"repositoryName": repositoryNames[0]}]}


@pytest.mark.parametrize("s3,ecr,known", [
    (FakeS3(), FakeEcr(), {"bucket", "repository"}),
    (FakeS3(error("404", 404)), FakeEcr(error("RepositoryNotFoundException", 400)), set()),
    # refused lookups say nothing: the create actions stay in the simulation
    (FakeS3(error("403", 403)), FakeEcr(error("AccessDeniedException", 400)), set()),
])
def test_only_resources_seen_to_exist_drop_their_create_actions(s3, ecr, known):
    assert IamStep._known_to_exist(s3, ecr, "my-bucket", "team/model") == known


def test_the_managed_mode_policy_reads_the_model_prefix_only():
    policy = iam_policy.model_access_policy("us-east-1", "sagewiz-123456789012-us-east-1", "sagewiz/sagewiz-iris")
    assert policy["Statement"] == [{
        "Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::sagewiz-123456789012-us-east-1/sagewiz/sagewiz-iris/*"}]
    least = iam_policy.execution_policy("123456789012", "us-east-1", "sagewiz-model", "sagewiz-123456789012-us-east-1",
                                        "sagewiz/sagewiz-iris", "sagewiz-iris")
    assert policy["Statement"][0] in least["Statement"]


def test_the_iam_form_lists_the_settings_its_policy_is_built_from():
    """They stay in the forms of the steps that also read them."""
    assert {"deploy.endpoint", "deploy.bucket", "image.repository"} <= set(STEPS.get("iam").settings)
    assert {"deploy.endpoint", "deploy.bucket"} <= set(STEPS.get("deploy").settings)
    assert "image.repository" in STEPS.get("image").settings
