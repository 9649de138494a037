"""The push step: push the image to ecr."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws import names
from core.aws.clients import step_failures
from core.container.checks import docker_engine
from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import aws_options, first, local_image

if TYPE_CHECKING:
    from core.runtime.project import Project

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEXES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
TAGS = [{"Key": "created-by", "Value": "sagewiz"}]
PROGRESS_EVERY = 0.25  # seconds between progress events while layers upload


def refuse_unservable(info: dict[str, Any]) -> None:
    """SageMaker runs linux/amd64 images only; say so before anything is uploaded."""
    platform = f"{info.get('Os')}/{info.get('Architecture')}"
    if platform != "linux/amd64":
        raise StepError(f"The image is {platform}, but SageMaker runs linux/amd64 images only and rejects it. "
                        "Rebuild it with the image step (it builds for linux/amd64).")


def refuse_index(media_type: str) -> None:
    if media_type in INDEXES:
        raise StepError(f"The registry holds the image as an index ({media_type}), which SageMaker rejects "
                        "(it needs a Docker v2 image manifest). Build with the classic builder, or with "
                        "`--provenance=false --platform linux/amd64` under buildx, and push again.")


def refuse_unpullable(media_type: str) -> None:
    """SageMaker takes a Docker v2 schema 2 image manifest only; refuse an index or an OCI manifest before deploy
    gets it (in the sandbox, before the emulator's ECR registers it). ECR converts manifest formats only for pulls
    by tag, never by digest, which is how SageMaker pulls
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-manifest-formats.html)."""
    refuse_index(media_type)
    if media_type == OCI_MANIFEST:
        # Docker Desktop's containerd image store pushes OCI manifests
        # (https://docs.docker.com/desktop/features/containerd/); buildx's image exporter writes Docker ones with
        # oci-mediatypes=false (https://docs.docker.com/build/exporters/image-registry/).
        raise StepError(f"The registry holds the image as an OCI image manifest ({media_type}), which SageMaker "
                        "rejects (\"Unsupported manifest media type\"): it needs a Docker v2 image manifest. Docker "
                        "Desktop's containerd image store pushes OCI manifests: turn off \"Use containerd for pulling "
                        "and storing images\" in Docker Desktop's settings (General), then run the image and push "
                        "steps again. Or build and push the image yourself with `docker buildx build --platform "
                        "linux/amd64 --provenance=false --output type=image,oci-mediatypes=false,push=true -t "
                        "<repository URI>:<tag> .`.")


@dataclass(frozen=True)
class PushOutputs(StepOutputs):
    repository_uri: str
    image_uri: str  # by digest: what SageMaker pulls
    digest: str
    registry: str
    pull_uri: str  # by digest from the registry pushed to (the local one in the sandbox)
    tag: str
    media_type: str
    region: str
    sandbox: bool


class PushStep(Step):
    id = "push"
    title = "Push the image to ECR"
    group = "Container"
    consumes = ("image",)
    reads = ("credentials",)  # the account pushed to; push resolves the credentials itself
    requires = (docker_engine,)
    settings = ("image.repository", "aws.region")
    explanation = (
        'Creates the ECR repository if needed and pushes the image there with per-layer progress, then checks '
        'the pushed digest. The tutorial does this inside build-and-push-container with the aws CLI; sagewiz '
        'gets the registry token through boto3, so no password appears on a command line. '
    )
    manual = ('aws ecr create-repository --repository-name sagewiz-model\n'
              'aws ecr get-login-password | docker login --username AWS --password-stdin '
              '<account>.dkr.ecr.<region>.amazonaws.com\n'
              'docker push <account>.dkr.ecr.<region>.amazonaws.com/sagewiz-model:<tag>')
    Outputs = PushOutputs

    @step_failures("push the image to ECR")
    def run(self, ctx: StepContext) -> PushOutputs:
        from core.aws import clients as aws
        from core.container import docker_api

        image = ctx.outputs("image")
        api = docker_api.client()
        info = docker_api.image_info(api, image.image_id)
        if info is None:
            raise StepError(f"The image {image.tag} is no longer on this Docker engine; run the image step "
                            "again.")
        refuse_unservable(info)
        ecr = aws.client(ctx.project, "ecr")
        name = ctx.settings["image.repository"]
        repository = self._ensure_repository(ctx, ecr, name)
        registry, auth = self._login(ctx, ecr)
        target = f"{registry}/{name}"
        tag = image.tag.rsplit(":", 1)[-1]
        api.tag(image.image_id, target, tag)
        ctx.resource_intent("ecr_image", f"{name}:{tag}", repository=name, region=ecr.meta.region_name)
        digest = self._push(ctx, api, target, tag, auth)
        if ctx.project.sandbox:
            self._register_in_emulator(ctx, ecr, registry, name, tag, digest)
        media_type = self._verify(ctx, ecr, name, digest)
        ctx.resource_created("ecr_image", f"{name}:{tag}", digest=digest)
        uri = repository["repositoryUri"]
        ctx.log(f"Pushed {uri}@{digest} ({media_type}).")
        return PushOutputs(repository_uri=uri, image_uri=f"{uri}@{digest}", digest=digest, registry=registry,
                           pull_uri=f"{target}@{digest}", tag=tag, media_type=media_type,
                           region=ecr.meta.region_name, sandbox=ctx.project.sandbox)

    def verify(self, ctx: StepContext, outputs: PushOutputs) -> str | None:
        from core.aws import clients as aws

        name = outputs.repository_uri.split("/", 1)[-1]
        try:
            aws.client(ctx.project, "ecr").describe_images(repositoryName=name,
                                                           imageIds=[{"imageDigest": outputs.digest}])
        except Exception as exc:
            return f"The image {outputs.image_uri} is no longer in ECR ({exc}); push it again."
        return None

    def values(self, project: Project, outputs: PushOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        """Where the image is in ECR; before the push, the repository's URI once the account is known."""
        account, region = known.get("account"), known.get("region")
        expected = (f"{account}.dkr.ecr.{region}.amazonaws.com/{project.settings['image.repository']}"
                    if account else None)
        return {
            "repository_uri": first(outputs.repository_uri if outputs else None, expected),
            "image_uri": outputs.image_uri if outputs else None,
        }

    def by_hand(self, v: Shown) -> str:
        repo, registry, aws = v["repository"], str(v["repository_uri"]).split("/", 1)[0], aws_options(v)
        return (f"aws ecr create-repository {aws} --repository-name {repo}   # once\n"
                f"aws ecr get-login-password {aws} | docker login --username AWS --password-stdin {registry}\n"
                f"docker tag {local_image(v)} {v['repository_uri']}:latest\n"
                f"docker push {v['repository_uri']}:latest\n"
                f"# pushed as {v['image_uri']}")

    def results(self, outputs: PushOutputs) -> list[Block]:
        shown = ["image_uri", "repository_uri", "digest", "registry"]
        return [*fields_rows(outputs, shown, "pushed image"), *fields_rows(outputs, skip=set(shown))]

    def _ensure_repository(self, ctx: StepContext, ecr: Any, name: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
            ctx.log(f"ECR repository {name} exists: {found['repositoryUri']}.")
            return found
        except ecr.exceptions.RepositoryNotFoundException:
            pass
        ctx.resource_intent("ecr_repository", name, region=ecr.meta.region_name)
        created: dict[str, Any] = ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": True}, imageTagMutability="MUTABLE",
            tags=[*TAGS, *names.tags(ctx.project)])["repository"]  # the project's tag: cleanup deletes only ours
        ctx.resource_created("ecr_repository", name, arn=created["repositoryArn"], uri=created["repositoryUri"])
        ctx.log(f"Created the ECR repository {name} (scan on push): {created['repositoryUri']}.")
        return created

    def _login(self, ctx: StepContext, ecr: Any) -> tuple[str, dict[str, str] | None]:
        """The registry to push to and its credentials, from ECR's token (kept in memory, never in argv)."""
        from core.runtime.redact import redactor

        data = ecr.get_authorization_token()["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        redactor.register(password)
        if ctx.project.sandbox:
            from core.aws import sandbox

            registry = sandbox.ensure(ctx.project).registry
            ctx.log(f"SANDBOX: pushing to the local registry {registry} instead of "
                    f"{urllib.parse.urlparse(data['proxyEndpoint']).netloc}.")
            return registry, None
        return urllib.parse.urlparse(data["proxyEndpoint"]).netloc, {"username": user, "password": password}

    def _push(self, ctx: StepContext, api: Any, target: str, tag: str, auth: dict[str, str] | None) -> str:
        """Push with per-layer progress; the digest the registry reports."""
        from core.container import docker_api

        current: dict[str, int] = {}
        total: dict[str, int] = {}
        digest, last_emit = "", 0.0
        start = lambda: api.push(target, tag=tag, stream=True, decode=True, auth_config=auth)  # noqa: E731
        ctx.log(f"Pushing {target}:{tag}.")
        try:
            for message in docker_api.stream(api, start, ctx.cancel):
                if "error" in message:
                    raise StepError(_push_error(message["error"], target))
                layer, status = message.get("id", ""), message.get("status", "")
                detail = message.get("progressDetail") or {}
                if status == "Pushing" and detail.get("total"):
                    total[layer], current[layer] = detail["total"], detail.get("current", 0)
                elif status in ("Pushed", "Layer already exists") or status.startswith("Mounted from"):
                    current[layer] = total.get(layer, 0)
                    ctx.log(f"{layer}: {status}", source="docker push")
                elif layer and status in ("Preparing", "Waiting"):
                    current.setdefault(layer, 0)
                elif status and not layer:
                    ctx.log(status, source="docker push")
                if message.get("aux", {}).get("Digest"):
                    digest = message["aux"]["Digest"]
                if time.monotonic() - last_emit > PROGRESS_EVERY:
                    last_emit = time.monotonic()
                    ctx.progress(sum(current.values()), sum(total.values()) or None,
                                 f"{len(current)} layers to {target}")
        except StepError:
            raise
        except Exception as exc:
            raise docker_api.api_error(exc, f"pushing to {target}") from None
        if not digest:
            raise StepError(f"The push to {target} ended without a digest; run the step again.")
        ctx.progress(1, 1, "pushed")
        return digest

    def _register_in_emulator(self, ctx: StepContext, ecr: Any, registry: str, name: str, tag: str,
                              digest: str) -> None:
        """SANDBOX: give the emulator's ECR the manifest the local registry holds, so describe_images sees it."""
        import urllib.request

        request = urllib.request.Request(f"http://{registry}/v2/{name}/manifests/{digest}",
                                         headers={"Accept": ", ".join((DOCKER_V2, OCI_MANIFEST, *INDEXES))})
        with urllib.request.urlopen(request, timeout=30) as response:
            manifest = response.read().decode("utf-8")
            media_type = response.headers.get("Content-Type", "").split(";")[0] or json.loads(manifest)["mediaType"]
        refuse_unpullable(media_type)
        try:
            ecr.put_image(repositoryName=name, imageManifest=manifest, imageManifestMediaType=media_type,
                          imageTag=tag, imageDigest=digest)
        except ecr.exceptions.ImageAlreadyExistsException:  # a push resumed after it had registered the image
            ctx.log(f"SANDBOX: {name}@{digest} is already in the emulator's ECR.")
            return
        ctx.log(f"SANDBOX: registered {name}@{digest} in the emulator's ECR.")

    def _verify(self, ctx: StepContext, ecr: Any, name: str, digest: str) -> str:
        """ECR describe_images must know the digest; an index or an OCI manifest is refused. The manifest's media
        type."""
        try:
            details = ecr.describe_images(repositoryName=name, imageIds=[{"imageDigest": digest}])["imageDetails"]
        except ecr.exceptions.ImageNotFoundException:
            details = []
        if not details:
            raise StepError(f"ECR does not list {name}@{digest} after the push; run the step again, and if it "
                            "persists check the repository in the ECR console.")
        media_type: str = details[0].get("imageManifestMediaType", DOCKER_V2)
        refuse_unpullable(media_type)
        ctx.log(f"ECR lists {name}@{digest}, {details[0].get('imageSizeInBytes', 0) / 1e6:.0f} MB.")
        return media_type


def _push_error(error: str, target: str) -> str:
    if "no basic auth credentials" in error or "authorization" in error.lower():
        return (f"The registry refused the push to {target}: {error}. The ECR token may have expired or the "
                "credentials lack ecr:InitiateLayerUpload/PutImage; run the step again, and check the IAM policy.")
    return f"The push to {target} failed: {error}. Check the network and the disk of the Docker engine, then rerun."
