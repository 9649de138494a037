"""Cleanup discovery and deletion: what sagewiz created, from the ledger and by tag, and how to delete it.

The ledger catches resources whose create call was made (intent) even if the wizard died before confirming;
the tag scan catches those whose ledger entry was lost. Every delete treats "already gone" as done. An ECR
repository is the exception to trusting an intent: push reuses one of the same name that already exists, so
only a ledger entry saying sagewiz created it, or this project's tag, makes it ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.aws import names

if TYPE_CHECKING:
    from core.runtime.project import Project

# Deletion order: dependants first.
ORDER = ("sagemaker_endpoint", "sagemaker_endpoint_config", "sagemaker_model", "s3_upload", "s3_object",
         "s3_bucket", "ecr_repository", "iam_role")
OPTIONAL = ("ecr_repository", "iam_role")  # only with cleanup.everything
GONE = ("NoSuchEntity", "NoSuchBucket", "NoSuchKey", "NoSuchUpload", "404", "RepositoryNotFoundException",
        "ResourceNotFound")


@dataclass(frozen=True)
class Resource:
    kind: str
    id: str

    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.id}"


@dataclass(frozen=True)
class Found:
    """What cleanup deletes, and why it leaves alone a resource it was asked about that is not ours."""
    resources: list[Resource]
    kept: list[str]  # sentences for the log


class Aws:
    """The clients cleanup needs, made once."""

    def __init__(self, project: Project) -> None:
        from core.aws import clients as aws

        resolved = aws.resolve(project)
        self.sagemaker, self.s3, self.ecr, self.iam = (
            aws.client(project, service, resolved=resolved) for service in ("sagemaker", "s3", "ecr", "iam"))


def _gone(exc: Exception) -> bool:
    from core.aws.clients import error_code

    code = error_code(exc)
    return code in GONE or "could not find" in str(exc).lower() or "does not exist" in str(exc).lower()


def _ours(aws: Aws, arn: str, tag: str) -> bool:
    tags = aws.sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    return any(t["Key"] == names.TAG_PROJECT and t["Value"] == tag for t in tags)


def discover(project: Project, aws: Aws, everything: bool) -> Found:
    """Ledger entries not yet deleted, plus tagged SageMaker resources and model objects under our prefix; with
    `everything`, the ECR repositories that are ours too."""
    found: dict[tuple[str, str], None] = {}
    for entry in project.state.ledger():
        if entry.get("status") != "deleted" and entry["kind"] in ORDER and entry["kind"] != "ecr_repository":
            found[(entry["kind"], entry["id"])] = None
    tag = names.project_tag(project)
    base = project.settings["deploy.endpoint"]
    listings = (("sagemaker_endpoint", aws.sagemaker.list_endpoints, "Endpoints", "EndpointName", "EndpointArn"),
                ("sagemaker_endpoint_config", aws.sagemaker.list_endpoint_configs, "EndpointConfigs",
                 "EndpointConfigName", "EndpointConfigArn"),
                ("sagemaker_model", aws.sagemaker.list_models, "Models", "ModelName", "ModelArn"))
    for kind, lister, key, name_key, arn_key in listings:
        for item in lister(NameContains=base, MaxResults=100)[key]:
            if _ours(aws, item[arn_key], tag):
                found[(kind, item[name_key])] = None
    prefix = names.model_prefix(project)
    buckets = {rid if kind == "s3_bucket" else _split(rid)[0] for kind, rid in found if kind.startswith("s3_")}
    for bucket in buckets:
        try:
            listing = aws.s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
        except Exception as exc:
            if _gone(exc):
                continue
            raise
        for obj in listing.get("Contents", []):
            found[("s3_object", f"s3://{bucket}/{obj['Key']}")] = None
        # an upload cut short (a crash mid-deploy) leaves parts that bill until aborted
        for upload in aws.s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix + "/").get("Uploads", []):
            found[("s3_upload", f"s3://{bucket}/{upload['Key']}?uploadId={upload['UploadId']}")] = None
    resources = [Resource(kind, rid) for kind, rid in found if everything or kind not in OPTIONAL]
    kept: list[str] = []
    if everything:
        repositories, kept = _repositories(project, aws)
        resources += repositories
    return Found(sorted(set(resources), key=lambda r: (ORDER.index(r.kind), r.id)), kept)


def _repositories(project: Project, aws: Aws) -> tuple[list[Resource], list[str]]:
    """The ECR repositories sagewiz created for this project: the ledger says it created them, or they carry this
    project's tag (push tags those it creates). One of the same name that another project or a person made stays:
    deleting a repository deletes every image in it. Also sentences for those kept."""
    entries = [e for e in project.state.ledger() if e["kind"] == "ecr_repository"]
    created = {e["id"] for e in entries if e.get("status") == "created"}
    candidates = {e["id"] for e in entries if e.get("status") == "intent"} | {project.settings["image.repository"]}
    ours, kept = [Resource("ecr_repository", name) for name in created], []
    for name in sorted(candidates - created):
        tagged = _repository_tagged(aws, name, names.project_tag(project))
        if tagged:
            ours.append(Resource("ecr_repository", name))
        elif tagged is not None:
            kept.append(f"Kept the ECR repository {name}: sagewiz did not create it for this project (no ledger "
                        f"entry says so and it lacks this project's {names.TAG_PROJECT} tag), so its images may be "
                        "someone else's. Delete it yourself if nobody needs it.")
    return ours, kept


def _repository_tagged(aws: Aws, name: str, tag: str) -> bool | None:
    """Whether the ECR repository carries this project's tag; None when there is no such repository."""
    try:
        arn = aws.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryArn"]
    except Exception as exc:
        if _gone(exc):
            return None
        raise
    # ECR keeps a repository's tags apart from its description
    # (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListTagsForResource.html).
    tags = aws.ecr.list_tags_for_resource(resourceArn=arn).get("tags", [])
    return any(t["Key"] == names.TAG_PROJECT and t["Value"] == tag for t in tags)


