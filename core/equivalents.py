"""What each step does by hand: the commands and code it stands for, filled with the project's values.

The values come from settings and from the outputs steps saved in state; neither ever holds a secret
(credentials are named by source and the last four characters of the key id only). A value no step has
produced yet is shown as a `<placeholder>`, so the text stays readable before the step runs.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable

from core.iam_policy import TRUST_POLICY, managed_policy_arn
from core.names import INLINE_POLICY, default_bucket
from core.training import FEATURES, MODEL_NAME

if TYPE_CHECKING:
    from core.project import Project



def _first(*candidates: Any) -> Any:
    return next((c for c in candidates if c not in (None, "", [], {})), None)


def values(project: "Project") -> dict[str, Any]:
    """Every value the equivalents and the exported scripts use; None where no step has produced it yet."""
    s, out = project.settings, project.state.outputs
    tracking, train, model = out("tracking"), out("train"), out("model")
    creds, iam, image, push, deploy = out("credentials"), out("iam"), out("image"), out("push"), out("deploy")
    region = _first(deploy.get("region"), creds.get("region"), s["aws.region"])
    account = creds.get("account")
    endpoint = _first(deploy.get("endpoint_name"), s["deploy.endpoint"])
    bucket = _first(deploy.get("bucket"),
                    default_bucket(project, account, region) if account else s["deploy.bucket"])
    python = _first(model.get("python_version"), image.get("python_version"))
    sandbox_aws = (project.state.service("sandbox-aws") or {}).get("url") or s["sandbox.aws_endpoint"] or None
    return {
        "tracking_uri": _first(tracking.get("tracking_uri"), model.get("tracking_uri"), s["tracking.uri"],
                               f"http://{s['tracking.host']}:{s['tracking.port']}"),
        "mlflow_store": str(project.mlflow_dir),
        "experiment": s["train.experiment"],
        "run_name": s["train.run_name"],
        "n_estimators": s["train.n_estimators"],
        "train_script": s["train.script"] or None,
        "experiment_id": train.get("experiment_id"),
        "run_id": _first(model.get("run_id"), s["model.run_id"], train.get("run_id")),
        "model_uri": _first(model.get("model_uri"), train.get("model_uri")),
        "flavor": model.get("flavor"),
        "python_version": python,
        "python_minor": ".".join(python.split(".")[:2]) if python else None,
        "requirements": model.get("requirements") or [],
        "input_example": model.get("input_example"),
        "region": region,
        "account": account,
        "profile": s["aws.profile"] or None,
        "credential_source": creds.get("source"),
        "role_name": _first(iam.get("role_name"), s["iam.role_name"]),
        "role_arn": _first(iam.get("role_arn"),
                           f"arn:aws:iam::{account}:role/{s['iam.role_name']}" if account else None),
        "policy": _first(iam.get("policy"), s["iam.policy"]),
        "policy_document": iam.get("policy_document"),
        "repository": s["image.repository"],
        "image_tag": image.get("tag"),
        "repository_uri": _first(push.get("repository_uri"),
                                 f"{account}.dkr.ecr.{region}.amazonaws.com/{s['image.repository']}"
                                 if account else None),
        "image_uri": push.get("image_uri"),
        "endpoint": endpoint,
        "endpoint_config": deploy.get("endpoint_config"),
        "model_name": deploy.get("model_name"),
        "bucket": bucket,
        "prefix": f"sagewiz/{endpoint}",
        "model_data_url": deploy.get("model_data_url"),
        "instance_type": s["deploy.instance_type"],
        "instance_count": s["deploy.instance_count"],
        "everything": s["cleanup.everything"],
        "sandbox": project.sandbox,
        "sandbox_aws_endpoint": sandbox_aws if project.sandbox else None,
    }


class _Shown(dict):
    """Values for display: a missing one reads `<name>` instead of None."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return f"<{key}>" if value is None else value


def dockerfile(v: dict[str, Any]) -> str:
    """The serving image's Dockerfile (also written by `sagewiz export`)."""
    template = resources.files("core").joinpath("data", "export", "Dockerfile").read_text(encoding="utf-8")
    return template.replace("__PYTHON_MINOR__", v["python_minor"] or "3.11")


def _local_image(v: _Shown) -> str:
    """The local image reference: the image step's tag (a full reference or a bare tag), else repository:latest."""
    tag = v.get("image_tag") or "latest"
    return tag if ":" in tag else f"{v['repository']}:{tag}"


def _aws(v: _Shown) -> str:
    """Options every aws CLI call here needs: region, profile, and the emulator in the sandbox."""
    extra = f" --profile {v['profile']}" if v.get("profile") else ""
    if v.get("sandbox_aws_endpoint"):
        extra += f" --endpoint-url {v['sandbox_aws_endpoint']}"
    return f"--region {v['region']}{extra}"


