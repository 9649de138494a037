"""The concrete prerequisite checks (Docker, MLflow port, AWS, region, disk)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from core.checks import CheckResult, check

if TYPE_CHECKING:
    from core.project import Project

DISK_WARN_GB = 10


@check("disk", "Disk space", timeout=2.0)
def disk(project: "Project") -> CheckResult:
    free_gb = shutil.disk_usage(project.root).free / 1e9
    if free_gb < DISK_WARN_GB:
        return CheckResult("Disk space", "warn", f"{free_gb:.1f} GB free under {project.root}",
                           f"Free at least {DISK_WARN_GB} GB for an image build (docker system prune).")
    return CheckResult("Disk space", "ok", f"{free_gb:.0f} GB free")
