"""InvokeEndpoint, forwarded to the endpoint's container as SageMaker's runtime does.

The body, content type and accept header go to POST /invocations; the container's answer comes back. A
container error becomes SageMaker's ModelError (HTTP 424) carrying the container's status and body, with the
message text SageMaker uses ("Received client error (400) from primary with message ...").
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.emulator.endpoints import Endpoints

# SageMaker real-time endpoints give the container 60 seconds to answer an invocation.
INVOCATION_TIMEOUT = 60.0


def invoke(endpoints: Endpoints, account: str, region: str, name: str, body: bytes, content_type: str | None,
           accept: str | None) -> tuple[int, dict[str, Any], bytes]:
    """(status, headers, body) for moto to send back."""
    base_url = endpoints.base_url(account, region, name)
    if base_url is None:  # missing, or not InService yet: SageMaker's runtime answers the same
        return _error(400, "ValidationError", f"Endpoint {name} of account {account} not found.")
    headers = {"Content-Type": content_type or "application/octet-stream"}
    if accept:
        headers["Accept"] = accept
    request = urllib.request.Request(base_url + "/invocations", data=body, headers=headers, method="POST")
    logs = f"/aws/sagemaker/Endpoints/{name}"
    try:
        with urllib.request.urlopen(request, timeout=INVOCATION_TIMEOUT) as answer:
            return 200, {"status": 200, "Content-Type": answer.headers.get("Content-Type", "application/json"),
                         "x-Amzn-Invoked-Production-Variant": "AllTraffic"}, answer.read()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        side = "client" if exc.code < 500 else "server"
        return _error(424, "ModelError", (
            f'Received {side} error ({exc.code}) from primary with message "{text}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:group={logs} "
            f"in account {account} for more information."),
            OriginalStatusCode=exc.code, OriginalMessage=text,
            LogStreamArn=f"arn:aws:logs:{region}:{account}:log-group:{logs}")
    except TimeoutError:
        return _error(424, "ModelError", "Your invocation timed out while waiting for a response from container "
                                         "primary. Review the latency metrics for each container in Amazon "
                                         "CloudWatch, resolve the issue, and try again.")
    except OSError as exc:
        return _error(424, "ModelError", f"An error occurred while sending the request to container primary "
                                         f"({exc}). See {logs} in account {account} for the container's log.")


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[int, dict[str, Any], bytes]:
    body = json.dumps({"__type": code, "message": message, **extra}).encode("utf-8")
    return status, {"status": status, "Content-Type": "application/json", "x-amzn-ErrorType": code}, body
