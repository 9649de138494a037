"""The deploy step: model tarball to S3, SageMaker model, endpoint config and endpoint, waited on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws import names
from core.aws.clients import step_failures
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, Cell, Line, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import aws_options, first

if TYPE_CHECKING:
    from core.runtime.project import Project

ROLE_RETRIES = 6  # a fresh execution role can take a few seconds before SageMaker may assume it
POLL_SECONDS = 15.0
SANDBOX_POLL_SECONDS = 0.5
VARIANT = "AllTraffic"


@dataclass(frozen=True)
class DeployOutputs(StepOutputs):
    endpoint_name: str
    endpoint_config: str
    model_name: str
    bucket: str
    model_data_url: str
    status: str
    region: str
    instance_type: str
    instance_count: int
    cost: str
    sandbox: bool


class DeployStep(Step):
    id = "deploy"
    title = "Deploy to SageMaker"
    group = "AWS"
    asks = "before it creates the endpoint, which bills by the hour"
    Outputs = DeployOutputs
    consumes = ("push", "iam", "model", "credentials")
    settings = ("deploy.endpoint", "deploy.instance_type", "deploy.instance_count", "deploy.bucket",
                "deploy.timeout_minutes")
    explanation = (
        "Uploads the model to an S3 bucket in the endpoint's region and creates the SageMaker model, endpoint "
        'configuration and endpoint (or updates an endpoint that exists), then waits until it is InService. '
        'This is the step that costs money: sagewiz shows the hourly price of the instance and asks first. '
        "The tutorial's deploy.py uses mlflow.sagemaker.deploy, which MLflow 3 no longer has. "
    )
    manual = ('aws sagemaker create-model ...\naws sagemaker create-endpoint-config ...\n'
              'aws sagemaker create-endpoint ...\naws sagemaker wait endpoint-in-service --endpoint-name sagewiz-iris')

    @step_failures("deploy the model to SageMaker")
    def run(self, ctx: StepContext) -> DeployOutputs:
        from core.aws import clients as aws
        from core.aws import pricing
        from core.runtime.errors import StepError

        creds, push, role = ctx.outputs("credentials"), ctx.outputs("push"), ctx.outputs("iam")
        region, account = creds.region, creds.account
        # Everything is checked before the first call.
        endpoint = names.sagemaker_name(ctx.settings["deploy.endpoint"], "endpoint")
        bucket = names.default_bucket(ctx.project, account, region)
        instance_type = pricing.check_instance_type(ctx.settings["deploy.instance_type"])
        count = ctx.settings["deploy.instance_count"]
        image_uri = push.image_uri
        if "@sha256:" not in image_uri:
            raise StepError("The push step has no image digest (image_uri repo@sha256:...); run push again.")
        image_region = names.image_region(image_uri)
        if image_region is None and not ctx.project.sandbox:
            raise StepError(f"SageMaker can only pull from ECR, and {image_uri} is not an ECR image; run push again.")
        if image_region and image_region != region:
            raise StepError(f"The image is in {image_region} but the endpoint would be in {region}; SageMaker "
                            f"pulls from the same region only. Push to {region} or set aws.region to {image_region}.")
        stamp = time.time()
        model_name = names.versioned(endpoint, "model", stamp)
        config_name = names.versioned(f"{endpoint}-cfg", "endpoint config", stamp)
        label = "SANDBOX: " if ctx.project.sandbox else ""
        cost = pricing.estimate(instance_type, region, count).sentence(instance_type, count, region)
        ctx.log(label + cost)
        if not ctx.confirm(f"{label}Deploy endpoint {endpoint} ({count} x {instance_type}, {region})?", cost):
            raise StepError("Deployment declined: nothing was created. Run the step again to deploy.")

        resolved = aws.resolve(ctx.project)
        s3 = aws.client(ctx.project, "s3", resolved=resolved)
        sagemaker = aws.client(ctx.project, "sagemaker", resolved=resolved)
        self._bucket(ctx, s3, bucket, region)
        model_data_url = self._upload(ctx, s3, bucket, f"{names.model_prefix(ctx.project)}/{model_name}/model.tar.gz")
        tags = names.tags(ctx.project)
        ctx.resource_intent("sagemaker_model", model_name, region=region)
        self._with_role_retry(ctx, lambda: sagemaker.create_model(
            ModelName=model_name, ExecutionRoleArn=role.role_arn, Tags=tags,
            PrimaryContainer={"Image": image_uri, "ModelDataUrl": model_data_url, "Mode": "SingleModel"}),
            "sagemaker:CreateModel", f"create the SageMaker model {model_name}")
        ctx.resource_created("sagemaker_model", model_name)
        ctx.resource_intent("sagemaker_endpoint_config", config_name, region=region)
        self._call(lambda: sagemaker.create_endpoint_config(
            EndpointConfigName=config_name, Tags=tags, ProductionVariants=[{
                "VariantName": VARIANT, "ModelName": model_name, "InstanceType": instance_type,
                "InitialInstanceCount": count, "InitialVariantWeight": 1.0}]),
            "sagemaker:CreateEndpointConfig", f"create the endpoint configuration {config_name}")
        ctx.resource_created("sagemaker_endpoint_config", config_name)

        previous = self._describe(sagemaker, endpoint)
        ctx.resource_intent("sagemaker_endpoint", endpoint, region=region, instance_type=instance_type,
                            instance_count=count)
        if previous is None:
            self._call(lambda: sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name,
                                                         Tags=tags),
                       "sagemaker:CreateEndpoint", f"create the endpoint {endpoint}")
            ctx.log(f"{label}Creating endpoint {endpoint}.")
        else:
            self._update(ctx, sagemaker, endpoint, config_name, tags)
            ctx.log(f"{label}Updating endpoint {endpoint} from {previous['EndpointConfigName']} to {config_name}.")
        status = self._wait(ctx, sagemaker, aws.client(ctx.project, "logs", resolved=resolved), endpoint)
        ctx.resource_created("sagemaker_endpoint", endpoint, config=config_name, model=model_name)
        if previous is not None:
            self._retire(ctx, sagemaker, previous["EndpointConfigName"])
        return DeployOutputs(endpoint_name=endpoint, endpoint_config=config_name, model_name=model_name,
                             bucket=bucket, model_data_url=model_data_url, status=status, region=region,
                             instance_type=instance_type, instance_count=count, cost=cost,
                             sandbox=ctx.project.sandbox)

    # -- pieces -----------------------------------------------------------------------------
    @staticmethod
    def _call(fn: Callable[[], Any], action: str, doing: str) -> Any:
        import botocore.exceptions

        from core.aws import clients as aws

        try:
            return fn()
        except botocore.exceptions.ClientError as exc:
            raise aws.api_error(exc, action, doing) from None

    def _update(self, ctx: StepContext, sagemaker: Any, endpoint: str, config_name: str,
                tags: list[dict[str, str]]) -> None:
        """UpdateEndpoint; the emulator lacks it (HTTP 500), so the SANDBOX replaces the endpoint instead."""
        import botocore.exceptions

        from core.aws import clients as aws

        try:
            sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
        except botocore.exceptions.ClientError as exc:
            if not (ctx.project.sandbox and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500):
                raise aws.api_error(exc, "sagemaker:UpdateEndpoint", f"update the endpoint {endpoint}") from None
            ctx.log("SANDBOX: the emulator cannot update endpoints, so the endpoint is deleted and created again.")
            sagemaker.delete_endpoint(EndpointName=endpoint)
            sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name, Tags=tags)

    def _with_role_retry(self, ctx: StepContext, fn: Callable[[], Any], action: str, doing: str) -> Any:
        """IAM propagation: SageMaker says it cannot assume a role created seconds ago; retry a few times."""
        import botocore.exceptions

        from core.aws import clients as aws

        for attempt in range(ROLE_RETRIES):
            try:
                return fn()
            except botocore.exceptions.ClientError as exc:
                if "assume" not in str(exc).lower() or attempt == ROLE_RETRIES - 1:
                    raise aws.api_error(exc, action, doing) from None
                ctx.log(f"SageMaker cannot assume the new role yet (IAM propagation); retry {attempt + 1}.")
                ctx.sleep(5)

    def _bucket(self, ctx: StepContext, s3: Any, bucket: str, region: str) -> None:
        """Create the bucket (public access blocked, encrypted) or check the existing one's region."""
        import botocore.exceptions

        from core.aws import clients as aws
        from core.runtime.errors import StepError

        try:
            location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] or "us-east-1"
        except botocore.exceptions.ClientError as exc:
            if aws.error_code(exc) not in ("NoSuchBucket", "404"):
                raise aws.api_error(exc, "s3:GetBucketLocation", f"look up the bucket {bucket}") from None
            location = None
        if location is not None:
            if location != region:
                raise StepError(f"The bucket {bucket} is in {location}, not {region}; SageMaker reads model data "
                                "from the endpoint's region only. Set deploy.bucket to a bucket in "
                                f"{region} (or empty it for sagewiz's default).")
            ours = any(e["kind"] == "s3_bucket" and e["id"] == bucket and e.get("status") != "deleted"
                       for e in ctx.state.ledger())
            if ours:  # a wizard killed right after creating it may not have hardened it yet
                self._harden(ctx, s3, bucket)
            ctx.log(f"Using bucket s3://{bucket} ({location}).")
            return
        ctx.resource_intent("s3_bucket", bucket, region=region)
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        self._call(lambda: s3.create_bucket(Bucket=bucket, **extra), "s3:CreateBucket", f"create the bucket {bucket}")
        ctx.resource_created("s3_bucket", bucket)
        self._harden(ctx, s3, bucket)
        ctx.log(f"Created bucket s3://{bucket} in {region}: public access blocked, encryption on.")

    def _harden(self, ctx: StepContext, s3: Any, bucket: str) -> None:
        """Public access blocked, default encryption, sagewiz's tags: idempotent, for buckets sagewiz made."""
        self._call(lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}), "s3:PutBucketPublicAccessBlock", f"block public access to {bucket}")
        self._call(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
            "s3:PutEncryptionConfiguration", f"turn on encryption for {bucket}")
        self._call(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": names.tags(ctx.project)}),
                   "s3:PutBucketTagging", f"tag the bucket {bucket}")

    def _upload(self, ctx: StepContext, s3: Any, bucket: str, key: str) -> str:
        from core.tracking import model_tarball

        tarball = model_tarball.build(ctx)
        url = f"s3://{bucket}/{key}"
        ctx.resource_intent("s3_object", url, region=ctx.outputs("credentials").region)
        size = tarball.stat().st_size
        sent = [0]

        def progress(chunk: int) -> None:
            sent[0] += chunk
            ctx.progress(sent[0], size, "model.tar.gz")

        self._call(lambda: s3.upload_file(str(tarball), bucket, key, Callback=progress),
                   "s3:PutObject", f"upload the model to {url}")
        ctx.resource_created("s3_object", url)
        ctx.log(f"Uploaded the model ({size / 1e6:.1f} MB) to {url}.")
        return url

    @staticmethod
    def _describe(sagemaker: Any, endpoint: str) -> dict[str, Any] | None:
        import botocore.exceptions

        try:
            described: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=endpoint)
            return described
        except botocore.exceptions.ClientError as exc:
            if "could not find" in str(exc).lower():
                return None
            raise

    def _wait(self, ctx: StepContext, sagemaker: Any, logs: Any, endpoint: str) -> str:
        from core.runtime.errors import StepError

        timeout = ctx.settings["deploy.timeout_minutes"] * 60
        poll = SANDBOX_POLL_SECONDS if ctx.project.sandbox else POLL_SECONDS
        started, last = time.monotonic(), None
        while True:
            described = self._describe(sagemaker, endpoint) or {"EndpointStatus": "Missing"}
            status: str = described["EndpointStatus"]
            elapsed = time.monotonic() - started
            if status != last:
                ctx.log(f"Endpoint {endpoint}: {status} after {elapsed:.0f} s.")
                last = status
            ctx.progress(min(elapsed, timeout), timeout, f"{status} {elapsed:.0f} s")
            if status == "InService":
                return status
            if status in ("Failed", "Missing", "OutOfService"):
                reason = described.get("FailureReason", "no reason given")
                raise StepError(f"The endpoint {endpoint} is {status}: {reason}.{self._log_tail(logs, endpoint)} "
                                "Fix the cause, then run deploy again (cleanup removes what was created).")
            if elapsed > timeout:
                raise StepError(f"The endpoint {endpoint} is still {status} after {timeout / 60:.0f} minutes. "
                                "It keeps going in AWS: run deploy again to keep waiting, or cleanup to delete it.")
            ctx.sleep(poll)

    @staticmethod
    def _log_tail(logs: Any, endpoint: str, lines: int = 20) -> str:
        """The last lines of the endpoint's newest CloudWatch log stream, for a failed deploy."""
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        try:
            streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True,
                                                limit=1)["logStreams"]
            if not streams:
                return ""
            events = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                                         limit=lines, startFromHead=False)["events"]
        except Exception:  # the logs are a courtesy: their absence must not hide the failure reason
            return f" (no container logs in {group})"
        return f" Last container log lines ({group}):\n" + "\n".join(e["message"] for e in events)

    @staticmethod
    def _retire(ctx: StepContext, sagemaker: Any, config_name: str) -> None:
        """After an update: delete the previous endpoint config (and its model, when sagewiz made both)."""
        import botocore.exceptions

        try:
            config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
            sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
        except botocore.exceptions.ClientError:
            return
        ctx.resource_deleted("sagemaker_endpoint_config", config_name)
        ours = {e["id"] for e in ctx.state.ledger() if e["kind"] == "sagemaker_model"}
        for variant in config.get("ProductionVariants", []):
            if variant["ModelName"] in ours:
                try:
                    sagemaker.delete_model(ModelName=variant["ModelName"])
                except botocore.exceptions.ClientError:
                    continue
                ctx.resource_deleted("sagemaker_model", variant["ModelName"])
        ctx.log(f"Deleted the previous endpoint configuration {config_name}.")

    def verify(self, ctx: StepContext, outputs: DeployOutputs) -> str | None:
        from core.aws import clients as aws

        try:
            described = self._describe(aws.client(ctx.project, "sagemaker", timeout=10), outputs.endpoint_name)
        except Exception as exc:  # verification must not crash the engine
            return str(exc)
        if described is None:
            return f"The endpoint {outputs.endpoint_name} no longer exists."
        if described["EndpointStatus"] != "InService":
            return f"The endpoint {outputs.endpoint_name} is {described['EndpointStatus']}."
        return None

    def values(self, project: Project, outputs: DeployOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        """The endpoint's names; its own region wins over the credentials' (it is where the endpoint lives)."""
        s = project.settings
        region = first(outputs.region if outputs else None, known.get("region"))
        account = known.get("account")
        endpoint = first(outputs.endpoint_name if outputs else None, s["deploy.endpoint"])
        return {
            "region": outputs.region if outputs else None,
            "endpoint": endpoint,
            "endpoint_config": outputs.endpoint_config if outputs else None,
            "model_name": outputs.model_name if outputs else None,
            "bucket": first(outputs.bucket if outputs else None,
                            names.default_bucket(project, account, region) if account else s["deploy.bucket"]),
            "prefix": f"sagewiz/{endpoint}",
            "model_data_url": outputs.model_data_url if outputs else None,
            "instance_type": s["deploy.instance_type"],
            "instance_count": s["deploy.instance_count"],
        }

    def by_hand(self, v: Shown) -> str:
        a = aws_options(v)
        return (f"aws s3 mb s3://{v['bucket']} {a}\n"
                f"tar -C model -czf model.tar.gz .   # the model directory from the image step\n"
                f"aws s3 cp model.tar.gz {v['model_data_url']} {a}\n"
                f"aws sagemaker create-model {a} --model-name {v['model_name']} \\\n"
                f"  --execution-role-arn {v['role_arn']} \\\n"
                f"  --primary-container Image={v['image_uri']},ModelDataUrl={v['model_data_url']}\n"
                f"aws sagemaker create-endpoint-config {a} --endpoint-config-name {v['endpoint_config']} \\\n"
                f"  --production-variants VariantName=AllTraffic,ModelName={v['model_name']},"
                f"InstanceType={v['instance_type']},InitialInstanceCount={v['instance_count']}\n"
                f"aws sagemaker create-endpoint {a} --endpoint-name {v['endpoint']} "
                f"--endpoint-config-name {v['endpoint_config']}\n"
                f"aws sagemaker wait endpoint-in-service {a} --endpoint-name {v['endpoint']}")

    def results(self, outputs: DeployOutputs) -> list[Block]:
        shown = ["endpoint_config", "model_name", "bucket", "model_data_url", "region"]
        head = Line(["endpoint ", Cell(outputs.endpoint_name, strong=True), "  status ",
                     Cell(outputs.status, "ok" if outputs.status == "InService" else "warn", strong=True)])
        return [head, *fields_rows(outputs, shown),
                *fields_rows(outputs, skip={*shown, "endpoint_name", "status"})]
