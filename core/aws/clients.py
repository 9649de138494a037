"""AWS sessions and clients for the steps: credential resolution, the sandbox endpoint, identity, child env.

Resolution order: sandbox (unless sandbox.own_credentials) -> the AWS profile named by aws.profile or --profile
(an explicit choice beats a stored key, so `--profile dev` never acts in the keyring key's account) -> key pair
in the OS keyring -> the environment and boto3's default chain. Nothing here stores a secret; the
long-term key stays in the keyring and in this process's memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.runtime.errors import StepError

if TYPE_CHECKING:
    from core.runtime.project import Project
    from core.runtime.step import StepContext

_Step = TypeVar("_Step")
_Out = TypeVar("_Out")

# Credentials the emulator accepts; shaped like real ones so every code path runs unchanged.
SANDBOX_KEY_ID = "AKIASAGEWIZSANDBOX00"
SANDBOX_SECRET = "sagewiz-sandbox-credentials-not-secret-0"
SANDBOX_NOTICE = ("No AWS account is configured, so AWS steps run in the SANDBOX; a local emulator stands in "
                  "for AWS and nothing is billed. To use a real account, run `sagewiz credentials store`, "
                  "set aws.profile, or export AWS credentials; to choose explicitly, set sandbox.enabled.")
# Environment variables that make boto3 find credentials on their own.
CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")


class AwsUnavailable(StepError):
    """No usable AWS credentials, or AWS cannot be reached; the message says which and what to do."""


class RegionError(StepError):
    """The region in use (the setting's or the profile's) does not offer SageMaker."""

    def __init__(self, message: str, region: str) -> None:
        super().__init__(message)
        self.region = region


@dataclass(frozen=True)
class Resolved:
    session: Any  # boto3.Session
    source: str  # sandbox, keyring, profile:<name>, environment
    key_id: str | None


def region(project: Project, profile_region: str | None = None) -> str:
    """The region: an explicit setting wins, then the profile's region, then the default; checked by name."""
    from core.aws.regions import SAGEMAKER_REGIONS

    chosen: str = project.settings["aws.region"]
    if "aws.region" not in project.settings.explicit() and profile_region:
        chosen = profile_region
    if chosen not in SAGEMAKER_REGIONS:
        raise RegionError(f"Region {chosen!r} does not offer SageMaker (known regions: "
                        f"{', '.join(sorted(SAGEMAKER_REGIONS))}). "
                        "Set aws.region (or pass --region) to one of them.", chosen)
    return chosen


def keyring_pair() -> tuple[str, str] | None:
    """The AWS key pair in the OS keyring; None when there is none or no usable keyring."""
    from core.aws import keys as aws_keys
    from core.runtime.secrets import SecretsUnavailable

    try:
        return aws_keys.load()
    except SecretsUnavailable:
        return None


