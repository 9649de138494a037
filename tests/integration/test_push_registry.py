"""The push step in the sandbox: real dockerd, real local registry, moto's ECR; pull back by digest. An OCI
image manifest (what Docker Desktop's containerd image store pushes) is refused before ECR hears of it."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
import uuid

import pytest

from core.aws import names
from core.runtime.errors import StepError
from core.runtime.events import Progress
from tests.plugins.aws_fixtures import sandbox_client
from tests.plugins.docker_fixtures import open_project, run_step, stack_value

pytestmark = pytest.mark.integration


def test_push_registers_the_image_and_it_pulls_back_by_digest(built_image, docker_stack, moto_url):
    if not docker_stack["registry"]:
        from tests.conftest import unavailable

        unavailable("The local registry", "SAGEWIZ_REGISTRY is not set (run scripts/stack start)")
    api, registry = docker_stack["api"], docker_stack["registry"]
    repository = f"sagewiz-test-push-{uuid.uuid4().hex[:8]}"
    project = open_project(built_image["root"], **{**built_image["settings"], "image.repository": repository,
                                                   "sandbox.enabled": True, "sandbox.aws_endpoint": moto_url,
                                                   "sandbox.registry": registry})
    try:
        project.state.update_record("image", status="done", outputs=built_image["outputs"])
        ok, outputs, error, recorder = run_step(project, "push")
        ledger = project.state.ledger()
    finally:
        project.close()
    assert ok, error
    digest = outputs["digest"]
    try:
        assert outputs["image_uri"] == f"{outputs['repository_uri']}@{digest}"
        assert outputs["pull_uri"] == f"{registry}/{repository}@{digest}"
        assert outputs["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
        ecr = sandbox_client(moto_url, "ecr")
        repo = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        assert {"Key": "created-by", "Value": "sagewiz"} in tags
        assert {"Key": names.TAG_PROJECT, "Value": names.project_tag(project)} in tags  # what cleanup looks for
        details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])["imageDetails"]
        assert details[0]["imageTags"] == [outputs["tag"]]
        assert any(r.get("kind") == "ecr_repository" and r.get("status") == "created" for r in ledger)
        progress = [e for e in recorder.of(Progress) if e.step == "push"]
        assert progress and progress[-1].current == progress[-1].total
        assert any("Pushed" in line or "Layer already exists" in line for line in recorder.lines("push"))
        request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{digest}",
                                         headers={"Accept": outputs["media_type"]})
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read())["mediaType"] == outputs["media_type"]
        api.remove_image(f"{registry}/{repository}:{outputs['tag']}")
        api.pull(f"{registry}/{repository}", tag=digest)
        assert api.inspect_image(outputs["pull_uri"])["Id"] == built_image["outputs"]["image_id"]
    finally:
        for ref in (outputs["pull_uri"], f"{registry}/{repository}:{outputs['tag']}"):
            try:
                api.remove_image(ref)
            except Exception:
                pass
        delete = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{digest}", method="DELETE")
        try:
            urllib.request.urlopen(delete).close()
        except OSError:
            pass


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _upload(registry: str, repository: str, blob: bytes) -> str:
    """One blob into the registry (distribution API: POST an upload, then PUT it with its digest); its digest."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    start = urllib.request.Request(f"http://{registry}/v2/{repository}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=30) as response:
        location = urllib.parse.urljoin(f"http://{registry}/", response.headers["Location"])
    joiner = "&" if "?" in location else "?"
    urllib.request.urlopen(urllib.request.Request(
        f"{location}{joiner}digest={digest}", data=blob, method="PUT",
        headers={"Content-Type": "application/octet-stream"}), timeout=30).close()
    return digest


def test_push_refuses_an_oci_image_manifest_before_ecr_registers_it(step_ctx, sandbox_project, moto_url):
    """What a containerd image store pushes: a single OCI manifest, which SageMaker rejects by digest."""
    from core.aws import clients as aws
    from core.steps.push import PushStep

    registry = stack_value("SAGEWIZ_REGISTRY")
    if not registry:
        from tests.conftest import unavailable

        unavailable("The local registry", "SAGEWIZ_REGISTRY is not set (run scripts/stack start)")
    repository = f"sagewiz-test-oci-{uuid.uuid4().hex[:8]}"
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json", "digest": _upload(registry, repository, config),
        "size": len(config)}}).encode()
    put = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/v1", data=manifest, method="PUT",
                                 headers={"Content-Type": OCI_MANIFEST})
    with urllib.request.urlopen(put, timeout=30) as response:
        digest = response.headers["Docker-Content-Digest"]
    ecr = aws.client(sandbox_project, "ecr")
    ecr.create_repository(repositoryName=repository)
    try:
        with pytest.raises(StepError) as failure:
            PushStep()._register_in_emulator(step_ctx("push"), ecr, registry, repository, "v1", digest)
        message = str(failure.value)
        assert OCI_MANIFEST in message and "Docker v2" in message
        assert "Use containerd for pulling and storing images" in message and "oci-mediatypes=false" in message
        assert sandbox_client(moto_url, "ecr").list_images(repositoryName=repository)["imageIds"] == []
    finally:
        delete = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{digest}", method="DELETE")
        try:
            urllib.request.urlopen(delete, timeout=30).close()
        except OSError:
            pass
