#!/usr/bin/env python3
"""Ask the endpoint for predictions: its status, then one request with the model's input example.

MLflow 2+ scoring servers want {"dataframe_split": {"columns": [...], "data": [[...]]}} as
application/json (the tutorial's bare pandas-split body no longer works).
Run: python predict.py                       the SageMaker endpoint (AWS default credential chain)
     python predict.py --status              only the endpoint's status (exit 1 unless InService)
     python predict.py --local-url http://127.0.0.1:8080   the same request to a container running locally
"""

import argparse
import json
import os
import sys
import urllib.request

import boto3
import botocore.exceptions

__VALUES__


def local(url: str, body: bytes) -> str:
    """The request SageMaker would send, to a locally running serving container."""
    url = url.rstrip("/")
    with urllib.request.urlopen(f"{url}/ping", timeout=30) as answer:
        print(f"ping: HTTP {answer.status}")
    request = urllib.request.Request(f"{url}/invocations", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.read().decode()


def remote(region: str, endpoint: str, body: bytes, status_only: bool) -> str | None:
    sagemaker = boto3.client("sagemaker", region_name=region)
    try:
        status = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    except botocore.exceptions.ClientError as exc:
        sys.exit(f"Endpoint {endpoint} was not found in {region} ({exc.response['Error']['Message']}); "
                 "run deploy.py first.")
    print(f"endpoint {endpoint}: {status}")
    if status != "InService":
        sys.exit(1 if status_only else f"The endpoint is {status}, not InService; wait or check deploy.py's output.")
    if status_only:
        return None
    runtime = boto3.client("sagemaker-runtime", region_name=region)
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=body)
    return answer["Body"].read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-url", help="a serving container on this machine, e.g. http://127.0.0.1:8080")
    parser.add_argument("--status", action="store_true", help="only check the endpoint's status")
    parser.add_argument("--input", help='rows as JSON: {"columns": [...], "data": [[...]]} (default: the example)')
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", REGION))
    parser.add_argument("--endpoint", default=ENDPOINT)
    args = parser.parse_args()
    rows = json.loads(args.input) if args.input else INPUT_EXAMPLE
    if rows is None:
        sys.exit('No input example is known; pass --input \'{"columns": [...], "data": [[...]]}\'.')
    body = json.dumps({"dataframe_split": rows}).encode()
    if args.local_url:
        answer = local(args.local_url, body)
    else:
        answer = remote(args.region, args.endpoint, body, args.status)
        if answer is None:
            return
    print(f"input: {json.dumps(rows)}")
    try:
        parsed = json.loads(answer)
    except ValueError:
        print(f"answer: {answer}")
        return
    print(f"predictions: {json.dumps(parsed.get('predictions', parsed) if isinstance(parsed, dict) else parsed)}")

if __name__ == "__main__":
    main()