def resolve(project: Project) -> Resolved:
    """The first credential source that has credentials, as a boto3 Session with the project's region."""
    import boto3
    import botocore.exceptions

    if project.sandbox and not project.settings["sandbox.own_credentials"]:
        return Resolved(boto3.Session(aws_access_key_id=SANDBOX_KEY_ID, aws_secret_access_key=SANDBOX_SECRET,
                                      region_name=region(project)), "sandbox", SANDBOX_KEY_ID)
    profile = project.settings["aws.profile"] or None
    if profile is None:
        pair = keyring_pair()
        if pair is not None:
            return Resolved(boto3.Session(aws_access_key_id=pair[0], aws_secret_access_key=pair[1],
                                          region_name=region(project)), "keyring", pair[0])
    try:
        base = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise AwsUnavailable(f"AWS profile {profile!r} is not in ~/.aws/config or ~/.aws/credentials "
                             f"(profiles found: {', '.join(list_profiles()) or 'none'}). "
                             "Pick one of them with aws.profile or --profile, or run `aws configure`.") from None
    session = boto3.Session(profile_name=profile, region_name=region(project, base.region_name))
    try:
        credentials = session.get_credentials()
        key_id = None if credentials is None else credentials.access_key  # an SSO profile logs in here
    except _sso_errors():
        raise _sso_login_lapsed(session.profile_name) from None
    except botocore.exceptions.BotoCoreError as exc:  # e.g. a credential_process that fails
        raise AwsUnavailable(f"The AWS credentials of {'profile ' + profile if profile else 'the environment'} "
                             f"cannot be loaded ({exc}). Fix the profile in the AWS config file, then retry.") from None
    if credentials is None:
        raise AwsUnavailable("No AWS credentials were found: store a key with `sagewiz credentials store`, set "
                             "aws.profile (or pass --profile), export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                             "or rehearse with --sandbox.")
    source = f"profile:{profile}" if profile else "environment"
    return Resolved(session, source, key_id)


def _sso_errors() -> tuple[type[Exception], ...]:
    """botocore's errors for an SSO login that is missing or lapsed: no cached token for the start URL, a token
    the SSO portal refuses, or an sso-session token whose refresh failed. An SSO profile's credentials load
    lazily, so any AWS call can raise them, not only resolve()."""
    import botocore.exceptions

    return botocore.exceptions.SSOError, botocore.exceptions.TokenRetrievalError


def _sso_login_lapsed(profile: str) -> AwsUnavailable:
    """Only `aws sso login` renews an SSO login (it opens a browser), so say which one to run."""
    # https://docs.aws.amazon.com/cli/latest/userguide/sso-using-profile.html: a lapsed token needs a new login.
    return AwsUnavailable(f"Your AWS SSO login for profile {profile} has expired or is missing: run "
                          f"`aws sso login --profile {profile}`, then retry.")


def _profile_in_use(project: Project) -> str:
    """The AWS profile boto3 reads: aws.profile, else the one AWS_PROFILE (or AWS_DEFAULT_PROFILE) names, else
    `default`."""
    import botocore.session

    name: str = project.settings["aws.profile"] or botocore.session.Session().profile or "default"
    return name


@dataclass(frozen=True)
class InUse:
    """Which credentials and region the AWS steps would use now, for the header, status and doctor.

    Found without a network call: the account and ARN are the credentials step's, shown only while that step
    checked these same credentials (same source and key); otherwise they are None until it runs again."""
    source: str | None  # None: no usable credentials (`problem` says why)
    region: str
    key_last4: str = ""
    account: str | None = None
    arn: str | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "region": self.region, "account": self.account, "arn": self.arn,
                "key_last4": self.key_last4 or None, "problem": self.problem}


def in_use(project: Project) -> InUse:
    """The credential source, key and region in use, with the identity the credentials step last saw for them."""
    if not project.sandbox and not credentials_configured(project):  # boto3's chain would probe EC2 metadata
        return InUse(None, project.settings["aws.region"], problem="no AWS credentials are configured")
    try:
        resolved = resolve(project)
    except RegionError as exc:
        return InUse(None, exc.region, problem=str(exc))
    except StepError as exc:
        return InUse(None, project.settings["aws.region"], problem=str(exc))
    last4 = (resolved.key_id or "")[-4:]
    checked = project.state.outputs("credentials") if project.is_open else {}
    same = checked.get("source") == resolved.source and checked.get("key_id_last4", "") == last4
    return InUse(resolved.source, resolved.session.region_name, last4,
                 checked.get("account") if same else None, checked.get("arn") if same else None)


def endpoint_url(project: Project) -> str | None:
    """The emulator's URL in the sandbox, None for real AWS."""
    if not project.sandbox:
        return None
    from core.aws import sandbox

    return sandbox.ensure(project).aws_endpoint


def client(project: Project, service: str, *, timeout: float = 60, resolved: Resolved | None = None,
           attempts: int = 3) -> Any:
    """A boto3 client for `service`, pointed at the sandbox emulator when the project runs in the sandbox."""
    from botocore.config import Config

    resolved = resolved or resolve(project)
    config = Config(connect_timeout=min(timeout, 10), read_timeout=timeout,
                    retries={"total_max_attempts": attempts, "mode": "standard"})  # attempts, not retries
    return resolved.session.client(service, endpoint_url=endpoint_url(project), config=config)


