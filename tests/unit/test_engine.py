"""The engine: resume, ranges, stale propagation, prerequisite refusal, failure recording."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest

from core.runtime.checks import Check, CheckResult
from core.runtime.errors import StepError
from core.runtime.events import StepFailed, StepFinished, StepStarted
from core.runtime.outputs import StepOutputs
from core.steps import STEPS

pytestmark = pytest.mark.unit


class FakeOutputs(dict):
    """Whatever a fake step returned, saved as it is."""

    def to_json(self):
        return dict(self)

    @classmethod
    def load(cls, step, data):
        return cls(data)


class FakeStep:
    """Stands in for a real step (a boundary fake): returns given outputs or raises."""

    Outputs = FakeOutputs

    def __init__(self, real, outputs=None, error=None, requires=()):
        self.id, self.title, self.group = real.id, real.title, real.group
        self.consumes, self.reads = real.consumes, real.reads
        self.on_request, self.asks = real.on_request, real.asks
        self.requires = requires
        self.outputs = outputs if outputs is not None else {"value": real.id}
        self.error = error
        self.calls = 0
        self.broken = None  # what verify() answers

    def verify(self, ctx, outputs):
        return self.broken

    def run(self, ctx):
        self.calls += 1
        ctx.log(f"running {self.id}")
        if self.error:
            raise self.error
        return FakeOutputs(self.outputs)


@pytest.fixture
def fakes():
    steps = {sid: FakeStep(STEPS.get(sid)) for sid in STEPS.ids}
    with contextlib.ExitStack() as stack:
        for fake in steps.values():
            stack.enter_context(STEPS.swapped(fake))
        yield steps


def statuses(engine):
    return {sid: engine.state.status(sid) for sid in STEPS.ids}


def test_run_records_status_outputs_times_and_events(engine, fakes, recorder):
    assert engine.run(end="tracking")
    assert engine.run(only="train")
    record = engine.state.record("train")
    assert record["status"] == "done"
    assert record["outputs"] == {"value": "train"}
    assert record["finished_at"] >= record["started_at"]
    assert record["duration"] >= 0
    assert recorder.of(StepStarted)[-1].step == "train"
    assert recorder.of(StepFinished)[-1].outputs == {"value": "train"}
    log = engine.project.logs_dir / record["log"]
    assert "running train" in log.read_text()


def test_failure_stops_the_run_and_resume_starts_at_the_failed_step(engine, fakes):
    fakes["model"].error = StepError("The model has no pyfunc flavor; log it with mlflow.sklearn.log_model.")
    assert engine.run() is False
    s = statuses(engine)
    assert [s[x] for x in ("environment", "preflight", "tracking", "train")] == ["done"] * 4
    assert s["model"] == "failed"
    assert s["credentials"] == "pending"
    assert "pyfunc" in engine.state.record("model")["error"]
    assert engine.resume_point() == "model"

    fakes["model"].error = None
    calls_before = {sid: f.calls for sid, f in fakes.items()}
    assert engine.run() is True
    assert fakes["train"].calls == calls_before["train"], "resume must not rerun done steps"
    assert fakes["model"].calls == calls_before["model"] + 1
    assert engine.resume_point() is None


def test_changed_outputs_make_consumers_stale_transitively(engine, fakes):
    assert engine.run(end="cleanup")
    fakes["train"].outputs = {"run_id": "new"}
    assert engine.run(only="train")
    s = statuses(engine)
    for sid in ("model", "image", "smoke", "push", "deploy", "predict"):
        assert s[sid] == "stale", sid
    for sid in ("environment", "preflight", "tracking", "credentials", "iam", "cleanup"):
        assert s[sid] == "done", sid
    assert engine.resume_point() == "model"


def test_same_outputs_leave_consumers_done(engine, fakes):
    assert engine.run()
    assert engine.run(only="train")
    assert engine.state.status("image") == "done"


def test_an_open_ended_run_stops_after_predict_and_cleanup_runs_only_when_named(engine, fakes):
    assert engine.plan()[-1] == "predict"
    assert engine.plan("deploy") == ["deploy", "predict"]
    assert engine.run() is True
    assert engine.state.status("predict") == "done"
    assert engine.state.status("cleanup") == "pending" and fakes["cleanup"].calls == 0
    assert engine.resume_point() is None, "a finished deployment is not resumed into deleting itself"
    assert engine.plan() == []
    assert engine.plan(None, "cleanup") == ["cleanup"]
    assert engine.plan("cleanup") == ["cleanup"]
    assert engine.run(end="cleanup") is True
    assert fakes["cleanup"].calls == 1


def test_the_steps_that_ask_are_known_before_the_run_and_done_ones_are_left_out(engine, fakes):
    assert engine.asking() == ["iam", "deploy"]
    assert engine.asking(None, "cleanup") == ["iam", "deploy", "cleanup"]
    assert engine.asking(only="cleanup") == ["cleanup"]
    assert engine.asking(None, "push") == ["iam"]
    assert engine.run(end="iam")
    assert engine.asking() == ["deploy"], "a resumed run does not run iam again"
    assert engine.asking("iam") == ["iam", "deploy"], "an explicit --from runs it again"


def test_range_runs_exactly_from_to(engine, fakes):
    assert engine.plan("image", "push") == ["image", "smoke", "push"]
    assert engine.run(end="credentials")
    before = {sid: f.calls for sid, f in fakes.items()}
    assert engine.run("image", "push")
    assert [sid for sid, f in fakes.items() if f.calls > before[sid]] == ["image", "smoke", "push"]
    with pytest.raises(ValueError, match="comes after"):
        engine.plan("push", "image")


def test_failed_prerequisite_refuses_to_start_and_shows_the_fix(engine, fakes, recorder):
    fakes["image"].requires = (Check(
        "always-fails", "Docker engine", 1.0, lambda project: CheckResult(
            "Docker engine", "fail", "the socket does not answer",
            "Start Docker Desktop or `sudo systemctl start docker`.")),)
    assert engine.run(end="model")
    assert engine.run(only="image") is False
    assert fakes["image"].calls == 0
    error = engine.state.record("image")["error"]
    assert "did not start" in error and "systemctl start docker" in error
    assert "systemctl start docker" in recorder.of(StepFailed)[-1].error


def test_unexpected_exception_is_a_sentence_with_traceback_in_the_log(engine, fakes):
    fakes["train"].error = KeyError("mse")
    assert engine.run(end="tracking")
    assert engine.run(only="train") is False
    record = engine.state.record("train")
    assert record["error"].startswith("Unexpected error in the train step")
    assert "Traceback" not in record["error"]
    assert "Traceback (most recent call last)" in (engine.project.logs_dir / record["log"]).read_text()


def test_interrupted_running_step_is_failed_on_next_open(project_dir):
    from core.runtime.project import Project

    with Project(project_dir) as project:
        project.state.update_record("deploy", status="running", started_at=1.0)
    with Project(project_dir) as project:
        record = project.state.record("deploy")
    assert record["status"] == "failed"
    assert "Interrupted" in record["error"]


def test_resume_goes_back_to_a_step_whose_outputs_no_longer_hold(engine, fakes, recorder):
    assert engine.run(end="deploy")
    fakes["deploy"].broken = "The endpoint sagewiz-iris no longer exists."
    calls = {sid: f.calls for sid, f in fakes.items()}
    fakes_run_deploy = fakes["deploy"].run

    def deploy_then_holds(ctx):
        fakes["deploy"].broken = None
        return fakes_run_deploy(ctx)

    fakes["deploy"].run = deploy_then_holds
    assert engine.run() is True
    assert fakes["deploy"].calls == calls["deploy"] + 1, "deploy must run again"
    assert fakes["push"].calls == calls["push"], "steps that still hold are not rerun"
    assert any("no longer holds" in line or "no longer exists" in line for line in recorder.lines("predict"))


def test_explicit_step_fails_when_its_inputs_no_longer_hold(engine, fakes):
    assert engine.run(end="deploy")
    fakes["deploy"].broken = "The endpoint sagewiz-iris no longer exists."
    assert engine.run(only="predict") is False
    error = engine.state.record("predict")["error"]
    assert "no longer exists" in error and "sagewiz run --from deploy" in error
    assert engine.state.status("deploy") == "stale"
    assert fakes["predict"].calls == 0


def test_a_step_whose_inputs_never_ran_is_refused_with_the_step_to_run_first(engine, fakes, recorder):
    """`sagewiz run --only iam` in a fresh project used to end in "KeyError: 'account'"."""
    assert engine.run(only="iam") is False
    assert fakes["iam"].calls == 0
    error = engine.state.record("iam")["error"]
    assert error == ("The iam step reads the results of the credentials step, which has not run yet. "
                     "Run it first: sagewiz run --only credentials")
    assert recorder.of(StepFailed)[0].error == error


def test_a_step_whose_input_failed_last_time_is_refused(engine, fakes):
    fakes["credentials"].error = StepError("The key was rejected.")
    assert engine.run(only="credentials") is False
    assert engine.run(only="iam") is False
    assert "credentials step, which failed the last time it ran" in engine.state.record("iam")["error"]
    assert fakes["iam"].calls == 0


@dataclass(frozen=True)
class Account(StepOutputs):
    account: str
    region: str | None = None


def test_typed_outputs_load_their_json_and_refuse_another_shape():
    assert Account.load("credentials", {"account": "123", "region": None, "extra": 1}) == Account("123", None)
    assert Account.load("credentials", {"account": "123"}).to_json() == {"account": "123", "region": None}
    with pytest.raises(StepError, match="has no 'account'.*sagewiz run --only credentials"):
        Account.load("credentials", {"region": "eu-west-1"})
    with pytest.raises(StepError, match="'account' is int"):
        Account.load("credentials", {"account": 123})


def test_a_step_runs_without_the_steps_it_only_reads_and_goes_stale_when_they_change(engine, fakes):
    """The model step reads the train step's experiment when train ran; a run named by model.run_id needs none."""
    assert engine.run(end="tracking")
    assert engine.run(only="model"), engine.state.record("model")["error"]
    assert engine.run(only="train")
    fakes["train"].outputs = {"run_id": "newer"}
    assert engine.run(only="train")
    assert engine.state.status("model") == "stale"
