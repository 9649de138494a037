"""The test run never touches the developer's machine: the keyring guard takes only the D-Bus session scripts/test
created, no AWS_* variable of their shell gets through, caches stay out of ~/.cache/sagewiz; CI=1/yes/true all
mean CI, in tests/conftest.py and in scripts/test alike, and `scripts/test -m unit` needs no service stack."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import tests.conftest as conftest
from tests.conftest import TEST_CACHE_DIR, TEST_DBUS_MARKER, dbus_session_problem, in_ci, isolate

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PRIVATE_BUS = "unix:path=/tmp/dbus-Xq3TtUvW9a,guid=5f1c0a9e2b7d4c6e8f0a1b2c3d4e5f60"
DESKTOP_BUS = "unix:path=/run/user/1000/bus"


# --- the keyring guard's decision ----------------------------------------------------------------------
def test_the_session_scripts_test_created_may_hold_the_keyring():
    assert dbus_session_problem({"DBUS_SESSION_BUS_ADDRESS": PRIVATE_BUS, TEST_DBUS_MARKER: PRIVATE_BUS}) is None


def test_a_desktop_session_is_refused():
    problem = dbus_session_problem({"DBUS_SESSION_BUS_ADDRESS": DESKTOP_BUS})
    assert problem and "not created by this test run" in problem and "scripts/test" in problem


def test_a_session_other_than_the_marked_one_is_refused():
    problem = dbus_session_problem({"DBUS_SESSION_BUS_ADDRESS": DESKTOP_BUS, TEST_DBUS_MARKER: PRIVATE_BUS})
    assert problem and DESKTOP_BUS in problem and PRIVATE_BUS in problem


@pytest.mark.parametrize("environ", [{}, {"DBUS_SESSION_BUS_ADDRESS": ""}, {TEST_DBUS_MARKER: PRIVATE_BUS},
                                     {"DBUS_SESSION_BUS_ADDRESS": "", TEST_DBUS_MARKER: ""}])
def test_no_session_is_refused(environ):
    assert "no D-Bus session" in dbus_session_problem(environ)


def test_an_empty_marker_blesses_nothing():
    assert dbus_session_problem({"DBUS_SESSION_BUS_ADDRESS": DESKTOP_BUS, TEST_DBUS_MARKER: ""}) is not None


def test_the_session_scripts_test_starts_is_accepted():
    """Through scripts/test (always so in CI) this very run's D-Bus session is the one it marked."""
    if os.environ.get(TEST_DBUS_MARKER) or conftest.IN_CI:
        assert dbus_session_problem(os.environ) is None
        assert "PYTHON_KEYRING_BACKEND" not in os.environ or "fail" not in os.environ["PYTHON_KEYRING_BACKEND"]


@pytest.mark.parametrize("ci, outcome", [(False, pytest.skip.Exception), (True, pytest.fail.Exception)])
def test_the_guard_skips_on_a_desktop_and_fails_in_ci_without_touching_the_keyring(monkeypatch, ci, outcome):
    from core.runtime import secrets
    from tests.plugins.aws_fixtures import is_test_keyring_usable, require_test_keyring

    def touched():
        raise AssertionError("the guard asked the keyring before refusing the session")

    monkeypatch.setattr(secrets, "is_secure", touched)
    monkeypatch.setattr(secrets, "backend_name", touched)
    monkeypatch.setattr(conftest, "IN_CI", ci)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", DESKTOP_BUS)
    monkeypatch.delenv(TEST_DBUS_MARKER, raising=False)
    with pytest.raises(outcome, match="not created by this test run"):
        require_test_keyring()
    assert not is_test_keyring_usable()


# --- CI detection ----------------------------------------------------------------------------------------
CI_VALUES = [("1", True), ("true", True), ("yes", True), ("TRUE", True), ("Yes", True), ("True", True),
             ("", False), ("0", False), ("false", False), ("no", False), ("y", False), ("on", False)]


@pytest.mark.parametrize("value, expected", CI_VALUES)
def test_ci_means_1_yes_or_true(value, expected):
    assert in_ci({"CI": value}) is expected


def test_no_ci_variable_is_not_ci():
    assert in_ci({}) is False


