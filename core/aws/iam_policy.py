"""Policy documents for the SageMaker execution role, and the permissions the caller itself needs."""

from __future__ import annotations

from typing import Any

MANAGED_POLICY = "AmazonSageMakerFullAccess"

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}

# What the wizard's own identity calls, by step; named in messages when AWS refuses one.
CALLER_ACTIONS = (
    "iam:GetRole", "iam:CreateRole", "iam:PutRolePolicy", "iam:PassRole",
    "ecr:CreateRepository", "ecr:GetAuthorizationToken", "ecr:InitiateLayerUpload", "ecr:PutImage",
    "s3:CreateBucket", "s3:PutObject",
    "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
    "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint",
)


def partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def managed_policy_arn(region: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{MANAGED_POLICY}"


def execution_policy(account: str, region: str, repository: str, bucket: str, prefix: str,
                     endpoint: str) -> dict[str, Any]:
    """Least privilege: pull this repository's images, read this bucket prefix, write this endpoint's logs."""
    arn = partition(region)
    log_group = f"arn:{arn}:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{endpoint}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PullModelImage", "Effect": "Allow",
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
             "Resource": f"arn:{arn}:ecr:{region}:{account}:repository/{repository}"},
            {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "ReadModelData", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": f"arn:{arn}:s3:::{bucket}/{prefix}/*"},
            {"Sid": "ListModelData", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": f"arn:{arn}:s3:::{bucket}", "Condition": {"StringLike": {"s3:prefix": f"{prefix}/*"}}},
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
