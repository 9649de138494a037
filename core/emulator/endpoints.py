"""SageMaker's endpoint lifecycle, for real: the model's image runs in a container on the local Docker engine.

CreateEndpoint answers at once with the endpoint Creating; a worker then does what SageMaker does on an
instance: pulls the image, unpacks the model tarball from S3 into /opt/ml/model, runs `IMAGE serve` and waits
for GET /ping. Healthy: InService. Not: Failed with SageMaker's FailureReason. The container's output is the
endpoint's CloudWatch log stream (/aws/sagemaker/Endpoints/NAME, stream VARIANT/INSTANCE). UpdateEndpoint
starts the new configuration's container beside the old one and switches only when it is healthy; a failed
update leaves the endpoint InService on the old configuration with FailureReason set, as SageMaker does
(UpdateEndpoint API reference: "the endpoint's status is rolled back to InService").
"""

from __future__ import annotations

import io
import shutil
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from core.container import serving
from core.emulator import model_checks
from core.runtime import ports

# SageMaker's FailureReason when the container does not pass the health check (seen on DescribeEndpoint).
PING_FAILED = ("The primary container for production variant {variant} did not pass the ping health check. "
               "Please check CloudWatch logs for this endpoint.")
IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


@dataclass
class Instance:
    """One endpoint configuration running: its container and the directory its model was unpacked to."""

    running: serving.Running
    config: str
    workdir: Path


