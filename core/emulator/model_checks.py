"""What SageMaker checks at CreateModel, before anything runs: the execution role, the model data, the image.

SageMaker assumes the execution role (which must trust sagemaker.amazonaws.com) and, as that role, reads the
ModelDataUrl object and looks the image up in ECR. moto checks none of it, so a rehearsal against it would
pass what AWS refuses. The messages are SageMaker's own ValidationException texts, word for word.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from core.emulator import policy

# The actions SageMaker names in its message when it cannot pull (its "proper pull permissions" list).
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
                       r"(?P<repository>[^@:]+)(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[\w][\w.-]{0,127}))?$")
S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


@dataclass(frozen=True)
class ImageRef:
    """An ECR image, as SageMaker reads the model's Image."""

    account: str
    region: str
    repository: str
    digest: str | None
    tag: str | None


def parse_image(uri: str) -> ImageRef | None:
    found = ECR_IMAGE.match(uri)
    if not found:
        return None
    return ImageRef(found["account"], found["region"], found["repository"], found["digest"],
                    found["tag"] or (None if found["digest"] else "latest"))


def check(account: str, region: str, role_arn: str, container: dict[str, Any]) -> None:
    """Raise SageMaker's ValidationError for the first thing it would refuse in CreateModel."""
    documents = _role_policies(account, role_arn)
    model_data = container.get("ModelDataUrl")
    if model_data:
        _check_model_data(account, region, role_arn, documents, model_data)
    _check_image(account, region, documents, container.get("Image") or "")


def _role_policies(account: str, role_arn: str) -> list[Any]:
    """The role's identity policies (inline, then the attached managed ones' default versions).

    SageMaker's text when the role is missing or does not trust it, from CreateModel's ValidationException."""
    from moto.iam.models import iam_backends

    refused = ValidationError(message=f"Could not assume role {role_arn}. Please ensure that the role exists and "
                                      "allows principal 'sagemaker.amazonaws.com' to assume the role.")
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto's NotFoundException: the role does not exist
        raise refused from None
    if not _trusts_sagemaker(role.assume_role_policy_document):
        raise refused
    documents: list[Any] = list(role.policies.values())
    for managed in role.managed_policies.values():
        documents += [version.document for version in managed.versions if version.is_default]
    return documents


def _trusts_sagemaker(document: Any) -> bool:
    """The trust policy lets the service principal sagemaker.amazonaws.com (or everyone) sts:AssumeRole."""
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    for_sagemaker = [{**statement, "Resource": "*"} for statement in statements
                     if "sagemaker.amazonaws.com" in _services(statement.get("Principal"))]
    return policy.decide([{"Statement": for_sagemaker}], "sts:AssumeRole", "*") == "allowed"


def _services(principal: Any) -> list[str]:
    if principal == "*":
        return ["sagemaker.amazonaws.com"]
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return [services] if isinstance(services, str) else list(services)


def model_object(account: str, url: str) -> Any:
    """moto's object at the s3:// URL, None when the URL, the bucket or the key is not there."""
    from moto.s3.models import s3_backends

    found = S3_URL.match(url)
    if not found:
        return None
    try:
        return s3_backends[account]["aws"].get_object(found["bucket"], found["key"])
    except Exception:  # moto's MissingBucket
        return None


def _check_model_data(account: str, region: str, role_arn: str, documents: list[Any], url: str) -> None:
    """The role may s3:GetObject the object (its tags feed s3:ExistingObjectTag conditions), and it exists."""
    from moto.s3.models import s3_backends

    found = S3_URL.match(url)
    denied = ValidationError(message=(
        f"Could not access model data at {url}. Please ensure that the role \"{role_arn}\" exists and that its "
        "trust relationship policy allows the action \"sts:AssumeRole\" for the service principal "
        "\"sagemaker.amazonaws.com\". Also ensure that the role has \"s3:GetObject\" permissions and that the "
        f"object is located in {region}."))
    if not found:
        raise denied
    backend = s3_backends[account]["aws"]
    key = model_object(account, url)
    context: dict[str, str | list[str]] = {"aws:PrincipalAccount": account, "aws:PrincipalArn": role_arn}
    if key is not None:
        for tag in backend.get_object_tagging(key).get("Tags", []):
            context[f"s3:ExistingObjectTag/{tag['Key']}"] = tag["Value"]
    if not policy.allows(documents, "s3:GetObject", f"arn:aws:s3:::{found['bucket']}/{found['key']}", context):
        raise denied
    if key is None:
        raise ValidationError(message=f"Could not find model data at {url}.")
    bucket_region = backend.get_bucket(found["bucket"]).region_name
    if bucket_region != region:
        raise denied


def _check_image(account: str, region: str, documents: list[Any], uri: str) -> None:
    """The image is in this region's ECR, the role may pull it, and its manifest is Docker v2 schema 2."""
    from moto.ecr.models import ecr_backends

    ref = parse_image(uri)
    if ref is None or ref.region != region:
        raise ValidationError(message=f"Requested image {uri} not found.")
    repository = ecr_backends[ref.account][ref.region].repositories.get(ref.repository)
    arn = f"arn:aws:ecr:{ref.region}:{ref.account}:repository/{ref.repository}"
    context: dict[str, str | list[str]] = {"aws:PrincipalAccount": account}
    if repository is None or not all(policy.allows(documents, action, arn, context) for action in PULL_ACTIONS):
        raise ValidationError(message=(
            f"Cannot find repository: {ref.repository} in registry ID: {ref.account} Please check if your ECR "
            "repository exists and role ARN has proper pull permissions for SageMaker: "
            + ", ".join(PULL_ACTIONS)))
    image = next((i for i in repository.images
                  if (ref.digest and i.get_image_digest() == ref.digest) or (ref.tag and ref.tag in i.image_tags)),
                 None)
    if image is None:
        raise ValidationError(message=f"Requested image {uri} not found.")
    media_type = image.image_manifest_media_type or json.loads(image.image_manifest).get("mediaType", "")
    if media_type != DOCKER_V2:
        raise ValidationError(message=f"Unsupported manifest media type {media_type} for image URI. Ensure that "
                                      "valid manifest media type is used for specified image.")