def _delete_role(aws: Aws, name: str) -> None:
    for policy in aws.iam.list_role_policies(RoleName=name)["PolicyNames"]:
        aws.iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy in aws.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        aws.iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    aws.iam.delete_role(RoleName=name)


def _delete_bucket(aws: Aws, bucket: str) -> None:
    """Only an empty bucket: another prefix in it may hold someone else's data."""
    if aws.s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0):
        raise RuntimeError(f"the bucket {bucket} still holds objects sagewiz did not create; it was kept")
    aws.s3.delete_bucket(Bucket=bucket)


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


def _upload(url: str) -> dict[str, str]:
    """s3://bucket/key?uploadId=ID as the parameters of the multipart-upload calls."""
    location, _, upload_id = url.partition("?uploadId=")
    bucket, key = _split(location)
    return {"Bucket": bucket, "Key": key, "UploadId": upload_id}


# DescribeEndpoint statuses during which SageMaker refuses UpdateEndpoint and DeleteEndpoint ("Cannot update
# in-progress endpoint"): deploy and cleanup wait them out.
ENDPOINT_IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")

DELETERS: dict[str, Callable[[Aws, str], object]] = {
    "sagemaker_endpoint": lambda a, rid: a.sagemaker.delete_endpoint(EndpointName=rid),
    "sagemaker_endpoint_config": lambda a, rid: a.sagemaker.delete_endpoint_config(EndpointConfigName=rid),
    "sagemaker_model": lambda a, rid: a.sagemaker.delete_model(ModelName=rid),
    "s3_upload": lambda a, rid: a.s3.abort_multipart_upload(**_upload(rid)),
    "s3_object": lambda a, rid: a.s3.delete_object(Bucket=_split(rid)[0], Key=_split(rid)[1]),
    "s3_bucket": _delete_bucket,
    "ecr_repository": lambda a, rid: a.ecr.delete_repository(repositoryName=rid, force=True),
    "iam_role": _delete_role,
}

PROBES: dict[str, Callable[[Aws, str], object]] = {
    "sagemaker_endpoint": lambda a, rid: a.sagemaker.describe_endpoint(EndpointName=rid),
    "sagemaker_endpoint_config": lambda a, rid: a.sagemaker.describe_endpoint_config(EndpointConfigName=rid),
    "sagemaker_model": lambda a, rid: a.sagemaker.describe_model(ModelName=rid),
    "s3_upload": lambda a, rid: a.s3.list_parts(**_upload(rid)),
    "s3_object": lambda a, rid: a.s3.head_object(Bucket=_split(rid)[0], Key=_split(rid)[1]),
    "s3_bucket": lambda a, rid: a.s3.head_bucket(Bucket=rid),
    "ecr_repository": lambda a, rid: a.ecr.describe_repositories(repositoryNames=[rid]),
    "iam_role": lambda a, rid: a.iam.get_role(RoleName=rid),
}


def _unless_gone(calls: dict[str, Callable[[Aws, str], object]], aws: Aws, resource: Resource) -> bool:
    """Make the kind's call; False when AWS says the resource is not there."""
    try:
        calls[resource.kind](aws, resource.id)
    except Exception as exc:
        if _gone(exc):
            return False
        raise
    return True


def delete(aws: Aws, resource: Resource) -> bool:
    """Delete one resource; False when it was already gone."""
    return _unless_gone(DELETERS, aws, resource)


def exists(aws: Aws, resource: Resource) -> bool:
    return _unless_gone(PROBES, aws, resource)
