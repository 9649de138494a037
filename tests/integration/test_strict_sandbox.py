"""The strict sandbox refuses what SageMaker refuses, with SageMaker's words, and runs endpoints for real.

Everything runs against the session's strict emulator (core/emulator) with the session's serving image pushed
to the stack registry: CreateModel checks the execution role, the model data and the image; endpoints run the
image in a container; InvokeEndpoint reaches it; UpdateEndpoint rolls back a broken configuration.
"""

from __future__ import annotations

import json
import re

import botocore.exceptions
import pytest

from core.runtime.errors import StepError
from tests.plugins.aws_fixtures import run_step_directly
from tests.plugins.docker_fixtures import FEATURES

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _clients(project):
    from core.aws import clients as aws

    return aws.client(project, "sagemaker"), aws.client(project, "sagemaker-runtime"), aws.client(project, "s3")


def _broken_model(tmp_path) -> str:
    """A model directory the serving image cannot load: its server exits at start."""
    model_dir = tmp_path / "broken-model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    (model_dir / "model.pkl").write_bytes(b"\0" * 1000)
    return str(model_dir)


def _use_model(project, model_uri: str) -> None:
    from tests.plugins.outputs import outputs_of

    project.state.update_record("model", status="done", outputs=outputs_of("model", model_uri=model_uri,
                                                                            tracking_uri=""))


def test_predictions_come_from_the_endpoints_container(deployable, step_ctx, logged_model):
    deployed = run_step_directly(step_ctx, "deploy")
    predicted = run_step_directly(step_ctx, "predict")
    assert predicted["predictions"] and predicted["predictions"] == pytest.approx(predicted["local_predictions"])
    sagemaker, runtime, _ = _clients(deployable)
    # the same request by hand reaches the same container: the answer is the model's, not a canned body
    rows = logged_model["input_example"]["data"]
    body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": rows}})
    answer = runtime.invoke_endpoint(EndpointName=deployed["endpoint_name"], ContentType="application/json",
                                     Body=body)
    assert json.loads(answer["Body"].read())["predictions"] == pytest.approx(logged_model["local_predictions"])


def test_the_tutorials_own_request_is_answered_through_invoke_endpoint(deployable, step_ctx, logged_model):
    """The tutorial's predict.py: pd.DataFrame(X_train).iloc[[3]].to_json(orient="split"), integer columns."""
    import pandas as pd

    deployed = run_step_directly(step_ctx, "deploy")
    _, runtime, _ = _clients(deployable)
    row = logged_model["input_example"]["data"][:1]
    body = pd.DataFrame(row, index=[3]).to_json(orient="split")
    assert json.loads(body)["columns"] == list(range(len(FEATURES)))
    answer = runtime.invoke_endpoint(EndpointName=deployed["endpoint_name"], Body=body,
                                     ContentType="application/json; format=pandas-split")
    assert json.loads(answer["Body"].read())["predictions"] == pytest.approx(logged_model["local_predictions"][:1])


def test_a_container_error_is_sagemakers_model_error(deployable, step_ctx):
    deployed = run_step_directly(step_ctx, "deploy")
    _, runtime, _ = _clients(deployable)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        runtime.invoke_endpoint(EndpointName=deployed["endpoint_name"], ContentType="application/json",
                                Body=json.dumps({"dataframe_split": {"columns": ["nope"], "data": [[1]]}}))
    error = caught.value.response
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 400
    assert error["Error"]["Message"].startswith("Received client error (400) from primary with message")
    assert "/aws/sagemaker/Endpoints/sagewiz-iris" in error["LogStreamArn"]


def test_a_role_without_s3_access_cannot_create_the_model(deployable, step_ctx):
    from core.aws import clients as aws
    from core.aws import names

    iam = aws.client(deployable, "iam")
    role = deployable.state.outputs("iam")["role_name"]
    document = json.loads(json.dumps(iam.get_role_policy(RoleName=role, PolicyName=names.INLINE_POLICY)
                                     ["PolicyDocument"]))
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "ReadModelData"]
    iam.put_role_policy(RoleName=role, PolicyName=names.INLINE_POLICY, PolicyDocument=json.dumps(document))
    with pytest.raises(StepError, match=r"Could not access model data at s3://.*s3:GetObject") as caught:
        run_step_directly(step_ctx, "deploy")
    assert "retry" not in str(caught.value).lower() or "IAM propagation" not in str(caught.value)
    sagemaker, _, _ = _clients(deployable)
    assert sagemaker.list_models()["Models"] == [] and sagemaker.list_endpoints()["Endpoints"] == []


def test_the_managed_policy_role_can_read_the_model(deployable, step_ctx):
    """AmazonSageMakerFullAccess reads S3 only from *sagemaker* buckets or objects tagged SageMaker=true."""
    deployable.settings.set("iam.policy", "managed")
    run_step_directly(step_ctx, "iam")
    deployed = run_step_directly(step_ctx, "deploy")
    assert deployed["status"] == "InService"


