"""State file: atomic writes, mode 0600, corrupt and newer-schema handling, kill -9 during writes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from core.runtime.state import SCHEMA_VERSION, StateError, StateStore

pytestmark = pytest.mark.unit


def test_round_trip_and_mode(tmp_path):
    store = StateStore(tmp_path / "state.json")
    store.update_record("train", status="done", outputs={"run_id": "abc"})
    store.upsert_resource("sagemaker-endpoint", "ep", status="intent")
    store.upsert_resource("sagemaker-endpoint", "ep", status="created")
    again = StateStore(tmp_path / "state.json")
    assert again.record("train")["outputs"] == {"run_id": "abc"}
    assert again.ledger() == [{"kind": "sagemaker-endpoint", "id": "ep", "status": "created"}]
    assert stat.S_IMODE(os.stat(tmp_path / "state.json").st_mode) == 0o600
    assert json.loads((tmp_path / "state.json").read_text())["schema"] == SCHEMA_VERSION
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_corrupt_state_is_kept_copied_aside_and_explained(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"schema": 1, "steps": {')
    with pytest.raises(StateError, match="not readable state") as info:
        StateStore(path)
    assert path.read_text() == '{"schema": 1, "steps": {'
    copies = list(tmp_path.glob("state.json.*.corrupt"))
    assert len(copies) == 1 and copies[0].read_text() == path.read_text()
    assert str(copies[0]) in str(info.value)


def test_newer_schema_is_refused_and_kept(tmp_path):
    path = tmp_path / "state.json"
    original = json.dumps({"schema": SCHEMA_VERSION + 1, "steps": {}, "ledger": [{"kind": "x", "id": "y"}]})
    path.write_text(original)
    with pytest.raises(StateError, match="newer sagewiz"):
        StateStore(path)
    assert path.read_text() == original
    assert list(tmp_path.glob(f"state.json.*.schema{SCHEMA_VERSION + 1}"))


def test_readonly_view_never_writes(tmp_path):
    StateStore(tmp_path / "state.json").update_record("train", status="done")
    view = StateStore(tmp_path / "state.json", readonly=True)
    with pytest.raises(StateError, match="read-only"):
        view.update_record("train", status="failed")
    assert StateStore(tmp_path / "state.json").status("train") == "done"


WRITER = """
import sys
from pathlib import Path
from core.runtime.state import StateStore
store = StateStore(Path(sys.argv[1]))
big = {"blob": "x" * 200_000}
i = 0
print("ready", flush=True)
while True:
    i += 1
    store.update_record("train", status="done", outputs={"i": i, **big})
"""


def test_kill_9_during_writes_never_leaves_unparseable_state(tmp_path):
    path = tmp_path / "state.json"
    for attempt in range(15):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.05 + attempt * 0.013)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if path.exists():
            data = json.loads(path.read_text())
            assert data["steps"]["train"]["outputs"]["i"] >= 1
        assert StateStore(path).status("train") in ("done", "pending")
    assert path.exists(), "the writer never completed a single write"
