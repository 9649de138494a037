"""Unit tests of the AWS area's pure logic: sandbox decision, identity kinds, names, prices, user rows, the
sentences for refused calls and expired SSO logins, and the image manifests SageMaker accepts."""

from __future__ import annotations

import pytest

from core.aws import clients as aws
from core.aws import names, pricing
from core.runtime.errors import StepError
from core.tracking import predict_input

pytestmark = pytest.mark.unit

COLUMNS = ["petal length (cm)", "petal width (cm)"]


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in aws.CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    monkeypatch.setattr(aws, "keyring_pair", lambda: None)


def test_no_credentials_means_sandbox_with_a_notice(project, no_credentials):
    assert aws.decide_sandbox(project) == aws.SANDBOX_NOTICE
    assert project.sandbox


def test_any_credential_source_keeps_real_aws(project, no_credentials, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_PROFILE", "work")
    assert aws.decide_sandbox(project) is None and not project.sandbox
    monkeypatch.delenv("AWS_PROFILE")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    assert aws.decide_sandbox(project) is None and not project.sandbox


def test_an_explicit_choice_is_respected(project_dir, no_credentials):
    from core.runtime.project import Project

    (project_dir / "sagewiz.toml").write_text("[sandbox]\nenabled = false\n")
    project = Project(project_dir)
    assert aws.decide_sandbox(project) is None and not project.sandbox


def test_an_explicit_region_wins_over_the_profile_even_when_it_is_the_default(project_dir):
    from core.runtime.project import Project

    assert aws.region(Project(project_dir), profile_region="eu-west-1") == "eu-west-1"
    chosen = Project(project_dir, overrides={"aws.region": "us-east-1"})
    assert aws.region(chosen, profile_region="eu-west-1") == "us-east-1"
    with pytest.raises(StepError, match="does not offer SageMaker"):
        aws.region(Project(project_dir, overrides={"aws.region": "us-gov-west-1"}))


@pytest.mark.parametrize("arn,kind", [
    ("arn:aws:iam::123456789012:user/alice", "user"),
    ("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com", "role"),
    ("arn:aws:iam::123456789012:root", "root"),
])
def test_principal_type(arn, kind):
    assert aws.principal_type(arn) == kind


def test_assumed_role_simulates_as_its_role():
    from core.aws.iam_policy import principal_for_simulation

    assert principal_for_simulation("arn:aws:sts::1:assumed-role/Admin/s") == "arn:aws:iam::1:role/Admin"


@pytest.mark.parametrize("name", ["-x", "a_b", "x" * 64, ""])
def test_bad_sagemaker_names(name):
    with pytest.raises(StepError, match="not valid for SageMaker"):
        names.sagemaker_name(name, "endpoint")


def test_versioned_names_fit_63_characters():
    assert len(names.versioned("e" * 63, "model")) <= 63


def test_prices_are_dated_and_unknown_types_rejected():
    estimate = pricing.estimate("ml.m5.large", "us-east-1", 2)
    assert estimate.per_hour == pytest.approx(0.23) and estimate.date
    assert "per hour" in estimate.sentence("ml.m5.large", 2, "us-east-1")
    assert pricing.estimate("ml.m5.large", "sa-east-1").per_hour is None
    with pytest.raises(StepError, match="ml.m5.large"):
        pricing.check_instance_type("ml.m5.huge")


@pytest.mark.parametrize("text", [
    '[[1.4, 0.2], [5.1, 1.8]]',
    '[{"petal length (cm)": 1.4, "petal width (cm)": 0.2}, {"petal length (cm)": 5.1, "petal width (cm)": 1.8}]',
    '{"columns": ["petal length (cm)", "petal width (cm)"], "data": [[1.4, 0.2], [5.1, 1.8]]}',
    'petal width (cm),petal length (cm)\n0.2,1.4\n1.8,5.1\n',
])
def test_user_rows_in_every_form(text):
    assert predict_input.parse(text, COLUMNS) == [[1.4, 0.2], [5.1, 1.8]]


@pytest.mark.parametrize("text,message", [
    ("[[1.4]]", "Row 1 has 1 values"),
    ('[{"petal length (cm)": 1}]', "lacks petal width"),
    ("[[1.4, 'x']]", "not valid JSON"),
    ('[[1.4, "x"]]', "'x' is not a number"),
    ("a,b\n1,2\n", "header lacks petal length"),
    ("petal length (cm),petal width (cm)\n1\n", "CSV line 2 has 1 values"),
    ("", "empty"),
])
def test_malformed_rows_say_what_is_wrong(text, message):
    with pytest.raises(StepError, match=message):
        predict_input.parse(text, COLUMNS)


def test_iris_rows_come_from_the_test_split():
    rows = predict_input.iris_rows(COLUMNS, 3)
    assert len(rows) == 3 and all(len(r) == 2 for r in rows)
    from sklearn.datasets import load_iris

    petals = {tuple(row) for row in load_iris().data[:, 2:].tolist()}
    assert all(tuple(row) in petals for row in rows)


def _refused(message: str, code: str = "AccessDeniedException") -> Exception:
    """A ClientError as botocore raises it for a denied call (the boundary, built by hand)."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, "CreateModel")


ROLE = "arn:aws:iam::123456789012:role/sagewiz-sagemaker-execution"
USER = "arn:aws:iam::123456789012:user/deployer"


@pytest.mark.parametrize("message", [
    f"User: {USER} is not authorized to perform: iam:PassRole on resource: {ROLE}",
    f"User: {USER} is not authorized to perform: iam:PassRole on resource: {ROLE} because no identity-based "
    "policy allows the iam:PassRole action",
    f"<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: {USER} is not authorized to perform:\n"
    f"  iam:PassRole on resource: {ROLE}</Message></Error></ErrorResponse>",
])
def test_a_denial_names_the_action_and_resource_aws_refused(message):
    """CreateModel refused for lack of iam:PassRole: the sentence asks for iam:PassRole on the role."""
    sentence = str(aws.api_error(_refused(message), "sagemaker:CreateModel", "create the SageMaker model m"))
    assert f"Ask your AWS administrator to allow iam:PassRole on {ROLE} for this user or role" in sentence
    assert "allow sagemaker:CreateModel" not in sentence and "<" not in sentence


def test_a_denial_without_a_resource_still_names_aws_action():
    message = (f"User: {USER} is not authorized to perform: sagemaker:AddTags because no identity-based policy "
               "allows the sagemaker:AddTags action")
    sentence = str(aws.api_error(_refused(message), "sagemaker:CreateEndpoint", "create the endpoint e"))
    assert "Ask your AWS administrator to allow sagemaker:AddTags for this user or role" in sentence


def test_a_denial_that_names_no_action_names_the_call():
    sentence = str(aws.api_error(_refused("Access Denied", "AccessDenied"), "s3:PutObject", "upload the model"))
    assert "Ask your AWS administrator to allow s3:PutObject for this user or role" in sentence


@pytest.mark.parametrize("error", ["SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"])
def test_an_expired_sso_login_inside_a_step_says_which_login_to_run(project, error):
    """SSO credentials refresh lazily, so the login can lapse at any AWS call a step makes."""
    import botocore.exceptions

    exc = {"SSOTokenLoadError": botocore.exceptions.SSOTokenLoadError(error_msg="Token for corp does not exist"),
           "UnauthorizedSSOTokenError": botocore.exceptions.UnauthorizedSSOTokenError(),
           "TokenRetrievalError": botocore.exceptions.TokenRetrievalError(
               provider="sso", error_msg="Token has expired and refresh failed")}[error]

    class Step:
        @aws.step_failures("push the image to ECR")
        def run(self, ctx):
            raise exc

    class Ctx:
        pass

    ctx = Ctx()
    ctx.project = project
    project.settings.set("aws.profile", "corp")
    with pytest.raises(StepError) as failure:
        Step().run(ctx)
    assert str(failure.value) == ("Your AWS SSO login for profile corp has expired or is missing: run "
                                  "`aws sso login --profile corp`, then retry.")


@pytest.mark.parametrize("media_type,refused", [
    ("application/vnd.docker.distribution.manifest.v2+json", None),
    ("application/vnd.oci.image.manifest.v1+json", "oci-mediatypes=false"),
    ("application/vnd.oci.image.index.v1+json", "index"),
    ("application/vnd.docker.distribution.manifest.list.v2+json", "index"),
])
def test_sagemaker_gets_docker_v2_manifests_only(media_type, refused):
    from core.steps.push import refuse_unpullable

    if refused is None:
        refuse_unpullable(media_type)
        return
    with pytest.raises(StepError, match=refused) as failure:
        refuse_unpullable(media_type)
    assert media_type in str(failure.value)
