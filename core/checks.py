"""Prerequisite checks: each returns ok, warn or fail with a one-line fix; run concurrently with timeouts."""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from core.project import Project


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str = ""
    seconds: float = 0.0


CheckFn = Callable[["Project"], CheckResult]
CHECKS: dict[str, tuple[str, float, CheckFn]] = {}


def check(name: str, title: str, timeout: float) -> Callable[[CheckFn], CheckFn]:
    """Register a check under `name`; `timeout` bounds it whatever the service does."""

    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = (title, timeout, fn)
        return fn

    return register


def _registered() -> dict[str, tuple[str, float, CheckFn]]:
    import core.preflight_checks  # noqa: F401  (registers the checks)

    return CHECKS


def title(name: str) -> str:
    """A check's title for people ("Docker engine" for `docker`)."""
    return _registered()[name][0]


def run_checks(project: "Project", names: list[str] | None = None) -> list[CheckResult]:
    """Run the named checks (default: all) in parallel; a check that overruns is a fail, not a hang."""
    registered = _registered()
    names = list(registered) if names is None else names
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="check")
    started = time.monotonic()
    futures = {name: pool.submit(_timed, name, project) for name in names}
    results = []
    for name, future in futures.items():
        title, timeout, _ = CHECKS[name]
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            results.append(future.result(timeout=remaining))
        except concurrent.futures.TimeoutError:
            results.append(CheckResult(title, "fail", f"no answer within {timeout:g} s",
                                       "Check that the service is running and reachable, then retry.", timeout))
    pool.shutdown(wait=False, cancel_futures=True)
    return results


def _timed(name: str, project: "Project") -> CheckResult:
    title, _, fn = CHECKS[name]
    started = time.monotonic()
    try:
        result = fn(project)
    except Exception as exc:  # a check that crashes reports it rather than crashing preflight
        result = CheckResult(title, "fail", f"the check itself failed: {exc}", "See the log file for details.")
    return CheckResult(result.name, result.status, result.detail, result.fix, time.monotonic() - started)
