"""An explicit profile beats the key pair in the keyring (`--profile dev` must never act in the keyring key's
account), and status, doctor and the run banner say which account, credentials and region are in use.

Real-AWS mode against the session's moto server through AWS_ENDPOINT_URL; two IAM users with their own keys,
one in a profile (whose region is eu-west-1), one in the test session's keyring. An SSO profile whose login
expired (or never happened) gets the `aws sso login` to run, not a traceback."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.plugins.aws_fixtures import moto_reset, require_test_keyring, sandbox_client
from tests.plugins.pipeline_fixtures import read_state, sagewiz_argv, wizard_env

pytestmark = pytest.mark.integration


@pytest.fixture
def two_identities(moto_url, project_dir, tmp_path):
    """(env, pairs): a profile `dev` holding profile-user's key, keyring-user's key in the keyring."""
    from core.aws import keys as aws_keys

    require_test_keyring()
    moto_reset(moto_url)
    iam = sandbox_client(moto_url, "iam")
    pairs = {}
    for user in ("keyring-user", "profile-user"):
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        pairs[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    config, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    config.write_text("[profile dev]\nregion = eu-west-1\n", encoding="utf-8")
    key_id, secret = pairs["profile-user"]
    credentials.write_text(f"[dev]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n",
                           encoding="utf-8")
    (project_dir / "sagewiz.toml").write_text("[sandbox]\nenabled = false\n", encoding="utf-8")
    aws_keys.store(*pairs["keyring-user"])
    env = wizard_env(AWS_ENDPOINT_URL=moto_url, AWS_CONFIG_FILE=str(config),
                     AWS_SHARED_CREDENTIALS_FILE=str(credentials), COLUMNS="250")
    try:
        yield env, pairs
    finally:
        aws_keys.forget()


def sagewiz(project_dir, env, *args):
    done = subprocess.run(sagewiz_argv(project_dir, *args), env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    return done


def test_an_explicit_profile_beats_the_keyring_and_status_says_what_is_in_use(project_dir, two_identities):
    env, pairs = two_identities
    done = sagewiz(project_dir, env, "run", "--only", "credentials", "--profile", "dev")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    checked = read_state(project_dir)["steps"]["credentials"]["outputs"]
    assert checked["source"] == "profile:dev" and checked["arn"].endswith(":user/profile-user")
    assert checked["region"] == "eu-west-1", "the profile's region, since aws.region was not chosen"
    assert "credentials from profile:dev" in done.stdout and "region eu-west-1" in done.stdout
    assert "A key pair is also stored in the keyring; the profile:dev you chose is used instead." in \
        " ".join(done.stdout.split())

    status = json.loads(sagewiz(project_dir, env, "status", "--json", "--profile", "dev").stdout)
    assert status["region"] == "eu-west-1"
    assert status["aws"]["source"] == "profile:dev" and status["aws"]["arn"].endswith(":user/profile-user")
    assert status["aws"]["account"] == checked["account"]

    # Without the profile, the keyring's pair is what would be used: status says so, and does not claim the
    # account the credentials step saw for the profile.
    status = json.loads(sagewiz(project_dir, env, "status", "--json").stdout)
    assert status["aws"]["source"] == "keyring" and status["aws"]["key_last4"] == pairs["keyring-user"][0][-4:]
    assert status["aws"]["account"] is None and status["region"] == "us-east-1"
    text = sagewiz(project_dir, env, "status").stdout
    assert "account not checked yet" in text and "credentials from keyring" in text

    done = sagewiz(project_dir, env, "run", "--only", "credentials")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert read_state(project_dir)["steps"]["credentials"]["outputs"]["arn"].endswith(":user/keyring-user")


def test_doctor_checks_the_profile_and_its_region_not_the_keyring(project_dir, two_identities):
    env, _ = two_identities
    doctor = sagewiz(project_dir, env, "doctor", "--profile", "dev")
    text = " ".join(doctor.stdout.split())
    assert ":user/profile-user" in text and "profile:dev" in text, doctor.stdout
    assert "eu-west-1 offers SageMaker" in text
    assert "keyring-user" not in text



@pytest.fixture
def lapsed_sso_profile(project_dir, tmp_path):
    """The env of a wizard whose project uses the SSO profile `corp`, for which no login token is cached (its
    start URL is unique, so no token of the developer's own matches)."""
    config = tmp_path / "aws-config"
    config.write_text(f"[profile corp]\nsso_start_url = https://sagewiz-test-{uuid.uuid4().hex[:12]}.awsapps.com/start\n"
                      "sso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Deployer\n"
                      "region = eu-west-1\n", encoding="utf-8")
    (project_dir / "sagewiz.toml").write_text('[sandbox]\nenabled = false\n\n[aws]\nprofile = "corp"\n',
                                              encoding="utf-8")
    return wizard_env(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
                      AWS_EC2_METADATA_DISABLED="true", COLUMNS="250")


SSO_SENTENCE = ("Your AWS SSO login for profile corp has expired or is missing: run `aws sso login --profile corp`, "
                "then retry.")


def test_a_lapsed_sso_login_says_which_login_to_run(project_dir, lapsed_sso_profile):
    done = sagewiz(project_dir, lapsed_sso_profile, "run", "--only", "credentials")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, text[-2000:]
    assert SSO_SENTENCE in text, text[-2000:]
    assert "Unexpected error" not in text and "Traceback" not in text
    assert read_state(project_dir)["steps"]["credentials"]["error"] == SSO_SENTENCE

    status = json.loads(sagewiz(project_dir, lapsed_sso_profile, "status", "--json").stdout)
    assert status["aws"]["source"] is None and status["aws"]["problem"] == SSO_SENTENCE
    doctor = " ".join(sagewiz(project_dir, lapsed_sso_profile, "doctor").stdout.split())
    assert "aws sso login --profile corp" in doctor and "Traceback" not in doctor, doctor