def principal_type(arn: str) -> str:
    """user, role (assumed role, SSO included), root or federated, from an STS caller ARN."""
    resource = arn.split(":", 5)[-1]
    if resource == "root":
        return "root"
    kind = resource.split("/", 1)[0]
    return {"user": "user", "assumed-role": "role", "federated-user": "federated"}.get(kind, kind)


def caller_identity(project: Project, timeout: float = 15, resolved: Resolved | None = None) -> dict[str, str]:
    """STS get_caller_identity: account, arn, principal_type and the credential source."""
    import botocore.exceptions

    resolved = resolved or resolve(project)
    sts = client(project, "sts", timeout=timeout, resolved=resolved)
    try:
        answer = sts.get_caller_identity()
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise AwsUnavailable(f"AWS rejected the credentials from {resolved.source} ({code}). Check that the key "
                             "is active in the IAM console (or log in again for SSO), then retry.") from None
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError) as exc:
        raise AwsUnavailable(f"AWS could not be reached ({exc}). Check the network (or the sandbox emulator) "
                             "and retry.") from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsUnavailable("No AWS credentials were found; store a key with `sagewiz credentials store`.") from None
    except _sso_errors():
        raise _sso_login_lapsed(resolved.session.profile_name) from None
    return {"account": answer["Account"], "arn": answer["Arn"], "principal_type": principal_type(answer["Arn"]),
            "source": resolved.source}


def list_profiles() -> list[str]:
    """Profiles from ~/.aws/config and ~/.aws/credentials (SSO profiles included)."""
    import botocore.session

    return sorted(botocore.session.Session().available_profiles)


def credentials_configured(project: Project) -> bool:
    """Whether any AWS credentials exist, without a network call (keyring, profile, env, ~/.aws files)."""
    if project.settings["aws.profile"] or any(os.environ.get(name) for name in CREDENTIAL_ENV):
        return True
    aws_dir = Path.home() / ".aws"
    files = (os.environ.get("AWS_CONFIG_FILE") or aws_dir / "config",
             os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or aws_dir / "credentials")
    if any(Path(f).is_file() for f in files):
        return True
    return keyring_pair() is not None


def _sandbox_chosen(project: Project) -> bool:
    """True when sandbox.enabled was set, on the command line or in sagewiz.toml (to either value)."""
    return "sandbox.enabled" in project.settings.explicit()


def decide_sandbox(project: Project) -> str | None:
    """Turn the sandbox on when nothing chose a mode and no AWS credentials exist; the notice to show, or None."""
    if _sandbox_chosen(project) or credentials_configured(project):
        return None
    project.settings.set("sandbox.enabled", True)
    return SANDBOX_NOTICE


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NotAuthorized")


def _plain(message: str) -> str:
    """One line of text: the <Message> of an error body botocore passed through as raw XML (emulators,
    proxies), whitespace collapsed."""
    found = re.search(r"<Message>(.*?)</Message>", message, re.S)
    return " ".join((found.group(1) if found else message).split())


# How AWS words a denial: "User: ARN is not authorized to perform: ACTION on resource: ARN because no
# identity-based policy allows the ACTION action", the resource part absent when the action has none
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
REFUSED = re.compile(r"not authorized to perform:\s*(?P<action>[\w-]+:[\w*]+)(?:\s+on resource:\s*(?P<resource>\S+))?")


def api_error(exc: BaseException, action: str, doing: str) -> StepError:
    """A sentence for a refused AWS call; a denied one names the missing permission: the one AWS's message names
    (a call can need another action's permission, as CreateModel needs iam:PassRole on the role), else `action`."""
    transient = transient_error(exc, doing)
    if transient is not None:
        return transient
    code = error_code(exc)
    message = _plain((getattr(exc, "response", None) or {}).get("Error", {}).get("Message", str(exc)))
    if code in DENIED or "not authorized" in message.lower():
        refused = REFUSED.search(message)
        permission = refused["action"] if refused else action
        resource = refused["resource"].rstrip(".,;") if refused and refused["resource"] else None
        wanted = permission + (f" on {resource}" if resource else "")
        needs = f", which {action} needs" if permission != action else ""
        return StepError(f"AWS refused to {doing}: the credentials lack the permission {wanted}{needs} ({message}). "
                         f"Ask your AWS administrator to allow {wanted} for this user or role, then retry.")
    return StepError(f"AWS could not {doing} ({code or type(exc).__name__}: {message}).")


