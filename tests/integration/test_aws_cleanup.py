"""cleanup against moto server: everything sagewiz created goes, idempotently, even from a partial ledger."""

from __future__ import annotations

import pytest

from core.runtime.errors import StepError
from tests.plugins.aws_fixtures import run_step_directly

pytestmark = pytest.mark.integration


def _remaining(project):
    from core.aws import clients as aws

    sm, s3 = aws.client(project, "sagemaker"), aws.client(project, "s3")
    return (sm.list_endpoints()["Endpoints"] + sm.list_endpoint_configs()["EndpointConfigs"]
            + sm.list_models()["Models"] + s3.list_buckets()["Buckets"])


def test_cleanup_deletes_all_then_is_idempotent(deployable, step_ctx, recorder):  # noqa: F811
    from core.aws import clients as aws

    run_step_directly(step_ctx, "deploy")
    aws.client(deployable, "ecr").create_repository(repositoryName="sagewiz-model")
    asked = []
    out = run_step_directly(step_ctx, "cleanup", lambda q, d: asked.append(d) or True)
    assert "sagemaker endpoint sagewiz-iris" in asked[0] and out["remaining"] == []
    assert _remaining(deployable) == []
    assert aws.client(deployable, "iam").get_role(RoleName="sagewiz-sagemaker-execution")  # kept without --all
    assert aws.client(deployable, "ecr").describe_repositories()["repositories"]
    assert all(e["status"] == "deleted" for e in deployable.state.ledger() if e["kind"] != "iam_role")

    deployable.settings.set("cleanup.everything", True)
    out = run_step_directly(step_ctx, "cleanup")
    assert out["deleted"] == ["ecr repository sagewiz-model", "iam role sagewiz-sagemaker-execution"]
    assert aws.client(deployable, "ecr").describe_repositories()["repositories"] == []
    again = run_step_directly(step_ctx, "cleanup")
    assert again["remaining"] == [] and any("Nothing sagewiz created remains" in line for line in recorder.lines())


def test_cleanup_from_a_partial_ledger(deployable, step_ctx):  # noqa: F811
    """A crash between intent and confirmation: intents for things that never got created are fine."""
    run_step_directly(step_ctx, "deploy")
    state = deployable.state
    state.upsert_resource("sagemaker_model", "never-created-model", status="intent")
    state.update_record("deploy", outputs={})
    out = run_step_directly(step_ctx, "cleanup")
    assert "sagemaker model never-created-model" in out["deleted"] and _remaining(deployable) == []


def test_cleanup_declined_deletes_nothing(deployable, step_ctx):  # noqa: F811
    run_step_directly(step_ctx, "deploy")
    with pytest.raises(StepError, match="declined"):
        run_step_directly(step_ctx, "cleanup", lambda q, d: False)
    assert len(_remaining(deployable)) == 4


def test_cleanup_aborts_a_cut_short_upload_and_keeps_a_bucket_it_did_not_make(deployable, step_ctx):  # noqa: F811
    """The user's own bucket (deploy.bucket): sagewiz's objects and unfinished uploads go, the bucket stays."""
    from core.aws import clients as aws
    from core.aws import names

    s3 = aws.client(deployable, "s3")
    s3.create_bucket(Bucket="users-own-models")
    s3.put_object(Bucket="users-own-models", Key="theirs.txt", Body=b"not sagewiz's")
    deployable.settings.set("deploy.bucket", "users-own-models")
    out = run_step_directly(step_ctx, "deploy")
    key = f"{names.model_prefix(deployable)}/{out['model_name']}/model.tar.gz"
    s3.create_multipart_upload(Bucket="users-own-models", Key=key + ".retry")  # as if killed mid-upload
    cleaned = run_step_directly(step_ctx, "cleanup")
    assert any(d.startswith("s3 upload s3://users-own-models/") for d in cleaned["deleted"])
    assert s3.list_multipart_uploads(Bucket="users-own-models").get("Uploads", []) == []
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="users-own-models")["Contents"]] == ["theirs.txt"]
