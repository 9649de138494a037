#!/usr/bin/env python3
"""Delete what costs money: the endpoint, its configurations and models, the model tarballs in S3;
with --all also the ECR repository and the IAM role. Then check that nothing is left.

AWS credentials come from the default chain. Run: python cleanup.py [--all] [--yes]
"""

import argparse
import contextlib
import os
import re
import sys

import boto3
import botocore.exceptions

__VALUES__


def missing(exc: botocore.exceptions.ClientError) -> bool:
    """SageMaker says ValidationException ("Could not find ...") for a name that does not exist."""
    code = exc.response["Error"]["Code"]
    return code in ("ValidationException", "NoSuchEntity", "RepositoryNotFoundException", "NoSuchBucket", "404")


@contextlib.contextmanager
def gone_is_fine():
    """A resource that is already gone is not an error, so this script can run any number of times."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        if not missing(exc):
            raise


def ours(names, endpoint: str, known) -> set:
    """Names deploy.py gives (endpoint + UTC time stamp), plus the ones sagewiz recorded."""
    pattern = re.compile(re.escape(endpoint) + r"-\d{8}-\d{6}")
    return {n for n in names if pattern.fullmatch(n) or n in known}


def sagemaker_leftovers(sagemaker, endpoint: str) -> dict:
    endpoints = [e["EndpointName"] for e in sagemaker.list_endpoints(NameContains=endpoint)["Endpoints"]
                 if e["EndpointName"] == endpoint]
    configs = ours([c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs(
        NameContains=endpoint)["EndpointConfigs"]], endpoint, KNOWN_ENDPOINT_CONFIGS)
    models = ours([m["ModelName"] for m in sagemaker.list_models(NameContains=endpoint)["Models"]], endpoint,
                  KNOWN_MODELS)
    return {"endpoint": endpoints, "endpoint config": sorted(configs), "model": sorted(models)}


def delete_sagemaker(sagemaker, endpoint: str) -> None:
    configs, models = set(KNOWN_ENDPOINT_CONFIGS), set(KNOWN_MODELS)
    with gone_is_fine():
        config = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
        configs.add(config)
        variants = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
        models.update(v["ModelName"] for v in variants)
        sagemaker.delete_endpoint(EndpointName=endpoint)
        print(f"deleting endpoint {endpoint}")
        sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=endpoint, WaiterConfig={"Delay": 10})
        print(f"deleted endpoint {endpoint}")
    found = sagemaker_leftovers(sagemaker, endpoint)
    for config in sorted(configs | set(found["endpoint config"])):
        with gone_is_fine():
            sagemaker.delete_endpoint_config(EndpointConfigName=config)
            print(f"deleted endpoint config {config}")
    for model in sorted(models | set(found["model"])):
        with gone_is_fine():
            sagemaker.delete_model(ModelName=model)
            print(f"deleted model {model}")


def delete_objects(s3, bucket: str, prefix: str) -> None:
    with gone_is_fine():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
                print(f"deleted {len(keys)} object(s) under s3://{bucket}/{prefix}/")


def delete_repository_and_role(region: str) -> None:
    ecr, iam = boto3.client("ecr", region_name=region), boto3.client("iam", region_name=region)
    with gone_is_fine():
        ecr.delete_repository(repositoryName=REPOSITORY, force=True)
        print(f"deleted ECR repository {REPOSITORY}")
    with gone_is_fine():
        for name in iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]:
            iam.delete_role_policy(RoleName=ROLE_NAME, PolicyName=name)
        for policy in iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=ROLE_NAME, PolicyArn=policy["PolicyArn"])
        iam.delete_role(RoleName=ROLE_NAME)
        print(f"deleted IAM role {ROLE_NAME}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", dest="everything", action="store_true", default=EVERYTHING,
                        help=f"also delete the ECR repository {REPOSITORY} and the IAM role {ROLE_NAME}")
    parser.add_argument("--yes", action="store_true", help="do not ask before deleting")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--endpoint", default=ENDPOINT)
    args = parser.parse_args()
    what = f"endpoint {args.endpoint}, its configs and models, s3://{BUCKET}/{PREFIX}/"
    if args.everything:
        what += f", ECR repository {REPOSITORY}, IAM role {ROLE_NAME}"
    if not args.yes and input(f"Delete {what} in {args.region}? [y/N] ").strip().lower() not in ("y", "yes"):
        sys.exit("Nothing was deleted.")

    sagemaker = boto3.client("sagemaker", region_name=args.region)
    delete_sagemaker(sagemaker, args.endpoint)
    if BUCKET:
        delete_objects(boto3.client("s3", region_name=args.region), BUCKET, PREFIX)
    if args.everything:
        delete_repository_and_role(args.region)
    left = {kind: names for kind, names in sagemaker_leftovers(sagemaker, args.endpoint).items() if names}
    if left:
        sys.exit("Still there (check the SageMaker console): " +
                 "; ".join(f"{kind}: {', '.join(names)}" for kind, names in left.items()))
    print("Nothing billable is left from this deployment.")


if __name__ == "__main__":
    main()
