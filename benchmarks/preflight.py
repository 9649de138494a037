"""Preflight wall time, every service up and with Docker and AWS unreachable (goals: <= 1 s and <= 4 s).

Each figure is the median over fresh processes of `run_checks` on a sandbox project (cold imports
included), plus the whole `sagewiz doctor` command. "Up" is the stack's Docker engine and registry and
a moto server started here; "unreachable" is a Docker socket that never answers and a dead AWS endpoint.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.runtime.ports import any_free  # noqa: E402
from tests.plugins.docker_fixtures import stack_value  # noqa: E402

RUNS = 5
TIMED = ("import sys, time; from core.runtime.project import Project; from core.runtime.checks import run_checks; "
         "p = Project(sys.argv[1]).open_readonly(); t = time.perf_counter(); r = run_checks(p); "
         "print(time.perf_counter() - t, ' '.join(x.status for x in r))")


@contextmanager
def _moto():
    binary = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if binary is None:
        raise RuntimeError("moto_server is not installed (pip install -e '.[dev]')")
    port = any_free()
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _project(root: Path, aws_endpoint: str, registry: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    extra = f'registry = "{registry}"\n' if registry else ""
    (root / "sagewiz.toml").write_text(f'[sandbox]\nenabled = true\naws_endpoint = "{aws_endpoint}"\n{extra}'
                                       f'[tracking]\nport = {any_free()}\n')
    return root


def _median(argv: list[str], env: dict[str, str], parse: bool) -> tuple[float, str]:
    times, statuses = [], ""
    for _ in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        elapsed = time.perf_counter() - started
        if parse:
            value, statuses = done.stdout.split(" ", 1)
            elapsed = float(value)
        times.append(elapsed)
    return statistics.median(times), statuses.strip()


def measure() -> list[tuple[str, str, str]]:
    cli = shutil.which("sagewiz") or f"{sys.prefix}/bin/sagewiz"
    rows = []
    with tempfile.TemporaryDirectory() as tmp, _moto() as moto:
        silent = socket.socket(socket.AF_UNIX)
        silent.bind(f"{tmp}/silent.sock")
        silent.listen()
        cases = (
            ("every service up", {**os.environ, "DOCKER_HOST": stack_value("DOCKER_HOST")},
             _project(Path(tmp, "up"), moto, stack_value("SAGEWIZ_REGISTRY")), "<= 1 s"),
            ("Docker and AWS unreachable", {**os.environ, "DOCKER_HOST": f"unix://{tmp}/silent.sock"},
             _project(Path(tmp, "down"), f"http://127.0.0.1:{any_free()}", ""), "<= 4 s"),
        )
        try:
            for label, env, root, goal in cases:
                seconds, statuses = _median([sys.executable, "-c", TIMED, str(root)], env, parse=True)
                rows.append((f"preflight, {label} ({statuses}), median", f"{seconds:.2f} s", goal))
                seconds, _ = _median([cli, "doctor", "--project-dir", str(root)], env, parse=False)
                rows.append((f"sagewiz doctor, {label}, median", f"{seconds:.2f} s", ""))
        finally:
            silent.close()
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["preflight"])
