"""The whole sandbox pipeline signed with a distinctive key pair from the keyring: afterwards no file the wizard
could write (project, logs, user config and cache, its TMPDIR), nothing it printed, and no process's argv or
environment seen during the run holds the secret access key or the emulator's session credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.pipeline_fixtures import scan_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_no_copy_of_the_secret_anywhere(reference_run):
    from tests.conftest import unavailable

    run = reference_run
    if run.secret is None:
        unavailable("The Secret Service keyring", "the reference run could not store a key pair in it "
                                                  "(run the suite through scripts/test)")
    assert run.returncode == 0, run.output[-3000:]
    credentials = run.state["steps"]["credentials"]["outputs"]
    assert credentials["source"] == "keyring" and credentials["sandbox"]  # the secret really signed the calls
    assert all(r["status"] == "done" for r in run.state["steps"].values())

    needles = tuple(s.encode() for s in (run.secret, *run.session_secrets))
    home = Path.home()
    roots = [run.project_dir, home / ".config", home / ".cache", run.tmpdir]  # the project holds .sagewiz/logs
    files, size, found = scan_files(roots, needles)
    watcher = run.watcher
    print(f"\nsecret-leak scan: {files} files ({size / 1e6:.0f} MB) under {len(roots)} roots; "
          f"{len(watcher.seen)} processes ({len(watcher.descendants)} of the wizard, {len(watcher.containers)} "
          f"in containers) in {watcher.polls} polls over {run.seconds:.0f} s; copies found: "
          f"{len(found) + len(watcher.hits)}")
    assert files > 100 and (run.project_dir / ".sagewiz" / "state.json").is_file()
    assert len(watcher.descendants) >= 3 and watcher.containers  # mlflow, train, serving containers were seen
    assert found == []
    assert watcher.hits == []
    assert not any(needle.decode() in run.output for needle in needles)