class Endpoints:
    """The emulator's running endpoints, keyed by (account, region, endpoint name)."""

    def __init__(self, registry: str, workdir: Path, min_delay: float, health_timeout: float) -> None:
        self.registry = registry
        self.workdir = workdir
        self.min_delay = min_delay
        self.health_timeout = health_timeout
        self._lock = threading.RLock()
        self._instances: dict[tuple[str, str, str], Instance] = {}
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._api: Any = None

    # -- the API calls ----------------------------------------------------------------------------
    def create(self, backend: Any, name: str, config_name: str, tags: list[dict[str, str]], moto_create: Any) -> Any:
        """CreateEndpoint: refused when it exists (SageMaker does not overwrite), else moto's record, Creating."""
        from moto.sagemaker.models import FakeEndpoint

        with self._lock:
            if name in backend.endpoints:
                arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
                raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
            endpoint = moto_create(backend, name, config_name, tags)
            endpoint.endpoint_status = "Creating"
        self._spawn(self._creating, backend, endpoint)
        return endpoint

    def update(self, backend: Any, name: str, config_name: str) -> str:
        """UpdateEndpoint: only an InService endpoint; Updating while the new configuration starts."""
        with self._lock:
            endpoint = self._endpoint(backend, name)
            if endpoint.endpoint_status == "Failed":
                raise ValidationError(message=f'Cannot update failed endpoint "{endpoint.arn}".')
            if endpoint.endpoint_status != "InService":
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            backend.describe_endpoint_config(config_name)  # SageMaker's "Could not find endpoint configuration"
            endpoint.endpoint_status = "Updating"
        self._spawn(self._updating, backend, endpoint, config_name)
        return str(endpoint.arn)

    def delete(self, backend: Any, name: str) -> None:
        """DeleteEndpoint: refused while it is being created or updated; else Deleting, then gone."""
        with self._lock:
            endpoint = self._endpoint(backend, name)
            if endpoint.endpoint_status in IN_PROGRESS:
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            endpoint.endpoint_status = "Deleting"
        self._spawn(self._deleting, backend, endpoint)

    def base_url(self, account: str, region: str, name: str) -> str | None:
        """Where the endpoint's container answers, when it is InService."""
        with self._lock:
            instance = self._instances.get((account, region, name))
            return instance.running.base_url if instance else None

    def running(self) -> list[dict[str, str]]:
        """The endpoints whose containers run, for `sagewiz sandbox status`."""
        with self._lock:
            return [{"endpoint": name, "account": account, "region": region, "config": instance.config,
                     "container": instance.running.container[:12], "url": instance.running.base_url}
                    for (account, region, name), instance in self._instances.items()]

    def stop_all(self) -> None:
        """Every container this emulator runs is removed (sandbox stop, moto reset)."""
        self._stopping.set()
        for worker in list(self._workers):
            worker.join(timeout=self.health_timeout + 30)
        with self._lock:
            instances, self._instances = list(self._instances.values()), {}
            self._workers = []
        for instance in instances:
            self._remove(instance)
        self._stopping.clear()

    # -- the workers -------------------------------------------------------------------------------
    def _spawn(self, target: Any, *args: Any) -> None:
        worker = threading.Thread(target=target, args=args, daemon=True, name=f"endpoint-{target.__name__}")
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def _creating(self, backend: Any, endpoint: Any) -> None:
        instance, reason = self._start(backend, endpoint, endpoint.endpoint_config_name)
        with self._lock:
            if instance is None:
                endpoint.endpoint_status, endpoint.failure_reason = "Failed", reason
                return
            self._instances[self._key(backend, endpoint.endpoint_name)] = instance
            endpoint.endpoint_status = "InService"

    def _updating(self, backend: Any, endpoint: Any, config_name: str) -> None:
        instance, reason = self._start(backend, endpoint, config_name)
        key = self._key(backend, endpoint.endpoint_name)
        with self._lock:
            if instance is None:  # rolled back: the old configuration keeps serving
                endpoint.endpoint_status, endpoint.failure_reason = "InService", reason
                return
            old = self._instances.get(key)
            self._instances[key] = instance
            config = backend.describe_endpoint_config(config_name)
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
            endpoint.endpoint_status, endpoint.failure_reason = "InService", None
        if old is not None:
            self._remove(old)

    def _deleting(self, backend: Any, endpoint: Any) -> None:
        with self._lock:
            instance = self._instances.pop(self._key(backend, endpoint.endpoint_name), None)
        if instance is not None:
            self._remove(instance)
        with self._lock:
            backend.endpoints.pop(endpoint.endpoint_name, None)

    def _start(self, backend: Any, endpoint: Any, config_name: str) -> tuple[Instance | None, str]:
        """Run the configuration's model as SageMaker would; (instance, "") or (None, FailureReason)."""
        begun = time.monotonic()
        workdir = self.workdir / f"{endpoint.endpoint_name}-{uuid.uuid4().hex[:8]}"
        running = None
        try:
            variant = backend.describe_endpoint_config(config_name)["ProductionVariants"][0]
            model = backend._models.get(variant["ModelName"])
            if model is None:
                return None, f"Could not find model \"{variant['ModelName']}\"."
            container = model.primary_container
            image = self._pull(container["Image"])
            model_dir = workdir / "model"
            self._unpack(backend.account_id, container.get("ModelDataUrl"), model_dir)
            stream = self._log_stream(backend, endpoint.endpoint_name, variant["VariantName"])
            running = serving.start(
                self.api(), image, port=ports.any_free("0.0.0.0"), on_log=stream, role="endpoint",
                environment={**(container.get("Environment") or {}), "AWS_REGION": backend.region_name,
                             "AWS_DEFAULT_REGION": backend.region_name},
                labels={"sagewiz.endpoint": endpoint.endpoint_name},
                binds={str(model_dir): {"bind": "/opt/ml/model", "mode": "ro"}})
            try:
                serving.wait_until_ready(self.api(), running, timeout=self.health_timeout, cancel=self._stopping)
            except Exception:
                stream(f"The container did not answer GET /ping with 200 ({time.monotonic() - begun:.0f} s).")
                raise RuntimeError(PING_FAILED.format(variant=variant["VariantName"])) from None
            self._stopping.wait(max(0.0, self.min_delay - (time.monotonic() - begun)))
            if self._stopping.is_set():
                raise RuntimeError("The emulator stopped while the endpoint started.")
            return Instance(running, config_name, workdir), ""
        except Exception as exc:  # every failure becomes the endpoint's FailureReason, as on SageMaker
            if running is not None:
                self._remove(Instance(running, config_name, workdir))
            shutil.rmtree(workdir, ignore_errors=True)
            return None, str(exc) or exc.__class__.__name__

    # -- pieces ------------------------------------------------------------------------------------
    def api(self) -> Any:
        from core.container import docker_api

        if self._api is None:
            self._api = docker_api.client()
        return self._api

    def _pull(self, uri: str) -> str:
        """The ECR image, pulled from the sandbox's registry (where the push step put it)."""
        ref = model_checks.parse_image(uri)
        if ref is None:
            raise RuntimeError(f"Requested image {uri} not found.")
        local = f"{self.registry}/{ref.repository}" + (f"@{ref.digest}" if ref.digest else f":{ref.tag}")
        try:
            self.api().pull(local)
        except Exception as exc:
            raise RuntimeError(f"Failed to pull the image {uri} for the container \"primary\" ({exc}).") from None
        return local

    def _unpack(self, account: str, url: str | None, model_dir: Path) -> None:
        """SageMaker downloads ModelDataUrl and unpacks it (a gzipped tar) into /opt/ml/model."""
        model_dir.mkdir(parents=True)
        if not url:
            return
        key = model_checks.model_object(account, url)
        if key is None:
            raise RuntimeError(f"Failed to download model data for container \"primary\" from URL: \"{url}\". "
                               "Please ensure that there is an object located at the URL.")
        try:
            with tarfile.open(fileobj=io.BytesIO(key.value), mode="r:*") as archive:
                archive.extractall(model_dir, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise RuntimeError(f"Failed to extract model data archive from URL \"{url}\". Please ensure that the "
                               f"object located at the URL is a valid tar.gz archive ({exc}).") from None

    @staticmethod
    def _log_stream(backend: Any, name: str, variant: str) -> Any:
        """A writer of lines to /aws/sagemaker/Endpoints/NAME, stream VARIANT/i-<instance id>."""
        from moto.logs.models import logs_backends

        logs = logs_backends[backend.account_id][backend.region_name]
        group = f"/aws/sagemaker/Endpoints/{name}"
        stream = f"{variant}/i-{uuid.uuid4().hex[:17]}"
        if group not in logs.groups:
            logs.create_log_group(group, {})
        logs.create_log_stream(group, stream)

        def write(line: str) -> None:
            try:
                logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])
            except Exception:  # the log group was deleted (a reset): the line has nowhere to go
                pass

        return write

    def _remove(self, instance: Instance) -> None:
        serving.remove(self.api(), instance.running)
        shutil.rmtree(instance.workdir, ignore_errors=True)

    @staticmethod
    def _key(backend: Any, name: str) -> tuple[str, str, str]:
        return backend.account_id, backend.region_name, name

    @staticmethod
    def _endpoint(backend: Any, name: str) -> Any:
        from moto.sagemaker.models import FakeEndpoint

        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Could not find endpoint "{arn}".')
        return endpoint