def _environment(v: _Shown) -> str:
    pins = " ".join(r for r in v.get("requirements") if r.split("=")[0].strip() in
                    ("mlflow", "scikit-learn", "pandas", "cloudpickle", "skops")) or "mlflow scikit-learn pandas"
    python = v.get("python_minor") or "3.11"
    return (f"python{python} -m venv .venv          # the tutorial used conda with python 3.6\n"
            ". .venv/bin/activate\n"
            f"pip install {pins} boto3 docker\n"
            "python -c 'import mlflow, sklearn; print(mlflow.__version__, sklearn.__version__)'")


def _preflight(v: _Shown) -> str:
    from urllib.parse import urlsplit

    where = urlsplit(v["tracking_uri"])
    return ("docker info --format '{{.ServerVersion}} {{.Architecture}}'   # is the Docker daemon running?\n"
            f"python -c 'import socket; socket.create_connection((\"{where.hostname}\", {where.port or 80}), 1)' "
            "&& echo 'the MLflow port is taken'\n"
            f"aws sts get-caller-identity {_aws(v)}\n"
            "aws configure get region\n"
            "df -h .")


def local_server(v: dict[str, Any]) -> str | None:
    """The `mlflow server` command of the embedded tracking server (None for a server of the user's own)."""
    from urllib.parse import urlsplit

    where = urlsplit(v["tracking_uri"])
    if where.scheme != "http" or where.hostname not in ("127.0.0.1", "localhost"):
        return None
    return (f"mlflow server --host {where.hostname} --port {where.port or 80} \\\n"
            f"  --backend-store-uri sqlite:///{v['mlflow_store']}/mlflow.db \\\n"
            f"  --artifacts-destination {v['mlflow_store']}/artifacts")


def _tracking(v: _Shown) -> str:
    uri, server = v["tracking_uri"], local_server(v)
    if server is None:
        return f"export MLFLOW_TRACKING_URI={uri}\nmlflow experiments search   # check the server answers"
    return f"{server}\ncurl {uri}/health\nexport MLFLOW_TRACKING_URI={uri}   # open {uri} in a browser"


def _train(v: _Shown) -> str:
    if v.get("train_script"):
        return f"MLFLOW_TRACKING_URI={v['tracking_uri']} python {v['train_script']}"
    return (f"import mlflow\n"
            f"mlflow.set_tracking_uri(\"{v['tracking_uri']}\")\n"
            f"mlflow.set_experiment(\"{v['experiment']}\")   # experiment id {v['experiment_id']}\n"
            f"with mlflow.start_run(run_name=\"{v['run_name']}\") as run:\n"
            f"    rf = RandomForestRegressor(n_estimators={v['n_estimators']}).fit(X_train, y_train)\n"
            f"    mlflow.log_param(\"num_estimators\", {v['n_estimators']})\n"
            "    mlflow.log_metric(\"mse\", mean_squared_error(y_test, rf.predict(X_test)))\n"
            f"    mlflow.sklearn.log_model(rf, name=\"{MODEL_NAME}\", input_example=X_train[:1],\n"
            "                             skops_trusted_types=[\"sklearn.tree._tree.Tree\"])  # MLflow 3 needs this\n"
            f"# run id: {v['run_id']}\n"
            "# the whole script: `sagewiz export`, then python train.py")


def _model(v: _Shown) -> str:
    example = v.get("input_example") or {"columns": FEATURES, "data": [["<x1>", "<x2>"]]}
    return (f"export MLFLOW_TRACKING_URI={v['tracking_uri']}\n"
            f"mlflow runs describe --run-id {v['run_id']}\n"
            f"mlflow artifacts list --artifact-uri {v['model_uri']}     # MLmodel, requirements.txt, the model file\n"
            f"mlflow artifacts download --artifact-uri {v['model_uri']} --dst-path model\n"
            "python -c \"import mlflow, pandas as pd; "
            f"print(mlflow.pyfunc.load_model('model').predict(pd.DataFrame(**{example!r})))\"")


def _credentials(v: _Shown) -> str:
    profile = f" --profile {v.get('profile')}" if v.get("profile") else ""
    return (f"aws configure{profile}        # access key id and secret: typed in, never written in files here\n"
            f"aws sts get-caller-identity {_aws(v)}\n"
            f"aws sts get-caller-identity --query Account --output text {_aws(v)}   # {v['account']}\n"
            f"# region {v['region']}, credentials from {v['credential_source']}")


def _iam(v: _Shown) -> str:
    role = v["role_name"]
    text = (f"cat > trust.json <<'EOF'\n{json.dumps(TRUST_POLICY, indent=2)}\nEOF\n"
            f"aws iam create-role {_aws(v)} --role-name {role} --assume-role-policy-document file://trust.json\n")
    if v["policy"] == "managed":
        return text + (f"aws iam attach-role-policy {_aws(v)} --role-name {role} "
                       f"--policy-arn {managed_policy_arn(v['region'])}\n")
    document = v.get("policy_document")
    shown = json.dumps(document, indent=2) if document else "<the least-privilege policy the iam step writes>"
    return (text + f"cat > policy.json <<'EOF'\n{shown}\nEOF\n"
            f"aws iam put-role-policy {_aws(v)} --role-name {role} --policy-name {INLINE_POLICY} "
            "--policy-document file://policy.json\n"
            f"# role ARN: {v['role_arn']}")


