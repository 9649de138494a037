"""The deploy step: model tarball to S3, SageMaker model, endpoint config and endpoint, waited on."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws import names
from core.aws.clients import step_failures
from core.aws.ledger import ENDPOINT_IN_PROGRESS
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
        if image_region is None:
            raise StepError(f"SageMaker can only pull from ECR, and {image_uri} is not an ECR image; run push again.")
        if image_region != region:
            raise StepError(f"The image is in {image_region} but the endpoint would be in {region}; SageMaker "
                            f"pulls from the same region only. Push to {region} or set aws.region to {image_region}.")
        stamp = time.time()
        model_name = names.versioned(endpoint, "model", stamp)
        config_name = names.versioned(f"{endpoint}-cfg", "endpoint config", stamp)
        label = "SANDBOX: " if ctx.project.sandbox else ""
        cost = pricing.estimate(instance_type, region, count).sentence(instance_type, count, region)
        ctx.log(label + cost)
        if ctx.project.sandbox:
            self._say_if_lenient(ctx)
        if not ctx.confirm(f"{label}Deploy endpoint {endpoint} ({count} x {instance_type}, {region})?", cost):
            raise StepError("Deployment declined: nothing was created. Run the step again to deploy.")

        resolved = aws.resolve(ctx.project)
        s3 = aws.client(ctx.project, "s3", resolved=resolved)
        sagemaker = aws.client(ctx.project, "sagemaker", resolved=resolved)
        logs = aws.client(ctx.project, "logs", resolved=resolved)
        previous = self._settled(ctx, sagemaker, endpoint)
        if previous is not None:
            self._refuse_foreign(ctx, sagemaker, previous)
            resumed = self._resumed(ctx, sagemaker, logs, previous)
            if resumed is not None:
                return resumed
            if previous["EndpointStatus"] == "Failed":
                self._delete_failed(ctx, sagemaker, previous)
                previous = None
            elif previous["EndpointStatus"] != "InService":
                raise StepError(f"The endpoint {endpoint} is {previous['EndpointStatus']}; SageMaker updates only "
                                "InService endpoints. Run cleanup to delete it, then deploy again.")

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

        outputs = DeployOutputs(endpoint_name=endpoint, endpoint_config=config_name, model_name=model_name,
                                bucket=bucket, model_data_url=model_data_url, status="", region=region,
                                instance_type=instance_type, instance_count=count, cost=cost,
                                sandbox=ctx.project.sandbox)
        # the whole outcome rides on the intent, so a deploy that times out resumes by waiting, creating nothing
        ctx.resource_intent("sagemaker_endpoint", endpoint, region=region, instance_type=instance_type,
                            instance_count=count, config=config_name, model=model_name,
                            replaces=previous["EndpointConfigName"] if previous else None, outputs=outputs.to_json())
        if previous is None:
            self._call(lambda: sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name,
                                                         Tags=tags),
                       "sagemaker:CreateEndpoint", f"create the endpoint {endpoint}")
            ctx.log(f"{label}Creating endpoint {endpoint}.")
        else:
            self._call(lambda: sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name),
                       "sagemaker:UpdateEndpoint", f"update the endpoint {endpoint}")
            ctx.log(f"{label}Updating endpoint {endpoint} from {previous['EndpointConfigName']} to {config_name}.")
        return self._finish(ctx, sagemaker, logs, outputs, previous["EndpointConfigName"] if previous else None)

    def _finish(self, ctx: StepContext, sagemaker: Any, logs: Any, outputs: DeployOutputs,
                replaces: str | None) -> DeployOutputs:
        """Wait until the endpoint settles; it must run the new configuration (a failed update rolls back to
        the old one with FailureReason set: the new configuration and model are retired, the live ones kept)."""
        from core.runtime.errors import StepError

        endpoint, config_name = outputs.endpoint_name, outputs.endpoint_config
        described = self._wait(ctx, sagemaker, logs, endpoint)
        if described["EndpointConfigName"] != config_name:
            reason = described.get("FailureReason") or "no reason given"
            self._retire(ctx, sagemaker, config_name)
            ctx.resource_created("sagemaker_endpoint", endpoint, config=described["EndpointConfigName"])
            raise StepError(f"The update of {endpoint} failed and SageMaker rolled it back: it still serves "
                            f"{described['EndpointConfigName']}. Reason: {reason}.{self._log_tail(logs, endpoint)} "
                            "The new configuration and model were deleted. Fix the cause, then run deploy again.")
        ctx.resource_created("sagemaker_endpoint", endpoint, config=config_name, model=outputs.model_name)
        if replaces is not None and replaces != config_name:
            self._retire(ctx, sagemaker, replaces)
        return dataclasses.replace(outputs, status=described["EndpointStatus"])

    # -- pieces -----------------------------------------------------------------------------
    @staticmethod
    def _call(fn: Callable[[], Any], action: str, doing: str) -> Any:
        import botocore.exceptions

        from core.aws import clients as aws

        try:
            return fn()
        except botocore.exceptions.ClientError as exc:
            raise aws.api_error(exc, action, doing) from None

    def _with_role_retry(self, ctx: StepContext, fn: Callable[[], Any], action: str, doing: str) -> Any:
        """IAM propagation: SageMaker says it cannot assume a role created seconds ago; retry a few times.

        Only that refusal ("Could not assume role ARN. Please ensure that the role exists and allows principal
        'sagemaker.amazonaws.com' to assume the role."): a role that cannot read the model or pull the image
        will not recover by waiting, so its error shows at once."""
        import botocore.exceptions

        from core.aws import clients as aws

        for attempt in range(ROLE_RETRIES):
            try:
                return fn()
            except botocore.exceptions.ClientError as exc:
                if "could not assume role" not in str(exc).lower() or attempt == ROLE_RETRIES - 1:
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

        # SageMaker=true: AmazonSageMakerFullAccess lets SageMaker read objects carrying this tag in any bucket
        self._call(lambda: s3.upload_file(str(tarball), bucket, key, Callback=progress,
                                          ExtraArgs={"Tagging": "SageMaker=true"}),
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

    def _wait(self, ctx: StepContext, sagemaker: Any, logs: Any, endpoint: str) -> dict[str, Any]:
        """DescribeEndpoint until it settles InService; Failed (or gone) is an error with the container's log."""
        from core.runtime.errors import StepError

        described = self._poll(ctx, sagemaker, endpoint, "")
        status = described["EndpointStatus"] if described else "Missing"
        if status == "InService":
            return described or {}
        reason = (described or {}).get("FailureReason") or "no reason given"
        if status == "UpdateRollbackFailed":  # final: SageMaker neither updates nor repairs it
            raise StepError(f"The endpoint {endpoint} is UpdateRollbackFailed ({reason}): SageMaker could not roll "
                            "the update back and will not update it again. Delete it with sagewiz cleanup, then "
                            "deploy again.")
        raise StepError(f"The endpoint {endpoint} is {status}: {reason}.{self._log_tail(logs, endpoint)} "
                        "Fix the cause, then run deploy again (cleanup removes what was created).")

    def _settled(self, ctx: StepContext, sagemaker: Any, endpoint: str) -> dict[str, Any] | None:
        """The endpoint as it is once no operation is in progress (an earlier deploy's, or SageMaker's own
        SystemUpdating): SageMaker refuses to update or delete it meanwhile. None when there is none."""
        described = self._describe(sagemaker, endpoint)
        if described is None or described["EndpointStatus"] not in ENDPOINT_IN_PROGRESS:
            return described
        ctx.log(f"The endpoint {endpoint} is {described['EndpointStatus']} (an earlier deploy, or SageMaker "
                "itself); waiting until it settles.")
        return self._poll(ctx, sagemaker, endpoint, " (earlier operation)")

    def _poll(self, ctx: StepContext, sagemaker: Any, endpoint: str, what: str) -> dict[str, Any] | None:
        """Describe every poll interval while the endpoint's status is in progress; the settled description."""
        from core.runtime.errors import StepError

        timeout = ctx.settings["deploy.timeout_minutes"] * 60
        poll = SANDBOX_POLL_SECONDS if ctx.project.sandbox else POLL_SECONDS
        started, last = time.monotonic(), None
        while True:
            described = self._describe(sagemaker, endpoint)
            status: str = described["EndpointStatus"] if described else "Missing"
            elapsed = time.monotonic() - started
            if status != last:
                ctx.log(f"Endpoint {endpoint}: {status} after {elapsed:.0f} s{what}.")
                last = status
            ctx.progress(min(elapsed, timeout), timeout, f"{status} {elapsed:.0f} s")
            if status not in ENDPOINT_IN_PROGRESS:
                return described
            if elapsed > timeout:
                raise StepError(f"The endpoint {endpoint} is still {status} after {timeout / 60:.0f} minutes. "
                                "It keeps going in AWS: run deploy again to keep waiting (nothing is uploaded or "
                                "created again), or cleanup to delete it.")
            ctx.sleep(poll)

    def _refuse_foreign(self, ctx: StepContext, sagemaker: Any, described: dict[str, Any]) -> None:
        """An endpoint of the same name that this project did not create is never updated or replaced."""
        from core.runtime.errors import StepError

        name = described["EndpointName"]
        tags = self._call(lambda: sagemaker.list_tags(ResourceArn=described["EndpointArn"]), "sagemaker:ListTags",
                          f"read the tags of the endpoint {name}").get("Tags", [])
        mine = {"Key": names.TAG_PROJECT, "Value": names.project_tag(ctx.project)}
        if mine not in tags:
            raise StepError(f"An endpoint named {name} already exists in this account and region, and this project "
                            f"did not create it (it lacks the tag {names.TAG_PROJECT}={mine['Value']}). sagewiz "
                            "leaves it alone: choose another deploy.endpoint.")

    def _resumed(self, ctx: StepContext, sagemaker: Any, logs: Any,
                 described: dict[str, Any]) -> DeployOutputs | None:
        """A deploy that stopped waiting (timeout, kill) after SageMaker accepted its request: finish it from
        the ledger's intent, uploading and creating nothing again."""
        name = described["EndpointName"]
        entry = next((e for e in ctx.state.ledger() if e["kind"] == "sagemaker_endpoint" and e["id"] == name
                      and e.get("status") == "intent" and e.get("outputs")), None)
        if entry is None or described["EndpointStatus"] != "InService":
            return None
        on_new = described["EndpointConfigName"] == entry["config"]
        rolled_back = bool(described.get("FailureReason")) and described["EndpointConfigName"] == entry["replaces"]
        if not (on_new or rolled_back):
            return None
        ctx.log(f"An earlier deploy already asked SageMaker for {entry['config']}; finishing it, without uploading "
                "or creating anything again.")
        return self._finish(ctx, sagemaker, logs, DeployOutputs.load("deploy", entry["outputs"]), entry["replaces"])

    def _delete_failed(self, ctx: StepContext, sagemaker: Any, described: dict[str, Any]) -> None:
        """SageMaker cannot update a Failed endpoint: delete it, wait until it is gone, then it is created anew."""
        name = described["EndpointName"]
        ctx.log(f"The endpoint {name} is Failed ({described.get('FailureReason') or 'no reason given'}); SageMaker "
                "can only delete it. Deleting it, then creating it again.")
        self._call(lambda: sagemaker.delete_endpoint(EndpointName=name), "sagemaker:DeleteEndpoint",
                   f"delete the failed endpoint {name}")
        self._poll(ctx, sagemaker, name, " (deleting)")
        ctx.resource_deleted("sagemaker_endpoint", name)
        self._retire(ctx, sagemaker, described["EndpointConfigName"])

    def _say_if_lenient(self, ctx: StepContext) -> None:
        """Another emulator than sagewiz's checks nothing SageMaker checks: say so, once per deploy."""
        from core.aws import sandbox

        found = sandbox.ensure(ctx.project)
        if not found.strict:
            ctx.log(f"SANDBOX: the emulator at {found.aws_endpoint} is not sagewiz's (sagewiz sandbox start): "
                    "SageMaker's strict checks are off (execution role, image, container health), so this "
                    "rehearsal may pass what AWS refuses.", "warn")

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
        url = str(v["model_data_url"])
        key = url.split("/", 3)[3] if url.startswith("s3://") and url.count("/") >= 3 else "<model key>"
        return (f"aws s3 mb s3://{v['bucket']} {a}\n"
                f"tar -C model -czf model.tar.gz .   # the model directory from the image step\n"
                f"aws s3 cp model.tar.gz {v['model_data_url']} {a}\n"
                "# AmazonSageMakerFullAccess reads objects tagged SageMaker=true (least privilege needs no tag)\n"
                f"aws s3api put-object-tagging {a} --bucket {v['bucket']} --key {key} \\\n"
                "  --tagging 'TagSet=[{Key=SageMaker,Value=true}]'\n"
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