def test_missing_model_data_and_oci_images_are_refused_with_sagemakers_words(deployable, step_ctx):
    from core.aws import clients as aws

    sagemaker, _, s3 = _clients(deployable)
    push, role = deployable.state.outputs("push"), deployable.state.outputs("iam")["role_arn"]
    run_step_directly(step_ctx, "deploy")
    bucket = deployable.state.outputs("deploy")["bucket"]
    missing = f"s3://{bucket}/sagewiz/sagewiz-iris/nothing-here/model.tar.gz"
    with pytest.raises(botocore.exceptions.ClientError, match=re.escape(f"Could not find model data at {missing}")):
        sagemaker.create_model(ModelName="no-data", ExecutionRoleArn=role,
                               PrimaryContainer={"Image": push["image_uri"], "ModelDataUrl": missing})
    ecr = aws.client(deployable, "ecr")
    repository = push["image_uri"].split("/", 1)[1].split("@")[0]
    manifest = json.loads(ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": push["digest"]}])
                          ["images"][0]["imageManifest"])
    manifest["mediaType"] = OCI_MANIFEST
    oci = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest),
                        imageManifestMediaType=OCI_MANIFEST, imageTag="oci")["image"]["imageId"]["imageDigest"]
    refused = re.escape(f"Unsupported manifest media type {OCI_MANIFEST} for image URI.")
    with pytest.raises(botocore.exceptions.ClientError, match=refused):
        sagemaker.create_model(ModelName="oci", ExecutionRoleArn=role, PrimaryContainer={
            "Image": push["image_uri"].split("@")[0] + "@" + oci,
            "ModelDataUrl": deployable.state.outputs("deploy")["model_data_url"]})


def test_a_crashing_container_fails_the_deploy_with_the_reason_and_its_log(deployable, step_ctx, tmp_path):
    _use_model(deployable, _broken_model(tmp_path))
    with pytest.raises(StepError) as caught:
        run_step_directly(step_ctx, "deploy")
    message = str(caught.value)
    assert "is Failed: The primary container for production variant AllTraffic did not pass the ping" in message
    assert "Last container log lines (/aws/sagemaker/Endpoints/sagewiz-iris)" in message
    sagemaker, _, _ = _clients(deployable)
    with pytest.raises(botocore.exceptions.ClientError, match='Cannot update failed endpoint "arn:aws:sagemaker'):
        sagemaker.update_endpoint(EndpointName="sagewiz-iris",
                                  EndpointConfigName=sagemaker.describe_endpoint(EndpointName="sagewiz-iris")
                                  ["EndpointConfigName"])


def test_deploy_again_on_a_failed_endpoint_deletes_and_creates_it(deployable, step_ctx, tmp_path, logged_model):
    _use_model(deployable, _broken_model(tmp_path))
    with pytest.raises(StepError, match="is Failed"):
        run_step_directly(step_ctx, "deploy")
    deployable.state.update_record("model", status="done", outputs=logged_model)
    lines = []
    ctx = step_ctx("deploy")
    ctx.log = lambda line, *a, **k: lines.append(line)
    from core.steps import STEPS

    deployed = STEPS.get("deploy").run(ctx)
    assert deployed.status == "InService"
    assert any("is Failed" in line and "Deleting it, then creating it again" in line for line in lines)


def test_an_update_to_a_broken_model_rolls_back_and_the_old_model_still_answers(deployable, step_ctx, tmp_path,
                                                                                 monkeypatch, logged_model):
    from core.aws import names

    first = run_step_directly(step_ctx, "deploy")
    _use_model(deployable, _broken_model(tmp_path))
    monkeypatch.setattr(names.time, "time", lambda: 4102444800.0)  # a later stamp: new names
    with pytest.raises(StepError, match=f"rolled it back: it still serves {first['endpoint_config']}"):
        run_step_directly(step_ctx, "deploy")
    sagemaker, _, _ = _clients(deployable)
    described = sagemaker.describe_endpoint(EndpointName="sagewiz-iris")
    assert described["EndpointStatus"] == "InService" and described["FailureReason"]
    assert described["EndpointConfigName"] == first["endpoint_config"]
    # the new configuration and model are retired, the live ones kept
    assert [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]] \
        == [first["endpoint_config"]]
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == [first["model_name"]]
    deployable.state.update_record("model", status="done", outputs=logged_model)
    predicted = run_step_directly(step_ctx, "predict")
    assert predicted["predictions"] == pytest.approx(predicted["local_predictions"])


def test_a_timed_out_deploy_resumes_without_uploading_or_creating_again(deployable, step_ctx):
    deployable.settings._values["deploy.timeout_minutes"] = 0.01  # 0.6 s: the container takes longer
    with pytest.raises(StepError, match="still Creating after"):
        run_step_directly(step_ctx, "deploy")
    sagemaker, _, s3 = _clients(deployable)
    models = sagemaker.list_models()["Models"]
    bucket = next(e["id"] for e in deployable.state.ledger() if e["kind"] == "s3_bucket")
    objects = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
    deployable.settings._values["deploy.timeout_minutes"] = 10
    deployed = run_step_directly(step_ctx, "deploy")
    assert deployed["status"] == "InService" and deployed["model_name"] == models[0]["ModelName"]
    assert sagemaker.list_models()["Models"] == models
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == objects
    assert len(sagemaker.list_endpoint_configs()["EndpointConfigs"]) == 1


def test_an_endpoint_another_project_owns_is_left_alone(deployable, step_ctx):
    from core.aws import names

    deployed = run_step_directly(step_ctx, "deploy")
    sagemaker, _, _ = _clients(deployable)
    arn = sagemaker.describe_endpoint(EndpointName=deployed["endpoint_name"])["EndpointArn"]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=[names.TAG_PROJECT])
    with pytest.raises(StepError, match="this project did not create it .* choose another deploy.endpoint"):
        run_step_directly(step_ctx, "deploy")
    assert len(sagemaker.list_models()["Models"]) == 1
