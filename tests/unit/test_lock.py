"""One wizard per project: a live holder is named, a dead holder's lock is taken over; state only once open."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.runtime.lock import LockedError, ProjectLock
from core.runtime.project import Project

pytestmark = pytest.mark.unit

HOLDER = """
import sys, time
from core.runtime.project import Project
p = Project(sys.argv[1]).open()
print("held", flush=True)
time.sleep(60)
"""


def test_second_wizard_gets_an_error_naming_the_pid(project_dir):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(project_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"PID {holder.pid}"):
            Project(project_dir).open()
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: its lock is stale and is taken over
    with Project(project_dir) as project:
        assert project.lock.owner() == os.getpid()
    assert not (project_dir / ".sagewiz" / "lock").exists()


def test_stale_lock_of_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path = tmp_path / "lock"
    lock_path.write_text(str(dead.pid))
    lock = ProjectLock(lock_path)
    lock.acquire()
    assert lock.owner() == os.getpid()
    lock.release()
    assert not lock_path.exists()


def test_state_is_refused_with_a_sentence_until_the_project_is_opened(project_dir):
    from core.runtime.project import ProjectError

    project = Project(project_dir)
    assert not project.is_open
    with pytest.raises(ProjectError, match="is not open"):
        project.state  # noqa: B018
    with project:
        assert project.is_open and project.state.ledger() == []
    readonly = Project(project_dir).open_readonly()
    assert readonly.is_open and not readonly.lock.held_by_other()
