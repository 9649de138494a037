"""Image build failures name the failing instruction and the fix that fits it."""

from __future__ import annotations

import pytest

from core.steps.image import _failure

pytestmark = pytest.mark.unit


def test_base_image_pull_failure_says_how_to_build_offline():
    message = _failure("FROM python:3.11-slim AS deps", 'Get "https://registry-1.docker.io/v2/": no such host',
                       ["Step 1/7 : FROM python:3.11-slim AS deps"])
    assert "`FROM python:3.11-slim AS deps`" in message
    assert "image.base" in message and "scripts/stack start" in message
    assert "requirements.txt" not in message
    assert "    Step 1/7" in message


def test_failed_install_points_at_the_requirements():
    message = _failure("RUN /opt/venv/bin/pip install -r requirements.txt", "exit code 1",
                       ["ERROR: No matching distribution found for not-a-package==9"])
    assert "requirements.txt" in message and "image.base" not in message
    assert "No matching distribution" in message