# Error codes botocore's standard retry mode treats as throttling (botocore.retries.standard).
THROTTLED = ("Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
             "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
             "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
             "EC2ThrottledException")
RESUME = ("then run `sagewiz run` to resume from this step (what it already created is in the ledger and is "
          "reused, and `sagewiz cleanup` finds it).")


def transient_error(exc: BaseException, doing: str) -> StepError | None:
    """A sentence for AWS throttling or a 5xx once botocore's bounded retries ran out; None for other errors.

    Accepts a ClientError, or boto3's S3UploadFailedError wrapping one."""
    import boto3.exceptions

    if isinstance(exc, boto3.exceptions.S3UploadFailedError) and exc.__context__ is not None:
        exc = exc.__context__  # upload_file re-raises the ClientError as S3UploadFailedError
    meta = (getattr(exc, "response", None) or {}).get("ResponseMetadata") or {}
    status, code = int(meta.get("HTTPStatusCode") or 0), error_code(exc)
    attempts = int(meta.get("RetryAttempts") or 0) + 1
    if code in THROTTLED or status == 429:
        return StepError(f"AWS kept throttling the requests to {doing} ({code or status}), still after {attempts} "
                         f"attempts: the account is making too many calls. Wait a minute, {RESUME}")
    if status >= 500:
        return StepError(f"AWS answered {status} ({code or 'server error'}) to the requests to {doing}, still "
                         f"after {attempts} attempts: the service is having trouble. Wait a few minutes, {RESUME}")
    return None


def unreachable(project: Project, exc: BaseException, doing: str) -> StepError:
    """A sentence for an AWS endpoint that refused connections, hung up or timed out after botocore's retries."""
    import urllib.parse

    import botocore.exceptions

    url = urllib.parse.urlsplit((getattr(exc, "kwargs", None) or {}).get("endpoint_url") or "")
    where = f"{url.scheme}://{url.netloc}" if url.netloc else "its endpoint"
    timed_out = isinstance(exc, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError))
    what = f"{'no answer in time' if timed_out else 'connection refused or cut'}, also on botocore's retries"
    if project.sandbox:
        return StepError(f"The sandbox's AWS emulator at {where} stopped answering while sagewiz tried to {doing} "
                         f"({what}). Start the emulator again (or empty sandbox.aws_endpoint so that sagewiz "
                         f"starts its own), {RESUME}")
    return StepError(f"AWS could not be reached at {where} while sagewiz tried to {doing} ({what}). Check the "
                     f"network connection (VPN, proxy, firewall), {RESUME}")


def step_failures(doing: str) -> Callable[[Callable[[_Step, StepContext], _Out]], Callable[[_Step, StepContext], _Out]]:
    """Decorator for a step's run(ctx): AWS being unreachable, throttling or failing with 5xx (what is left
    once botocore's bounded retries ran out), or an SSO login that lapsed mid-step, becomes a sentence saying
    what to do; other errors pass."""
    import functools

    def decorate(run: Callable[[_Step, StepContext], _Out]) -> Callable[[_Step, StepContext], _Out]:
        @functools.wraps(run)
        def wrapper(step: _Step, ctx: StepContext) -> _Out:
            import botocore.exceptions

            try:
                return run(step, ctx)
            except StepError:
                raise
            except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
                raise unreachable(ctx.project, exc, doing) from None
            except _sso_errors():
                raise _sso_login_lapsed(_profile_in_use(ctx.project)) from None
            except Exception as exc:
                sentence = transient_error(exc, doing)
                if sentence is None:
                    raise
                raise sentence from None
        return wrapper
    return decorate
