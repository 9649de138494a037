"""Wheels for the image, downloaded on the host for linux/amd64 and the image's Python, cached across builds.

Containers cannot reach PyPI behind some proxies (and here at all), so `image.deps = wheelhouse` installs
offline from these. The cache key covers the requirements, the Python version and the glibc of the base
image, so a rebuild or another project with the same model environment downloads nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.runtime.errors import StepError
from core.runtime.proc import env_without_aws

OLDEST_GLIBC_MINOR = 17  # manylinux2014, the oldest tag worth offering
# (argv, env) -> (exit code, last output lines); the caller streams the output as it comes.
Runner = Callable[[list[str], dict[str, str]], tuple[int, list[str]]]


def cache_root() -> Path:
    """SAGEWIZ_CACHE_DIR, else the platform's user cache directory (e.g. ~/.cache/sagewiz)."""
    override = os.environ.get("SAGEWIZ_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("sagewiz"))


def platform_tags(glibc: tuple[int, int]) -> list[str]:
    """The manylinux tags a linux/amd64 image with this glibc accepts, newest first (pip does not expand them)."""
    major, minor = glibc
    if major != 2 or minor < OLDEST_GLIBC_MINOR:
        raise StepError(f"The base image's C library is glibc {major}.{minor}; wheels need glibc 2.17 or newer. "
                        "Pick a newer base image (image.base).")
    tags = [f"manylinux_2_{m}_x86_64" for m in range(minor, OLDEST_GLIBC_MINOR - 1, -1)]
    return tags + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def key(requirements: list[str], python: tuple[int, int], glibc: tuple[int, int]) -> str:
    text = "\n".join(sorted(requirements)) + f"\npy{python[0]}.{python[1]}\nglibc{glibc[0]}.{glibc[1]}\namd64"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def ensure(requirements: list[str], python: tuple[int, int], glibc: tuple[int, int], run: Runner,
           log: Callable[[str], None]) -> Path:
    """The cached wheel directory for these requirements, downloading it first when missing."""
    target = cache_root() / "wheelhouse" / key(requirements, python, glibc)
    if (target / ".complete").exists():
        log(f"Using {len(list(target.glob('*.whl')))} cached wheels from {target}.")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        (staging / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
                "--only-binary=:all:", "--implementation", "cp", "--python-version", f"{python[0]}.{python[1]}",
                "--abi", f"cp{python[0]}{python[1]}", "--dest", str(staging),
                "-r", str(staging / "requirements.txt")]
        for tag in platform_tags(glibc):
            argv += ["--platform", tag]
        log(f"Downloading wheels for linux/amd64, CPython {python[0]}.{python[1]}, glibc "
            f"{glibc[0]}.{glibc[1]} into {target}.")
        code, tail = run(argv, env_without_aws())  # pip needs proxies and its own config, never AWS credentials
        if code != 0:
            errors = " ".join(line.strip() for line in tail if line.lstrip().startswith("ERROR")) or tail[-1:]
            raise StepError(
                f"pip could not download wheels for the model's requirements (exit code {code}): {errors} Check "
                "that every requirement exists on PyPI as a wheel for linux/amd64 and CPython "
                f"{python[0]}.{python[1]} (fix the model's requirements.txt or log the model again), or use "
                "image.deps = pip.")
        (staging / ".complete").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def link_into(wheelhouse: Path, destination: Path) -> int:
    """Hard-link (or copy, across file systems) the wheels into a build context; the number of wheels."""
    destination.mkdir(parents=True, exist_ok=True)
    count = 0
    for wheel in sorted(wheelhouse.glob("*.whl")):
        target = destination / wheel.name
        try:
            os.link(wheel, target)
        except OSError:
            shutil.copy2(wheel, target)
        count += 1
    return count
