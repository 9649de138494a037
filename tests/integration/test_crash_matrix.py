"""Crash and resume matrix: the headless sandbox pipeline SIGKILLed at the start, the middle and the end of
every step, one chain through the project (kill, check, resume into the next kill point).

After each kill: state.json parses; `sagewiz status` names the step to resume at and does not call the killed
step running; the next `sagewiz run` says it resumes there and runs no earlier step again; every resource in
the emulator is one the ledger explains, and none of the one-per-project ones exists twice. After the chain,
`sagewiz cleanup --yes --all` leaves nothing sagewiz created in the emulator, no serving container is left and,
once the recorded MLflow server is stopped, no process of the project runs untracked.

A step already done when its next kill point comes (a kill meant for its middle landed after its end) is run
again with `--from STEP` for that point; the printed matrix says where each kill landed.

"start" = the step shows `running` in state; "middle" = half the step's duration in the session's reference
run (at least 50 ms) after it started; "end" = its `STEP  finished` line is in its log (state already says
done), before or just as the next step starts. The emulator (sandbox.aws_endpoint) and registry
(sandbox.registry) run outside the wizard, so what a killed wizard made stays inspectable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from core.steps import STEPS
from tests.plugins.aws_fixtures import moto_reset
from tests.plugins.pipeline_fixtures import (
    live_resources,
    pipeline_containers,
    pipeline_project,
    read_state,
    remove_pipeline_images,
    sagewiz_argv,
    wizard_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POINTS = ("start", "middle", "end")
MIN_MIDDLE = 0.05
REACH_TIMEOUT = 420.0
# emulator listing -> ledger kind; the kinds of which a project has one at most
KINDS = {"endpoints": "sagemaker_endpoint", "endpoint_configs": "sagemaker_endpoint_config",
         "models": "sagemaker_model", "buckets": "s3_bucket", "repositories": "ecr_repository", "roles": "iam_role"}
SINGLE = ("endpoints", "buckets", "repositories", "roles")


def _try_state(project_dir: Path) -> dict:
    try:
        return read_state(project_dir)
    except (FileNotFoundError, json.JSONDecodeError):
        return {"steps": {}}


def _finished_logged(project_dir: Path, step: str, record: dict) -> bool:
    log = record.get("log")
    if not log:
        return False
    try:
        return f"STEP  finished {step}" in (project_dir / ".sagewiz" / "logs" / log).read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


class Kill:
    """One wizard run SIGKILLed at `point` of `step`; where the kill landed and what the run printed."""

    def __init__(self, project_dir: Path, step: str, point: str, middle: float, out: Path,
                 again: bool = False) -> None:
        """`again`: the step is done already (an earlier kill landed after its end), so this run starts with
        `--from step` instead of resuming."""
        self.project_dir, self.step, self.point = project_dir, step, point
        self.launched = time.time()
        extra = (("--from", step) if again else ()) + (("--to", step) if STEPS.get(step).on_request else ())
        with open(out, "wb") as sink:
            self.proc = subprocess.Popen(sagewiz_argv(project_dir, "run", "--sandbox", "--yes", *extra),
                                         env=wizard_env(), stdout=sink, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.out = out
        try:
            self.landed = self._wait_and_kill(middle)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.output = out.read_text(errors="replace")

    def _record(self) -> dict:
        record = _try_state(self.project_dir)["steps"].get(self.step, {})
        return record if (record.get("started_at") or 0) > self.launched else {}  # this run's, not an earlier

    def _wait_and_kill(self, middle: float) -> str:
        deadline = time.monotonic() + REACH_TIMEOUT
        record: dict = {}
        while not record:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{self.step} did not start (wizard exit code {self.proc.returncode}):\n"
                            + self.out.read_text(errors="replace")[-3000:])
            record = self._record()
            if not record:
                time.sleep(0.005)
        if self.point == "middle":
            until = record["started_at"] + max(middle / 2, MIN_MIDDLE)
            while time.time() < until and record.get("status") == "running":
                time.sleep(0.005)
                record = self._record() or record
        elif self.point == "end":
            while not (record.get("status") in ("done", "skipped", "failed")
                       and _finished_logged(self.project_dir, self.step, record)):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{self.step} did not finish:\n" + self.out.read_text(errors="replace")[-3000:])
                time.sleep(0.002)
                record = self._record() or record
        os.killpg(self.proc.pid, signal.SIGKILL)
        record = self._record() or record
        return "while running" if record.get("status") == "running" else f"after it ended ({record.get('status')})"


def _status(project_dir: Path) -> dict:
    done = subprocess.run(sagewiz_argv(project_dir, "status", "--json"), env=wizard_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout)


def _unexplained(moto_url: str, state: dict) -> dict[str, list[str]]:
    """Emulator resources the ledger does not list, and one-per-project kinds present more than once."""
    live = live_resources(moto_url)
    ledger = {(e["kind"], e["id"]) for e in state["ledger"]}
    problems = {kind: [rid for rid in live[kind] if (KINDS[kind], rid) not in ledger] for kind in KINDS}
    problems.update({f"{kind} (twice)": live[kind] for kind in SINGLE if len(live[kind]) > 1})
    return {kind: ids for kind, ids in problems.items() if ids}


def _check_after_kill(kill: Kill, moto_url: str) -> list[str]:
    """What is wrong after the kill; [] when the cell passes."""
    problems = []
    if kill.proc.returncode != -signal.SIGKILL:
        problems.append(f"the wizard ended by itself (code {kill.proc.returncode}) before the kill")
    try:
        state = read_state(kill.project_dir)
    except (OSError, ValueError) as exc:
        return problems + [f"state.json does not parse: {exc}"]
    index = STEPS.ids.index(kill.step)
    finished = state["steps"][kill.step]["status"] in ("done", "skipped")
    expected = kill.step if not finished else (STEPS.ids[index + 1] if index + 1 < len(STEPS.ids) else None)
    earlier = [s for s in STEPS.ids[:index] if state["steps"].get(s, {}).get("status") not in ("done", "skipped")]
    if earlier:
        problems.append(f"earlier steps not done: {earlier}")
    rerun = [s for s in STEPS.ids[:index] if (state["steps"][s].get("started_at") or 0) > kill.launched]
    if rerun:
        problems.append(f"the resumed run ran earlier steps again: {rerun}")
    status = _status(kill.project_dir)
    if expected is not None and STEPS.get(expected).on_request:  # cleanup runs when named, never as a resume point
        expected = None
    if status["resume_at"] != expected:
        problems.append(f"status resumes at {status['resume_at']}, expected {expected}")
    running = [row["id"] for row in status["steps"] if row["status"] == "running"]
    if running:
        problems.append(f"status calls {running} running, but no wizard runs")
    unexplained = _unexplained(moto_url, state)
    if unexplained:
        problems.append(f"emulator resources the ledger does not explain: {unexplained}")
    entries = [(e["kind"], e["id"]) for e in state["ledger"]]
    if len(entries) != len(set(entries)):
        problems.append("the ledger lists a resource twice")
    return problems


def _matrix_table(cells: dict[tuple[str, str], str]) -> str:
    lines = [f"{'step':<12}" + "".join(f"{p:<10}" for p in POINTS)]
    for step in STEPS.ids:
        lines.append(f"{step:<12}" + "".join(f"{cells.get((step, p), '-'):<10}" for p in POINTS))
    passed = sum(1 for v in cells.values() if v == "pass")
    lines.append(f"passed {passed}/{len(STEPS.ids) * len(POINTS)}")
    return "\n".join(lines)


@pytest.mark.timeout(1800)
def test_kill_at_start_middle_end_of_every_step_then_resume_and_cleanup(reference_run, moto_url, tmp_path):
    assert reference_run.returncode == 0, reference_run.output[-3000:]
    durations = reference_run.durations()
    moto_reset(moto_url)
    repository = f"sagewiz-crash-{uuid.uuid4().hex[:8]}"
    project_dir = pipeline_project(tmp_path / "proj", moto_url, repository, **{"cleanup.everything": True})
    cells: dict[tuple[str, str], str] = {}
    notes: list[str] = []
    expected_resume = STEPS.ids[0]
    started = time.monotonic()
    try:
        for step in STEPS.ids:
            for point in POINTS:
                again = _try_state(project_dir)["steps"].get(step, {}).get("status") in ("done", "skipped")
                kill = Kill(project_dir, step, point, durations[step], tmp_path / f"run-{step}-{point}.log", again)
                problems = []
                if not again and f"Resuming at {expected_resume}" not in kill.output:
                    problems.append(f"the run did not say it resumes at {expected_resume}: "
                                    + kill.output[:300].replace("\n", " | "))
                problems += _check_after_kill(kill, moto_url)
                state = read_state(project_dir)
                finished = state["steps"][step]["status"] in ("done", "skipped")
                index = STEPS.ids.index(step)
                expected_resume = step if not finished else (STEPS.ids[index + 1] if index + 1 < len(STEPS.ids)
                                                            else None)
                cells[(step, point)] = "FAIL" if problems else "pass"
                how = f"{step}/{point}: {'--from ' + step + ', ' if again else ''}killed {kill.landed}"
                notes.append(how + (f": {'; '.join(problems)}" if problems else ""))
        final = subprocess.run(sagewiz_argv(project_dir, "run", "--sandbox", "--yes"), env=wizard_env(),
                               capture_output=True, text=True, timeout=600)
        assert final.returncode == 0, final.stdout[-3000:]
        assert "Every step up to predict is done" in final.stdout
        cleanup = subprocess.run(sagewiz_argv(project_dir, "cleanup", "--yes", "--all"), env=wizard_env(),
                                 capture_output=True, text=True, timeout=600)
        assert cleanup.returncode == 0, cleanup.stdout[-3000:] + cleanup.stderr[-3000:]
        left = {kind: ids for kind, ids in live_resources(moto_url).items() if ids}
        containers = [c["Names"][0] for c in pipeline_containers(repository)]
        _stop_recorded_server(project_dir)
        orphans = _processes_mentioning(project_dir)
    finally:
        table = _matrix_table(cells)
        report = f"{table}\nchain: {time.monotonic() - started:.0f} s\n" + "\n".join(notes)
        print("\ncrash/resume matrix (steps x kill points)\n" + report)
        (tmp_path / "crash-matrix.txt").write_text(report + "\n", encoding="utf-8")
        _stop_recorded_server(project_dir)
        for pid in _processes_mentioning(project_dir):
            os.kill(pid, signal.SIGKILL)
        remove_pipeline_images(repository)
    assert left == {}, left
    assert containers == [], f"serving containers left by killed wizards: {containers}"
    assert orphans == [], f"processes of this project nothing tracks any more: {orphans}"
    assert all(v == "pass" for v in cells.values()), report


def _stop_recorded_server(project_dir: Path) -> None:
    """The MLflow server the last killed wizard left, recorded in state (a later wizard would adopt it)."""
    from core.runtime.proc import stop_pid

    service = _try_state(project_dir).get("services", {}).get("mlflow")
    if service:
        stop_pid(service["pid"])


def _processes_mentioning(project_dir: Path) -> list[int]:
    """Live processes whose command line names the project (MLflow servers, training scripts)."""
    from core.runtime.proc import pid_alive

    marker = str(project_dir).encode()
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and pid_alive(int(p.name), marker)]
