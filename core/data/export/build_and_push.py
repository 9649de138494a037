#!/usr/bin/env python3
"""Build the model's serving image (Dockerfile next to this script) and push it to Amazon ECR.

Needs Docker running and AWS credentials from the default chain (aws configure, AWS_PROFILE, SSO or
environment variables). Prints the pushed image as repository@sha256:digest, the reference deploy.py takes.
Run: python build_and_push.py   [--registry HOST:PORT to push to another registry instead of ECR]
"""

import argparse
import base64
import os
import shutil
import sys
import tempfile
from pathlib import Path

import boto3
import docker
import mlflow

__VALUES__


def ecr_repository(region: str, name: str) -> tuple[str, dict]:
    """The repository URI (created when missing) and the login for its registry."""
    ecr = boto3.client("ecr", region_name=region)
    try:
        uri = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryUri"]
    except ecr.exceptions.RepositoryNotFoundException:
        uri = ecr.create_repository(repositoryName=name)["repository"]["repositoryUri"]
        print(f"created ECR repository {uri}")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, password = base64.b64decode(token).decode().split(":", 1)
    return uri, {"username": username, "password": password}


def build(client, context: Path, tag: str) -> None:
    for chunk in client.api.build(path=str(context), tag=tag, platform="linux/amd64", rm=True, decode=True):
        if "stream" in chunk:
            print(chunk["stream"], end="")
        if "error" in chunk:
            sys.exit(f"The image build failed: {chunk['error']}")


def push(client, repository: str, tag: str, auth: dict | None) -> str:
    digest = None
    for chunk in client.api.push(repository, tag=tag, auth_config=auth, stream=True, decode=True):
        if "error" in chunk:
            sys.exit(f"The push failed: {chunk['error']}")
        digest = chunk.get("aux", {}).get("Digest", digest)
        if chunk.get("status") and not chunk.get("progress"):
            print(chunk["status"], chunk.get("id", ""))
    if digest is None:
        sys.exit("The registry did not report a digest for the pushed image.")
    return f"{repository}@{digest}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", TRACKING_URI))
    parser.add_argument("--model-uri", default=MODEL_URI, required=MODEL_URI is None)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--repository", default=REPOSITORY)
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--registry", help="push to this registry (host:port) instead of ECR, e.g. for a rehearsal")
    args = parser.parse_args()

    context = Path(tempfile.mkdtemp(prefix="build-"))
    try:
        mlflow.set_tracking_uri(args.tracking_uri)
        mlflow.artifacts.download_artifacts(artifact_uri=args.model_uri, dst_path=str(context / "model"))
        shutil.copy(Path(__file__).with_name("Dockerfile"), context / "Dockerfile")
        client = docker.from_env()
        if args.registry:
            repository, auth = f"{args.registry}/{args.repository}", None
        else:
            repository, auth = ecr_repository(args.region, args.repository)
        build(client, context, f"{repository}:{args.tag}")
        print(push(client, repository, args.tag, auth))
    finally:
        shutil.rmtree(context, ignore_errors=True)


if __name__ == "__main__":
    main()
