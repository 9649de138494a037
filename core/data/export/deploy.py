#!/usr/bin/env python3
"""Deploy the model to a SageMaker endpoint with boto3 (MLflow 3 no longer has mlflow.sagemaker.deploy).

Uploads the model as model.tar.gz to S3, creates a SageMaker model and endpoint configuration, then
creates the endpoint (or updates it when it exists) and waits until it is InService. This costs money
by the hour until cleanup.py runs. AWS credentials come from the default chain.
Run: python deploy.py
"""

import argparse
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import boto3
import botocore.exceptions
import mlflow

__VALUES__


def versioned(base: str) -> str:
    """A name unique per deploy (SageMaker keeps models and configs by name): base + UTC time stamp."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{base[:63 - len(stamp) - 1].rstrip('-')}-{stamp}"


def endpoint_exists(sagemaker, name: str) -> bool:
    try:
        sagemaker.describe_endpoint(EndpointName=name)
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationException":  # SageMaker's "Could not find endpoint"
            return False
        raise
    return True


def upload_model(s3, region: str, bucket: str, key: str, tracking_uri: str, model_uri: str) -> str:
    """The model directory as a tarball at s3://bucket/key, in the endpoint's region, tagged SageMaker=true."""
    try:
        location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] or "us-east-1"
        if location != region:
            sys.exit(f"Bucket {bucket} is in {location}, not {region}: SageMaker needs the model in the "
                     "endpoint's region. Pass --bucket with a bucket in that region.")
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchBucket", "404"):
            raise
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
        print(f"created bucket s3://{bucket}")
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(tracking_uri)
        model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=f"{tmp}/model"))
        tarball = Path(tmp) / "model.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            for item in sorted(model_dir.iterdir()):
                tar.add(item, arcname=item.name)
        # SageMaker=true: AmazonSageMakerFullAccess (README step 3's alternative to iam-policy.json) lets SageMaker
        # read only objects carrying this tag, or in buckets named after SageMaker, which this bucket is not
        s3.upload_file(str(tarball), bucket, key, ExtraArgs={"Tagging": "SageMaker=true"})
    return f"s3://{bucket}/{key}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", TRACKING_URI))
    parser.add_argument("--model-uri", default=MODEL_URI)
    parser.add_argument("--model-data-url", help="an s3:// model.tar.gz already uploaded (skips the upload)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--image-uri", default=IMAGE_URI, help="the image build_and_push.py printed")
    parser.add_argument("--role-arn", default=ROLE_ARN, help="the SageMaker execution role")
    parser.add_argument("--endpoint", default=ENDPOINT)
    parser.add_argument("--bucket", default=BUCKET)
    parser.add_argument("--instance-type", default=INSTANCE_TYPE)
    parser.add_argument("--instance-count", type=int, default=INSTANCE_COUNT)
    parser.add_argument("--timeout-minutes", type=int, default=30)
    args = parser.parse_args()
    for option in ("image_uri", "role_arn", "bucket"):
        if not getattr(args, option):
            sys.exit(f"No --{option.replace('_', '-')} is known yet; pass it on the command line.")

    sagemaker = boto3.client("sagemaker", region_name=args.region)
    model_name, config_name = versioned(args.endpoint), versioned(args.endpoint)
    data_url = args.model_data_url
    if not data_url:
        if not args.model_uri:
            sys.exit("No --model-uri is known yet; pass the MLflow model URI (runs:/<run id>/random-forest-model).")
        data_url = upload_model(boto3.client("s3", region_name=args.region), args.region, args.bucket,
                                f"{PREFIX}/{model_name}/model.tar.gz", args.tracking_uri, args.model_uri)
    print(f"model data: {data_url}")
    sagemaker.create_model(ModelName=model_name, ExecutionRoleArn=args.role_arn,
                           PrimaryContainer={"Image": args.image_uri, "ModelDataUrl": data_url})
    sagemaker.create_endpoint_config(EndpointConfigName=config_name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model_name, "InstanceType": args.instance_type,
        "InitialInstanceCount": args.instance_count}])
    if endpoint_exists(sagemaker, args.endpoint):
        sagemaker.update_endpoint(EndpointName=args.endpoint, EndpointConfigName=config_name)
        print(f"updating endpoint {args.endpoint} to {config_name}")
    else:
        sagemaker.create_endpoint(EndpointName=args.endpoint, EndpointConfigName=config_name)
        print(f"creating endpoint {args.endpoint} with {config_name}")
    started = time.monotonic()
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(
            EndpointName=args.endpoint, WaiterConfig={"Delay": 30, "MaxAttempts": args.timeout_minutes * 2})
    except botocore.exceptions.WaiterError:
        answer = sagemaker.describe_endpoint(EndpointName=args.endpoint)
        sys.exit(f"Endpoint {args.endpoint} is {answer['EndpointStatus']}: {answer.get('FailureReason', '')} "
                 f"See CloudWatch log group /aws/sagemaker/Endpoints/{args.endpoint}.")
    print(f"endpoint {args.endpoint} is InService after {time.monotonic() - started:.0f} s "
          f"(model {model_name}, config {config_name})")


if __name__ == "__main__":
    main()
