"""A small threaded HTTP proxy in front of the AWS emulator that answers chosen requests with AWS errors.

Tests point `sandbox.aws_endpoint` at it, tell it which requests to fail (a predicate), with which answer and
how many times (None: for ever), and count what it saw, so botocore's retries can be observed and bounded.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


# SageMaker speaks AWS JSON 1.1: botocore reads the code from __type and retries it as throttling.
THROTTLING = Answer(400, "application/x-amz-json-1.1",
                    b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')
# S3 speaks REST-XML: a bare 503, the way a load balancer in front of a service answers.
UNAVAILABLE = Answer(503, "application/xml",
                     b"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>ServiceUnavailable</Code>"
                     b"<Message>Service is unable to handle request.</Message></Error>")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    target: str  # X-Amz-Target of JSON protocols ("SageMaker.CreateModel"), else ""


def amz_target(operation: str) -> Callable[[Request], bool]:
    """Requests for one operation of a JSON-protocol service, e.g. amz_target("SageMaker.CreateModel")."""
    return lambda request: request.target == operation


def s3_put_object(suffix: str) -> Callable[[Request], bool]:
    """S3 PutObject requests for keys ending with `suffix` (path-style addressing, as against an emulator)."""
    def match(request: Request) -> bool:
        path, _, query = request.path.partition("?")
        return request.method == "PUT" and path.endswith(suffix) and "partNumber" not in query

    return match


@dataclass
class _Rule:
    match: Callable[[Request], bool]
    answer: Answer
    left: int | None  # None: for ever


class FaultProxy:
    """Forwards to `upstream`; requests matching a rule get the rule's answer while it has answers left."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urllib.parse.urlparse(upstream).netloc
        self.seen: list[Request] = []
        self.injected: list[Request] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()

    def fail(self, match: Callable[[Request], bool], answer: Answer, times: int | None) -> None:
        with self._lock:
            self._rules.append(_Rule(match, answer, times))

    def heal(self) -> None:
        """Stop injecting: every request goes to the emulator again."""
        with self._lock:
            self._rules.clear()

    def count(self, match: Callable[[Request], bool], injected: bool = False) -> int:
        with self._lock:
            return sum(1 for r in (self.injected if injected else self.seen) if match(r))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _decide(self, request: Request) -> Answer | None:
        with self._lock:
            self.seen.append(request)
            for rule in self._rules:
                if rule.match(request) and (rule.left is None or rule.left > 0):
                    if rule.left is not None:
                        rule.left -= 1
                    self.injected.append(request)
                    return rule.answer
        return None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def _any(self) -> None:
                body = self._body()
                answer = proxy._decide(Request(self.command, self.path, self.headers.get("X-Amz-Target", "")))
                if answer is not None:
                    return self._send(answer.status, [("Content-Type", answer.content_type)], answer.body)
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("transfer-encoding", "expect")}  # the body is read already
                    headers["Content-Length"] = str(len(body))
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    kept = [(k, v) for k, v in response.getheaders()
                            if k.lower() not in ("transfer-encoding", "content-length", "connection")]
                    self._send(response.status, kept, data)
                except OSError:  # the emulator is gone: hang up, as a dead endpoint would
                    self.close_connection = True
                finally:
                    upstream.close()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size + 2)[:size]
                        if not size:
                            break
                        chunks.append(chunk)
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _any

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler
