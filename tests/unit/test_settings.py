"""sagewiz.toml: defaults, validation naming key, value and what is allowed, round trip."""

from __future__ import annotations

import pytest

from core.runtime.settings import FIELDS, Settings, SettingsError, load_settings, save_settings

pytestmark = pytest.mark.unit


def test_every_key_has_a_valid_default():
    settings = Settings()
    for field in FIELDS:
        assert settings[field.key] == field.default
        settings.set(field.key, field.default)  # defaults pass their own validation


@pytest.mark.parametrize("text, key, fragment", [
    ("[deploy]\ninstance_count = 0\n", "deploy.instance_count", "from 1 to 10"),
    ("[deploy]\nendpoint = \"-bad-\"\n", "deploy.endpoint", "hyphen"),
    ("[aws]\nregion = \"moon-1\"\n", "aws.region", "us-east-1"),
    ("[tracking]\nport = \"5000\"\n", "tracking.port", "int"),
    ("[image]\ndeps = \"conda\"\n", "image.deps", "pip or wheelhouse"),
    ("[deploy]\nbucket = \"Upper_Case\"\n", "deploy.bucket", "S3 bucket"),
    ("[nope]\nthing = 1\n", "nope.thing", "known settings"),
])
def test_bad_values_name_key_value_and_allowed(project_dir, text, key, fragment):
    (project_dir / "sagewiz.toml").write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(project_dir)
    message = str(info.value)
    assert key in message and fragment in message
    assert "sagewiz.toml" in message


def test_invalid_toml_says_how_to_fix(project_dir):
    (project_dir / "sagewiz.toml").write_text("[deploy\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(project_dir)


def test_round_trip_keeps_only_changed_values(project_dir):
    settings = Settings()
    settings.parse_and_set("deploy.instance_count", "2")
    settings.parse_and_set("sandbox.enabled", "yes")
    save_settings(project_dir, settings)
    text = (project_dir / "sagewiz.toml").read_text()
    assert "[deploy]" in text and "instance_count = 2" in text and "region" not in text
    loaded = load_settings(project_dir)
    assert loaded["deploy.instance_count"] == 2 and loaded["sandbox.enabled"] is True


def test_parse_rejects_non_numbers():
    with pytest.raises(SettingsError, match="tracking.port"):
        Settings().parse_and_set("tracking.port", "five thousand")


def test_an_explicit_default_survives_a_save(project_dir):
    (project_dir / "sagewiz.toml").write_text("[sandbox]\nenabled = false\n")
    settings = load_settings(project_dir)
    settings.set("deploy.endpoint", "my-endpoint")
    save_settings(project_dir, settings)
    again = load_settings(project_dir)
    assert again.explicit() == {"sandbox.enabled": False, "deploy.endpoint": "my-endpoint"}