def _shell(function: str, call: str, env: dict[str, str]) -> int:
    """Exit status of `call` after defining `function` exactly as scripts/test defines it, in the repo root."""
    lines = (REPO / "scripts" / "test").read_text().splitlines()
    start = lines.index(f"{function}() {{")
    end = lines.index("}", start)
    script = "\n".join(lines[start:end + 1]) + "\n" + call
    return subprocess.run(["bash", "-euc", script], cwd=REPO, env=env, timeout=30).returncode


@pytest.mark.parametrize("value, expected", CI_VALUES)
def test_scripts_test_agrees_on_what_means_ci(value, expected):
    assert (_shell("in_ci", "in_ci", {"PATH": os.environ["PATH"], "CI": value}) == 0) is expected
    assert _shell("in_ci", "in_ci", {"PATH": os.environ["PATH"]}) == 1


@pytest.mark.parametrize("args, unit_only", [
    (["-m", "unit"], True),
    (["-munit"], True),
    (["-q", "-m", "unit", "--durations=15"], True),
    (["tests/unit"], True),
    (["./tests/unit/test_proc.py", "-x"], True),
    (["tests/unit/test_proc.py::test_lines_arrive_in_order", "-q"], True),
    (["-k", "keyring", "tests/unit"], True),
    ([], False),
    (["-q", "--durations=15"], False),
    (["-m", "integration"], False),
    (["-m", "unit or integration"], False),
    (["-m", "not unit"], False),
    (["tests"], False),
    (["tests/unit", "tests/integration"], False),
    (["-k", "unit"], False),
])
def test_scripts_test_skips_the_stack_only_for_unit_tests(args, unit_only):
    call = "unit_only " + " ".join(f"'{arg}'" for arg in args)
    assert (_shell("unit_only", call, {"PATH": os.environ["PATH"]}) == 0) is unit_only


# --- the session's environment -----------------------------------------------------------------------------
def test_isolate_drops_the_shells_aws_variables_and_keeps_caches_out_of_home(tmp_path):
    environ = {"AWS_ACCESS_KEY_ID": "AKIASHELL0000000000", "AWS_SECRET_ACCESS_KEY": "s" * 40,
               "AWS_PROFILE": "work", "AWS_ENDPOINT_URL": "https://example.invalid", "HOME": "/home/me",
               "SAGEWIZ_CACHE_DIR": "/home/me/.cache/sagewiz", "PATH": "/usr/bin",
               "DBUS_SESSION_BUS_ADDRESS": PRIVATE_BUS, TEST_DBUS_MARKER: PRIVATE_BUS}
    isolate(environ, tmp_path)
    assert {k: v for k, v in environ.items() if k.startswith("AWS_")} == {
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials")}  # never ~/.aws
    assert environ["SAGEWIZ_CACHE_DIR"] == str(tmp_path / "cache")
    assert environ["HOME"] == "/home/me" and environ["PATH"] == "/usr/bin"
    assert "PYTHON_KEYRING_BACKEND" not in environ  # the test run's own session: its keyring is usable


def test_isolate_uses_the_cache_scripts_test_names(tmp_path):
    environ = {TEST_CACHE_DIR: "/var/tmp/sagewiz-stack/test-cache"}
    isolate(environ, tmp_path)
    assert environ["SAGEWIZ_CACHE_DIR"] == "/var/tmp/sagewiz-stack/test-cache"


def test_isolate_cuts_every_process_off_a_keyring_that_may_be_the_users(tmp_path):
    environ = {"DBUS_SESSION_BUS_ADDRESS": DESKTOP_BUS}
    isolate(environ, tmp_path)
    assert environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"


def test_this_session_is_isolated():
    import platformdirs

    from core.container import wheelhouse

    assert {k for k in os.environ if k.startswith("AWS_")} <= {
        "AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}
    assert not Path(os.environ["AWS_CONFIG_FILE"]).is_relative_to(Path.home())
    cache = wheelhouse.cache_root().resolve()
    assert not cache.is_relative_to(Path(platformdirs.user_cache_dir("sagewiz")).resolve())
    assert not cache.is_relative_to(Path.home() / ".cache")
