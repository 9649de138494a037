"""cleanup against moto server: everything sagewiz created goes, idempotently, even from a partial ledger; an ECR
repository of the same name that sagewiz did not create for this project stays."""

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
    # The deployable fixture's push created image.repository, tagged with the project. A crash between its
    # CreateRepository call and the confirmation leaves only the intent in the ledger: the tag vouches for it.
    repository = deployable.settings["image.repository"]
    deployable.state.upsert_resource("ecr_repository", repository, status="intent")
    asked = []
    out = run_step_directly(step_ctx, "cleanup", lambda q, d: asked.append(d) or True)
    assert "sagemaker endpoint sagewiz-iris" in asked[0] and out["remaining"] == []
    assert _remaining(deployable) == []
    # kept without --all: the role, and the repository with the pushed image in it
    assert aws.client(deployable, "iam").get_role(RoleName="sagewiz-sagemaker-execution")
    assert [r["repositoryName"] for r in aws.client(deployable, "ecr").describe_repositories()["repositories"]] \
        == [repository]
    ledger = deployable.state.ledger()
    kept = ("iam_role", "ecr_repository", "ecr_image")
    assert {e["kind"] for e in ledger if e["status"] != "deleted"} == set(kept)
    assert [e for e in ledger if e["kind"] not in kept and e["status"] != "deleted"] == []

    deployable.settings.set("cleanup.everything", True)
    out = run_step_directly(step_ctx, "cleanup")
    assert out["deleted"] == [f"ecr repository {repository}", "iam role sagewiz-sagemaker-execution"]
    assert aws.client(deployable, "ecr").describe_repositories()["repositories"] == []
    # the pushed image went with its repository: nothing in the ledger still says it exists
    assert [e for e in deployable.state.ledger() if e["status"] != "deleted"] == []
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
    from core.steps import STEPS
    from core.steps.iam import POLICY_CHANGED

    s3 = aws.client(deployable, "s3")
    s3.create_bucket(Bucket="users-own-models")
    s3.put_object(Bucket="users-own-models", Key="theirs.txt", Body=b"not sagewiz's")
    deployable.settings.set("deploy.bucket", "users-own-models")
    # the execution role's policy names the bucket it may read: the iam step says it no longer fits, and the user
    # runs it again (the role built by the fixture's iam step cannot read this bucket, and SageMaker would refuse)
    iam = step_ctx("iam")
    assert STEPS.get("iam").verify(iam, iam.outputs("iam")) == POLICY_CHANGED
    run_step_directly(step_ctx, "iam")
    out = run_step_directly(step_ctx, "deploy")
    key = f"{names.model_prefix(deployable)}/{out['model_name']}/model.tar.gz"
    s3.create_multipart_upload(Bucket="users-own-models", Key=key + ".retry")  # as if killed mid-upload
    cleaned = run_step_directly(step_ctx, "cleanup")
    assert any(d.startswith("s3 upload s3://users-own-models/") for d in cleaned["deleted"])
    assert s3.list_multipart_uploads(Bucket="users-own-models").get("Uploads", []) == []
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="users-own-models")["Contents"]] == ["theirs.txt"]


def test_cleanup_everything_keeps_a_repository_this_project_did_not_create(sandbox_project, step_ctx, recorder):
    """Another project's repository under image.repository's name: no ledger entry, not this project's tag."""
    from core.aws import clients as aws
    from core.aws import names
    from core.steps.push import PushStep

    ecr = aws.client(sandbox_project, "ecr")
    other = [{"Key": names.TAG_PROJECT, "Value": "0123456789abcdef"}]
    ecr.create_repository(repositoryName="sagewiz-model", tags=other)
    sandbox_project.settings.set("cleanup.everything", True)
    out = run_step_directly(step_ctx, "cleanup")
    assert out["deleted"] == [] and out["remaining"] == []
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["sagewiz-model"]
    assert any("Kept the ECR repository sagewiz-model" in line for line in recorder.lines("cleanup"))

    # the one sagewiz's push creates goes (ledger and tag), the other still stays
    sandbox_project.settings.set("image.repository", "sagewiz-mine")
    PushStep()._ensure_repository(step_ctx("push"), ecr, "sagewiz-mine")
    out = run_step_directly(step_ctx, "cleanup")
    assert out["deleted"] == ["ecr repository sagewiz-mine"]
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["sagewiz-model"]


def test_cleanup_everything_deletes_a_repository_the_ledger_says_sagewiz_created(sandbox_project, step_ctx):
    """A repository push created before it tagged repositories with the project: the ledger alone vouches."""
    from core.aws import clients as aws

    ecr = aws.client(sandbox_project, "ecr")
    ecr.create_repository(repositoryName="sagewiz-model")
    sandbox_project.state.upsert_resource("ecr_repository", "sagewiz-model", status="created", step="push")
    sandbox_project.settings.set("cleanup.everything", True)
    assert run_step_directly(step_ctx, "cleanup")["deleted"] == ["ecr repository sagewiz-model"]
    assert ecr.describe_repositories()["repositories"] == []
