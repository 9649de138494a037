"""The Docker engine through the docker SDK's low-level API: a client, cancellable JSON streams, errors as sentences.

Builds and pushes stream JSON messages over one long HTTP response. A cancel must end the engine's work
too, and the engine stops a build only when the client hangs up, so `stream` shuts the response's socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from core.runtime.errors import Cancelled, StepError

API_TIMEOUT = 300  # seconds of silence on a request before it fails (pushes of big layers are quiet)
PING_TIMEOUT = 10  # seconds for a ping: a hung engine must not hold a step for API_TIMEOUT
PLATFORM = "linux/amd64"  # SageMaker runs amd64 only


class DockerUnavailable(StepError):
    """The engine cannot be reached or stopped answering; the message says what to do."""


class EngineStopped(DockerUnavailable):
    """The engine went away while a build or push streamed."""


def client() -> Any:
    """A low-level client for the engine in DOCKER_HOST (or the default socket), checked with a ping."""
    import docker

    try:
        api = docker.APIClient(base_url=_base_url(), timeout=PING_TIMEOUT)  # asks the engine's API version
        api.ping()
        api.timeout = API_TIMEOUT
    except Exception as exc:  # DockerException, requests errors, FileNotFoundError on the socket
        raise DockerUnavailable(
            f"The Docker engine does not answer ({short(exc)}). Start Docker (Docker Desktop, or "
            "`sudo systemctl start docker`), check DOCKER_HOST, and run the step again.") from None
    return api


def _base_url() -> str:
    import os

    from docker.utils import utils

    return os.environ.get("DOCKER_HOST") or utils.DEFAULT_UNIX_SOCKET


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:300] if text else type(exc).__name__


def engine_alive(api: Any) -> bool:
    """A ping bounded by PING_TIMEOUT, for telling an engine that went away from a failed request."""
    saved, api.timeout = api.timeout, PING_TIMEOUT
    try:
        return bool(api.ping())
    except Exception:
        return False
    finally:
        api.timeout = saved


def stream(api: Any, start: Callable[[], Iterator[dict[str, Any]]],
           cancel: threading.Event | None) -> Iterator[dict[str, Any]]:
    """Iterate a decoded JSON stream from `start()`; a cancel hangs up (the engine then stops) and raises Cancelled.

    A connection that breaks mid-stream raises EngineStopped when the engine no longer answers.
    """
    responses: list[Any] = []

    def capture(response: Any, *args: Any, **kwargs: Any) -> Any:
        responses.append(response)
        return response

    api.hooks.setdefault("response", []).append(capture)
    try:
        iterator = start()
    finally:
        api.hooks["response"].remove(capture)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if cancel is not None and cancel.is_set():
                for response in responses:
                    _hang_up(response)
                return

    watcher = threading.Thread(target=watch, name="docker-stream-cancel", daemon=True)
    watcher.start()
    try:
        for message in iterator:
            if cancel is not None and cancel.is_set():
                raise Cancelled("The step was cancelled.")
            yield message
    except Cancelled:
        raise
    except Exception:
        if cancel is not None and cancel.is_set():
            raise Cancelled("The step was cancelled.") from None
        if not engine_alive(api):
            raise EngineStopped(
                "The Docker engine stopped answering in the middle of the request. Start Docker again and rerun "
                "the step (`sagewiz run` resumes there).") from None
        raise
    finally:
        done.set()
        for response in responses:
            _hang_up(response)
    if cancel is not None and cancel.is_set():
        raise Cancelled("The step was cancelled.")


def _hang_up(response: Any) -> None:
    """Close the HTTP connection under a streamed response, so the engine sees the client leave."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        response.close()
    except Exception:
        pass


def api_error(exc: Exception, doing: str) -> StepError:
    """A docker APIError (or connection error) as a sentence about what failed while `doing`."""
    explanation = getattr(exc, "explanation", None) or short(exc)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return StepError(f"Docker failed while {doing}: {explanation}.")


def image_info(api: Any, ref: str) -> dict[str, Any] | None:
    """`docker image inspect`, or None when the image does not exist."""
    import docker.errors

    try:
        info: dict[str, Any] = api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return None
    return info


def remove_image(api: Any, ref: str) -> None:
    """Remove an image if it exists (children and other tags keep their layers)."""
    import docker.errors

    try:
        api.remove_image(ref, force=True, noprune=False)
    except docker.errors.NotFound:
        pass


def run_once(api: Any, image: str, argv: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run a short command in a throwaway container (host network); exit code and output. Always removed."""
    container = api.create_container(image, command=argv, entrypoint=[],
                                     host_config=api.create_host_config(network_mode="host"))
    try:
        api.start(container)
        code = api.wait(container, timeout=timeout)["StatusCode"]
        output = api.logs(container, stdout=True, stderr=True).decode("utf-8", "replace")
        return code, output
    finally:
        api.remove_container(container, force=True)
