"""Subprocess streaming: lines arrive as they come, in order, and cancel kills the whole group."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from core.runtime import proc
from core.runtime.errors import Cancelled

pytestmark = pytest.mark.unit

SLOW_PRINTER = """
import sys, time
for i in range(5):
    print(f"line {i}", flush=True)
    time.sleep(0.3)
print("to stderr", file=sys.stderr, flush=True)
"""


def test_lines_stream_in_order_before_exit():
    arrivals = []
    started = time.monotonic()
    code = proc.run([sys.executable, "-c", SLOW_PRINTER],
                    on_line=lambda stream, line: arrivals.append((time.monotonic() - started, stream, line)))
    assert code == 0
    assert [line for _, s, line in arrivals if s == "stdout"] == [f"line {i}" for i in range(5)]
    assert ("stderr", "to stderr") in [(s, line) for _, s, line in arrivals]
    first, last = arrivals[0][0], arrivals[-1][0]
    assert last - first > 1.0, "lines must arrive while the child runs, not all at exit"


GROUP = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(child.pid, flush=True)
time.sleep(120)
"""


def test_cancel_kills_the_whole_process_group():
    cancel = threading.Event()
    grandchildren = []

    def on_line(stream, line):
        if line.strip().isdigit():
            grandchildren.append(int(line))
            cancel.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        proc.run([sys.executable, "-c", GROUP], on_line=on_line, cancel=cancel)
    assert time.monotonic() - started < 15
    assert grandchildren
    deadline = time.monotonic() + 5
    while proc.pid_alive(grandchildren[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not proc.pid_alive(grandchildren[0]), "the grandchild survived the cancel"


def test_timeout_stops_the_child():
    with pytest.raises(TimeoutError, match="did not finish"):
        proc.run([sys.executable, "-c", "import time; time.sleep(30)"], on_line=lambda stream, line: None, timeout=0.5)


def test_a_child_left_by_a_killed_wizard_is_stopped_before_the_next_one(project, bus, recorder):
    import subprocess

    from core.runtime.engine import Engine
    from core.steps import STEPS

    argv = [sys.executable, "-c", "import time; time.sleep(120)", "left-behind"]
    orphan = subprocess.Popen(argv, start_new_session=True)
    project.state.set_service("child-of-train", {"pid": orphan.pid, "argv": argv})
    ctx = Engine(STEPS, project, bus).context("train")
    assert ctx.run_process([sys.executable, "-c", "print('fresh')"], source="train") == 0
    assert orphan.wait(timeout=10) is not None, "the left-behind child must be stopped"
    assert any("left running by a wizard that stopped" in line for line in recorder.lines("train"))
    assert "fresh" in recorder.lines("train")
    assert project.state.service("child-of-train") is None


def test_an_unrelated_process_with_a_recycled_pid_is_left_alone(project, bus):
    import subprocess

    from core.runtime.engine import Engine
    from core.steps import STEPS

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        project.state.set_service("child-of-train", {"pid": other.pid, "argv": ["python", "train.py"]})
        ctx = Engine(STEPS, project, bus).context("train")
        assert ctx.run_process([sys.executable, "-c", "pass"]) == 0
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
