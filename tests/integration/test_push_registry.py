"""The push step in the sandbox: real dockerd, real local registry, moto's ECR; pull back by digest."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from core.runtime.events import Progress
from tests.plugins.aws_fixtures import sandbox_client
from tests.plugins.docker_fixtures import open_project, run_step

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