def _image(v: _Shown) -> str:
    return (f"mlflow artifacts download --artifact-uri {v['model_uri']} --dst-path model\n"
            f"cat > Dockerfile <<'EOF'\n{dockerfile(v).rstrip()}\nEOF\n"
            f"docker build --platform linux/amd64 -t {_local_image(v)} .")


def _smoke(v: _Shown) -> str:
    return (f"docker run --rm -d --name smoke -p 8080:8080 {_local_image(v)} serve\n"
            "curl http://127.0.0.1:8080/ping\n"
            f"python predict.py --local-url http://127.0.0.1:8080   # or: curl -H 'Content-Type: application/json' "
            f"-d '{_request(v)}' http://127.0.0.1:8080/invocations\n"
            "docker rm -f smoke")


def _request(v: _Shown) -> str:
    example = v.get("input_example") or {"columns": FEATURES, "data": [["<x1>", "<x2>"]]}
    return json.dumps({"dataframe_split": example})


def _push(v: _Shown) -> str:
    repo, registry = v["repository"], str(v["repository_uri"]).split("/", 1)[0]
    return (f"aws ecr create-repository {_aws(v)} --repository-name {repo}   # once\n"
            f"aws ecr get-login-password {_aws(v)} | docker login --username AWS --password-stdin {registry}\n"
            f"docker tag {_local_image(v)} {v['repository_uri']}:latest\n"
            f"docker push {v['repository_uri']}:latest\n"
            f"# pushed as {v['image_uri']}")


def _deploy(v: _Shown) -> str:
    a = _aws(v)
    return (f"aws s3 mb s3://{v['bucket']} {a}\n"
            f"tar -C model -czf model.tar.gz .   # the model directory from the image step\n"
            f"aws s3 cp model.tar.gz {v['model_data_url']} {a}\n"
            f"aws sagemaker create-model {a} --model-name {v['model_name']} \\\n"
            f"  --execution-role-arn {v['role_arn']} \\\n"
            f"  --primary-container Image={v['image_uri']},ModelDataUrl={v['model_data_url']}\n"
            f"aws sagemaker create-endpoint-config {a} --endpoint-config-name {v['endpoint_config']} \\\n"
            f"  --production-variants VariantName=AllTraffic,ModelName={v['model_name']},"
            f"InstanceType={v['instance_type']},InitialInstanceCount={v['instance_count']}\n"
            f"aws sagemaker create-endpoint {a} --endpoint-name {v['endpoint']} "
            f"--endpoint-config-name {v['endpoint_config']}\n"
            f"aws sagemaker wait endpoint-in-service {a} --endpoint-name {v['endpoint']}")


def _predict(v: _Shown) -> str:
    return ("import boto3, json\n"
            f"sm = boto3.client(\"sagemaker\", region_name=\"{v['region']}\")\n"
            f"print(sm.describe_endpoint(EndpointName=\"{v['endpoint']}\")[\"EndpointStatus\"])\n"
            f"runtime = boto3.client(\"sagemaker-runtime\", region_name=\"{v['region']}\")\n"
            f"answer = runtime.invoke_endpoint(EndpointName=\"{v['endpoint']}\", ContentType=\"application/json\",\n"
            f"                                 Body=json.dumps({_request(v)}))\n"
            "print(json.loads(answer[\"Body\"].read()))   # MLflow 2+ wants dataframe_split, not pandas-split")


def _cleanup(v: _Shown) -> str:
    a = _aws(v)
    text = (f"aws sagemaker delete-endpoint {a} --endpoint-name {v['endpoint']}\n"
            f"aws sagemaker delete-endpoint-config {a} --endpoint-config-name {v['endpoint_config']}\n"
            f"aws sagemaker delete-model {a} --model-name {v['model_name']}\n"
            f"aws s3 rm {a} --recursive s3://{v['bucket']}/{v['prefix']}/\n")
    optional = "" if v["everything"] else "# with cleanup.everything (or --all):\n"
    return (text + optional +
            f"aws ecr delete-repository {a} --repository-name {v['repository']} --force\n"
            f"aws iam delete-role-policy {a} --role-name {v['role_name']} --policy-name {INLINE_POLICY}\n"
            f"aws iam delete-role {a} --role-name {v['role_name']}\n"
            f"aws sagemaker list-endpoints {a}   # check nothing billable is left")


RENDERERS: dict[str, Callable[[_Shown], str]] = {
    "environment": _environment, "preflight": _preflight, "tracking": _tracking, "train": _train,
    "model": _model, "credentials": _credentials, "iam": _iam, "image": _image, "smoke": _smoke,
    "push": _push, "deploy": _deploy, "predict": _predict, "cleanup": _cleanup,
}


def render(step_id: str, project: "Project | None") -> str | None:
    """The step's manual equivalent with this project's values; None without a project (or an unknown step)."""
    renderer = RENDERERS.get(step_id)
    if project is None or project.state is None or renderer is None:
        return None
    from core.redact import redactor

    return redactor(renderer(_Shown(values(project))))
