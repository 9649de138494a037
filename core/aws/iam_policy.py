"""Policy documents for the SageMaker execution role, and the permissions the caller itself needs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

MANAGED_POLICY = "AmazonSageMakerFullAccess"

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Need:
    """Actions the wizard's own identity calls on one resource, simulated together: the simulator applies a
    call's ResourceArns (and context) to all of its actions, so each resource gets a call of its own."""

    resource: str  # an ARN, or * for actions that take no resource
    actions: tuple[str, ...]
    context: tuple[tuple[str, str], ...] = ()  # (condition key, value) the real request carries


# What the steps call, by resource, with the actions and resource types of AWS's Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/: "Actions, resources, and condition keys for
# Amazon SageMaker", "... for AWS Identity and Access Management (IAM)", "... for Amazon Elastic Container
# Registry", "... for Amazon S3", "... for Amazon CloudWatch Logs"). A create call with tags also needs the tagging
# action (iam:TagRole, ecr:TagResource, sagemaker:AddTags: "Provide permissions for tagging SageMaker AI
# resources" in the SageMaker developer guide). The *_CREATE actions are left out when the resource exists.
ROLE_ACTIONS = ("iam:GetRole", "iam:PutRolePolicy", "iam:GetRolePolicy")  # the iam step and its verify
ROLE_CREATE = ("iam:CreateRole", "iam:TagRole")
ROLE_MANAGED = ("iam:AttachRolePolicy", "iam:ListAttachedRolePolicies")
ROLE_CLEANUP = ("iam:ListRolePolicies", "iam:DeleteRolePolicy", "iam:ListAttachedRolePolicies",
                "iam:DetachRolePolicy", "iam:DeleteRole")  # cleanup.everything
PASS_ROLE = ("iam:PassRole",)  # CreateModel hands the role to SageMaker
REPOSITORY_ACTIONS = ("ecr:DescribeRepositories", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                      "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
                      "ecr:DescribeImages")  # docker push, then the digest check
REPOSITORY_CREATE = ("ecr:CreateRepository", "ecr:TagResource")
REPOSITORY_CLEANUP = ("ecr:ListTagsForResource", "ecr:DeleteRepository")  # cleanup.everything, ours only
BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")  # deploy, cleanup
BUCKET_CREATE = ("s3:CreateBucket", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
                 "s3:PutBucketTagging", "s3:DeleteBucket")  # cleanup deletes the bucket sagewiz made
# The model upload (tagged SageMaker=true: a PutObject with tags needs s3:PutObjectTagging), then cleanup's
# probes and deletes.
OBJECT_ACTIONS = ("s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:GetObject",
                  "s3:ListMultipartUploadParts", "s3:DeleteObject")
MODEL_ACTIONS = ("sagemaker:CreateModel", "sagemaker:AddTags", "sagemaker:DescribeModel", "sagemaker:DeleteModel",
                 "sagemaker:ListTags")
CONFIG_ACTIONS = ("sagemaker:CreateEndpointConfig", "sagemaker:AddTags", "sagemaker:DescribeEndpointConfig",
                  "sagemaker:DeleteEndpointConfig", "sagemaker:ListTags")
ENDPOINT_ACTIONS = ("sagemaker:CreateEndpoint", "sagemaker:AddTags", "sagemaker:DescribeEndpoint",
                    "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint",
                    "sagemaker:ListTags")
LOG_GROUP_ACTIONS = ("logs:DescribeLogStreams",)  # the container's last lines after a failed deploy
LOG_STREAM_ACTIONS = ("logs:GetLogEvents",)
ANY_RESOURCE = ("ecr:GetAuthorizationToken", "sagemaker:ListEndpoints", "sagemaker:ListEndpointConfigs",
                "sagemaker:ListModels")  # actions that take no resource ARN


def partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def managed_policy_arn(region: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{MANAGED_POLICY}"


def role_arn(region: str, account: str, role: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:role/{role}"


def repository_arn(region: str, account: str, repository: str) -> str:
    return f"arn:{partition(region)}:ecr:{region}:{account}:repository/{repository}"


def bucket_arn(region: str, bucket: str) -> str:
    return f"arn:{partition(region)}:s3:::{bucket}"


def sagemaker_arn(region: str, account: str, kind: str, name: str) -> str:
    """SageMaker writes the names in its ARNs in lower case (see DescribeEndpoint's EndpointArn)."""
    return f"arn:{partition(region)}:sagemaker:{region}:{account}:{kind}/{name.lower()}"


def log_group_arn(region: str, account: str, endpoint: str) -> str:
    return f"arn:{partition(region)}:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{endpoint}"


def caller_needs(account: str, region: str, *, role: str, repository: str, bucket: str, prefix: str, endpoint: str,
                 model: str, endpoint_config: str, managed: bool, everything: bool,
                 existing: Collection[str] = ()) -> list[Need]:
    """What the next steps call, resource by resource. `existing` names the resources known to exist ("role",
    "repository", "bucket"), whose create actions are not needed; `model` and `endpoint_config` stand for the
    time-stamped names deploy will choose."""
    role_actions = (ROLE_ACTIONS + (() if "role" in existing else ROLE_CREATE) + (ROLE_MANAGED if managed else ())
                    + (ROLE_CLEANUP if everything else ()))
    repository_actions = (REPOSITORY_ACTIONS + (() if "repository" in existing else REPOSITORY_CREATE)
                          + (REPOSITORY_CLEANUP if everything else ()))
    log_group = log_group_arn(region, account, endpoint)
    return [
        Need(role_arn(region, account, role), tuple(dict.fromkeys(role_actions))),
        Need(role_arn(region, account, role), PASS_ROLE, (("iam:PassedToService", "sagemaker.amazonaws.com"),)),
        Need(repository_arn(region, account, repository), repository_actions),
        Need(bucket_arn(region, bucket), BUCKET_ACTIONS + (() if "bucket" in existing else BUCKET_CREATE)),
        Need(f"{bucket_arn(region, bucket)}/{prefix}/*", OBJECT_ACTIONS),
        Need(sagemaker_arn(region, account, "model", model), MODEL_ACTIONS),
        Need(sagemaker_arn(region, account, "endpoint-config", endpoint_config), CONFIG_ACTIONS),
        Need(sagemaker_arn(region, account, "endpoint", endpoint), ENDPOINT_ACTIONS),
        Need(log_group, LOG_GROUP_ACTIONS),
        Need(f"{log_group}:log-stream:*", LOG_STREAM_ACTIONS),
        Need("*", ANY_RESOURCE),
    ]


def read_model_statement(region: str, bucket: str, prefix: str) -> dict[str, Any]:
    """SageMaker reads the model tarball as the execution role."""
    return {"Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": f"{bucket_arn(region, bucket)}/{prefix}/*"}


def model_access_policy(region: str, bucket: str, prefix: str) -> dict[str, Any]:
    """The inline policy beside AmazonSageMakerFullAccess: that policy lets SageMaker read only objects in buckets
    named *SageMaker*/*Sagemaker*/*sagemaker* or objects tagged SageMaker=true
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerFullAccess.html), and
    sagewiz's bucket sagewiz-<account>-<region> is neither; this read works whatever the object's tags."""
    return {"Version": "2012-10-17", "Statement": [read_model_statement(region, bucket, prefix)]}


def execution_policy(account: str, region: str, repository: str, bucket: str, prefix: str,
                     endpoint: str) -> dict[str, Any]:
    """Least privilege: pull this repository's images, read this bucket prefix, write this endpoint's logs."""
    log_group = log_group_arn(region, account, endpoint)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PullModelImage", "Effect": "Allow",
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
             "Resource": repository_arn(region, account, repository)},
            {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            read_model_statement(region, bucket, prefix),
            {"Sid": "ListModelData", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": bucket_arn(region, bucket), "Condition": {"StringLike": {"s3:prefix": f"{prefix}/*"}}},
            {"Sid": "EndpointLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                        "logs:DescribeLogStreams"],
             "Resource": [log_group, f"{log_group}:*"]},
            {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}},
        ],
    }


def principal_for_simulation(caller_arn: str) -> str:
    """simulate_principal_policy takes a user or role ARN; an assumed-role session maps to its role."""
    head, _, resource = caller_arn.partition(":assumed-role/")
    if not resource:
        return caller_arn
    role = resource.split("/", 1)[0]
    return f"{head.replace(':sts:', ':iam:')}:role/{role}"
