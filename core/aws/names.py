"""Names of the AWS resources sagewiz creates, derived from settings and checked against AWS's rules
before any call (a bad name otherwise surfaces as a ValidationException halfway through a deploy)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from core.runtime.errors import StepError
from core.runtime.settings import ECR_REPOSITORY, S3_BUCKET, SAGEMAKER_NAME

if TYPE_CHECKING:
    from core.runtime.project import Project

TAG_PROJECT = "sagewiz:project"
TAG_MANAGED = "sagewiz:managed"
INLINE_POLICY = "sagewiz-execution"
ECR_HOST = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


def sagemaker_name(name: str, what: str) -> str:
    if not re.fullmatch(SAGEMAKER_NAME, name):
        raise StepError(f"The {what} name {name!r} is not valid for SageMaker: use 1 to 63 letters, digits and "
                        "hyphens, starting and ending with a letter or digit.")
    return name


def bucket_name(name: str) -> str:
    if not re.fullmatch(S3_BUCKET, name) or ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        raise StepError(f"The bucket name {name!r} is not valid for S3: use 3 to 63 lower-case letters, digits, "
                        "dots and hyphens, starting and ending with a letter or digit. Change deploy.bucket.")
    return name


def repository_name(name: str) -> str:
    if not (2 <= len(name) <= 256 and re.fullmatch(ECR_REPOSITORY, name)):
        raise StepError(f"The ECR repository name {name!r} is not valid: use lower-case letters, digits and "
                        "._-/ (2 to 256 characters). Change image.repository.")
    return name


def default_bucket(project: Project, account: str, region: str) -> str:
    """`deploy.bucket`, or sagewiz-<account>-<region> as the issue prescribes."""
    return bucket_name(project.settings["deploy.bucket"] or f"sagewiz-{account}-{region}")


def versioned(base: str, what: str, stamp: float | None = None) -> str:
    """A SageMaker name unique per deploy: base (trimmed) + a UTC time stamp, within 63 characters."""
    suffix = time.strftime("%Y%m%d-%H%M%S", time.gmtime(stamp or time.time()))
    return sagemaker_name(f"{base[:63 - len(suffix) - 1].rstrip('-')}-{suffix}", what)


def model_prefix(project: Project) -> str:
    """The S3 key prefix that holds this project's model tarballs."""
    return f"sagewiz/{sagemaker_name(project.settings['deploy.endpoint'], 'endpoint')}"


def project_tag(project: Project) -> str:
    """A stable id of this project directory, carried as a tag by every resource sagewiz creates."""
    import hashlib  # here: the steps import this module, and hashlib is slow to load

    return hashlib.sha256(str(project.root).encode()).hexdigest()[:16]


def tags(project: Project) -> list[dict[str, str]]:
    return [{"Key": TAG_PROJECT, "Value": project_tag(project)}, {"Key": TAG_MANAGED, "Value": "true"}]


def image_region(image_uri: str) -> str | None:
    """The region of an ECR image URI; None for another registry (the sandbox's local one)."""
    match = ECR_HOST.match(image_uri)
    return match.group("region") if match else None
