"""Prerequisite checks: each returns ok, warn or fail with a one-line fix; run concurrently with timeouts.

A check is a `Check` value made by the `check` decorator where its concern lives (core.container.checks,
core.tracking.checks, core.aws.checks); steps name the checks they need, and preflight lists them all.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from core.runtime.project import Project

CheckStatus = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str
    fix: str = ""
    seconds: float = 0.0


CheckFn = Callable[["Project"], CheckResult]


@dataclass(frozen=True)
class Check:
    """A prerequisite: `name` for settings and tests, `title` for people, `timeout` bounds it whatever happens."""

    name: str
    title: str
    timeout: float
    fn: CheckFn

    def __call__(self, project: Project) -> CheckResult:
        return self.fn(project)


def check(name: str, title: str, timeout: float) -> Callable[[CheckFn], Check]:
    """Make a function a `Check`."""

    def make(fn: CheckFn) -> Check:
        return Check(name, title, timeout, fn)

    return make


def run_checks(project: Project, checks: Sequence[Check]) -> list[CheckResult]:
    """Run the checks in parallel; a check that overruns is a fail, not a hang."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(checks)), thread_name_prefix="check")
    started = time.monotonic()
    futures = [(c, pool.submit(_timed, c, project)) for c in checks]
    results = []
    for c, future in futures:
        remaining = max(0.0, c.timeout - (time.monotonic() - started))
        try:
            results.append(future.result(timeout=remaining))
        except concurrent.futures.TimeoutError:
            results.append(CheckResult(c.title, "fail", f"no answer within {c.timeout:g} s",
                                       "Check that the service is running and reachable, then retry.", c.timeout))
    pool.shutdown(wait=False, cancel_futures=True)
    return results


def _timed(c: Check, project: Project) -> CheckResult:
    started = time.monotonic()
    try:
        result = c(project)
    except Exception as exc:  # a check that crashes reports it rather than crashing preflight
        result = CheckResult(c.title, "fail", f"the check itself failed: {exc}", "See the log file for details.")
    return CheckResult(result.name, result.status, result.detail, result.fix, time.monotonic() - started)
