"""deploy against the strict emulator: bucket, tarball, model, config, endpoint; update; refusals before any call."""

from __future__ import annotations

import pytest

from core.runtime.errors import StepError
from core.steps import STEPS
from tests.plugins.aws_fixtures import run_step_directly
from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration


def test_deploy_creates_everything_and_ledger_confirms_it(deployable, step_ctx):
    from core.aws import clients as aws

    questions = []
    out = run_step_directly(step_ctx, "deploy", lambda q, d: questions.append((q, d)) or True)
    assert out["status"] == "InService" and out["endpoint_name"] == "sagewiz-iris"
    assert "per hour" in questions[0][1] and "ml.m5.large" in questions[0][0]
    s3 = aws.client(deployable, "s3")
    bucket = "sagewiz-123456789012-us-east-1"
    assert out["bucket"] == bucket
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    key = out["model_data_url"].removeprefix(f"s3://{bucket}/")
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    sm = aws.client(deployable, "sagemaker")
    model = sm.describe_model(ModelName=out["model_name"])
    assert model["PrimaryContainer"]["Image"] == deployable.state.outputs("push")["image_uri"]
    assert model["ExecutionRoleArn"] == deployable.state.outputs("iam")["role_arn"]
    statuses = {(e["kind"], e["id"]): e["status"] for e in deployable.state.ledger()}
    for kind, rid in (("s3_bucket", bucket), ("s3_object", out["model_data_url"]),
                      ("sagemaker_model", out["model_name"]),
                      ("sagemaker_endpoint_config", out["endpoint_config"]),
                      ("sagemaker_endpoint", "sagewiz-iris")):
        assert statuses[(kind, rid)] == "created"
    assert STEPS.get("deploy").verify(step_ctx("deploy"), STEPS.outputs(deployable, "deploy")) is None


def test_redeploy_updates_the_endpoint_and_deletes_the_old_config(deployable, step_ctx, monkeypatch):
    from core.aws import billable, names
    from core.aws import clients as aws

    first = run_step_directly(step_ctx, "deploy")
    monkeypatch.setattr(names.time, "time", lambda: 4102444800.0)  # a later stamp: new names
    deployable.settings.set("deploy.instance_type", "ml.m5.xlarge")
    deployable.settings.set("deploy.instance_count", 2)
    second = run_step_directly(step_ctx, "deploy")
    # the live-endpoint reminder reads the instances from the ledger, so the update must have rewritten them
    [live] = billable.live_endpoints(deployable)
    assert (live.name, live.instances) == ("sagewiz-iris", "2 x ml.m5.xlarge") and live.per_hour
    assert second["endpoint_config"] != first["endpoint_config"]
    sm = aws.client(deployable, "sagemaker")
    assert sm.describe_endpoint(EndpointName="sagewiz-iris")["EndpointConfigName"] == second["endpoint_config"]
    configs = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    assert configs == [second["endpoint_config"]]


@pytest.mark.parametrize("key,value,message", [
    ("deploy.instance_type", "ml.m5.huge", "not a SageMaker hosting instance"),
    ("deploy.bucket", "Bad_Bucket", "not valid for S3"),
])
def test_invalid_settings_are_rejected_before_any_call(deployable, step_ctx, key, value, message, monkeypatch):
    from core.aws import clients as aws

    deployable.settings._values[key] = value  # as if the file had been edited past validation
    monkeypatch.setattr(aws, "resolve", lambda project: pytest.fail("an AWS call was prepared"))
    with pytest.raises(StepError, match=message):
        run_step_directly(step_ctx, "deploy", lambda q, d: pytest.fail("asked before validating"))


def test_invalid_endpoint_name_is_rejected(deployable, step_ctx):
    from core.aws import clients as aws

    deployable.settings._values["deploy.endpoint"] = "-bad_name"
    with pytest.raises(StepError, match="not valid for SageMaker"):
        run_step_directly(step_ctx, "deploy")
    assert aws.client(deployable, "sagemaker").list_models()["Models"] == []


def test_image_in_another_region_is_refused(deployable, step_ctx):
    deployable.state.update_record("push", outputs=outputs_of(
        "push", image_uri=f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagewiz-model@sha256:{'b' * 64}"))
    with pytest.raises(StepError, match="eu-west-1 but the endpoint would be in us-east-1"):
        run_step_directly(step_ctx, "deploy")


def test_bucket_in_another_region_is_refused(deployable, step_ctx):
    from core.aws import clients as aws

    aws.client(deployable, "s3").create_bucket(Bucket="elsewhere-bucket",
                                               CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    deployable.settings.set("deploy.bucket", "elsewhere-bucket")
    with pytest.raises(StepError, match="is in eu-west-1, not us-east-1"):
        run_step_directly(step_ctx, "deploy")


def test_unknown_region_is_rejected(sandbox_project, step_ctx):
    sandbox_project.settings.set("aws.region", "xx-nowhere-9")
    with pytest.raises(StepError, match="does not offer SageMaker"):
        run_step_directly(step_ctx, "credentials")
