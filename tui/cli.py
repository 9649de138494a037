"""The `sagewiz` command: the Textual wizard by default, headless subcommands for scripts and CI."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.steps import STEPS

if TYPE_CHECKING:
    from rich.console import Console

    from core.aws.clients import InUse
    from core.runtime.engine import Engine
    from core.runtime.project import Project

EXIT_OK, EXIT_STEP_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """examples:
  sagewiz                          open the wizard in this project (resumes where you left off)
  sagewiz --sandbox                rehearse everything against a local AWS emulator
  sagewiz run --sandbox --yes      run all steps headless, no questions asked
  sagewiz run --only environment   check the Python environment
  sagewiz run --from image --to push
  sagewiz status --json            step statuses and outputs for scripts
  sagewiz logs train --follow      the latest train log, as it grows
  sagewiz credentials store        keep an AWS key pair in the OS keyring (prompted, masked)
  sagewiz doctor                   preflight checks only
  sagewiz cleanup --yes            delete everything sagewiz created in AWS
  sagewiz sandbox start            keep the strict AWS emulator and registry running (sandbox stop ends them)
"""


class UsageError(Exception):
    """Bad arguments or settings: exit code 2 with a sentence."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project-dir", type=Path, default=argparse.SUPPRESS,
                        help="project directory holding sagewiz.toml and .sagewiz/ (default: current directory)")
    common.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile to use")
    common.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (overrides sagewiz.toml)")
    common.add_argument("--sandbox", action="store_true", default=argparse.SUPPRESS,
                        help="run AWS steps against a local emulator and registry (labelled SANDBOX)")

    parser = argparse.ArgumentParser(
        prog="sagewiz", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Take a scikit-learn model from MLflow tracking to a live Amazon SageMaker endpoint, "
                    "step by step, and clean up after yourself.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"sagewiz {version('sagewiz')}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("steps", parents=[common], help="list the steps in order")
    run = sub.add_parser("run", parents=[common], help="run steps headless (default: resume to the end)")
    run.add_argument("--from", dest="start", choices=STEPS.ids, metavar="STEP", help="first step to run")
    run.add_argument("--to", dest="end", choices=STEPS.ids, metavar="STEP", help="last step to run")
    run.add_argument("--only", choices=STEPS.ids, metavar="STEP", help="run just this step")
    run.add_argument("--yes", action="store_true", help="agree to confirmations (deploy cost, cleanup)")
    run.add_argument("--run-id", help="MLflow run id of the model to deploy (sets model.run_id)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a setting for this run, e.g. --set deploy.instance_type=ml.t2.medium")

    status = sub.add_parser("status", parents=[common], help="step statuses, outputs and the resource ledger")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    logs = sub.add_parser("logs", parents=[common], help="list step runs, or show one step's latest log")
    logs.add_argument("step", nargs="?", choices=STEPS.ids, metavar="STEP")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing while the log grows")

    creds = sub.add_parser("credentials", parents=[common], help="AWS keys in the OS keyring")
    creds.add_argument("action", choices=("store", "show", "forget"))

    cleanup = sub.add_parser("cleanup", parents=[common], help="delete the AWS resources sagewiz created")
    cleanup.add_argument("--yes", action="store_true", help="do not ask before deleting")
    cleanup.add_argument("--all", dest="everything", action="store_true",
                         help="also delete the ECR repository and the IAM role")

    sub.add_parser("doctor", parents=[common], help="run the preflight checks only")
    explain = sub.add_parser("explain", parents=[common], help="what a step does and the equivalent commands")
    explain.add_argument("step", choices=STEPS.ids, metavar="STEP")
    sandbox = sub.add_parser("sandbox", parents=[common], help="start, stop or show the local AWS emulator and "
                                                                "registry, kept running between wizards")
    sandbox.add_argument("action", choices=("start", "stop", "status"))
    sandbox.add_argument("--port", type=int, help="the emulator's port (default: a free one)")
    export = sub.add_parser("export", parents=[common], help="write runnable scripts of the whole deployment")
    export.add_argument("directory", nargs="?", type=Path, default=Path("sagewiz-export"))
    return parser


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if getattr(args, "region", None):
        overrides["aws.region"] = args.region
    if getattr(args, "profile", None):
        overrides["aws.profile"] = args.profile
    if getattr(args, "sandbox", False):
        overrides["sandbox.enabled"] = True
    if getattr(args, "run_id", None):
        overrides["model.run_id"] = args.run_id
    return overrides


def open_project(args: argparse.Namespace, *, readonly: bool = False, notices: list[str] | None = None) -> Project:
    """The project with the command line's settings, and the AWS mode every command shares: the sandbox when
    nothing chose one and no AWS account is configured. Its notice is printed, or appended to `notices`."""
    from core.aws.clients import decide_sandbox
    from core.runtime.project import Project
    from core.runtime.settings import SettingsError

    project = Project(getattr(args, "project_dir", Path.cwd()), overrides=overrides_from(args))
    for item in getattr(args, "set", []):
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set {item!r} needs the form KEY=VALUE, e.g. --set deploy.instance_count=2.")
        try:
            project.settings.parse_and_set(key.strip(), value.strip())
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
    opened = project.open_readonly() if readonly else project.open()
    try:
        notice = decide_sandbox(opened)
    except BaseException:
        opened.close()
        raise
    if notice and notices is not None:
        notices.append(notice)
    elif notice:
        console().print(f"[yellow]{notice}[/]")
    return opened


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def cmd_steps(args: argparse.Namespace) -> int:
    from rich.table import Table

    table = Table(title="sagewiz steps")
    for column in ("#", "step", "group", "title"):
        table.add_column(column)
    for number, step in enumerate(STEPS, 1):
        table.add_row(str(number), step.id, step.group, step.title)
    console().print(table)
    return EXIT_OK


def _banner(out: Console, project: Project, in_use: InUse) -> None:
    """Mode, project, and the account, credential source and region the AWS steps use now."""
    from rich.markup import escape

    mode = "[black on yellow] SANDBOX [/]" if project.sandbox else "[black on cyan] AWS [/]"
    out.print(f"{mode} project [bold]{escape(str(project.root))}[/] {escape(describe_in_use(in_use))}",
              soft_wrap=True)


def describe_in_use(in_use: InUse) -> str:
    """One line: which account, from which credentials, in which region (core.aws.clients.InUse)."""
    if in_use.source is None:
        return f"region {in_use.region}; no usable AWS credentials: {in_use.problem}"
    key = f" key ****{in_use.key_last4}" if in_use.key_last4 and in_use.source != "sandbox" else ""
    account = f"account {in_use.account}" if in_use.account else "account not checked yet (the credentials step)"
    return f"{account}, credentials from {in_use.source}{key}, region {in_use.region}"


def _ask_up_front(engine: Engine, args: argparse.Namespace) -> str | None:
    """Without a terminal and without --yes, a run that would reach a question is refused before it starts
    (a question half way would leave what earlier steps created); the sentence, or None when it may run."""
    if getattr(args, "yes", False) or sys.stdin.isatty():
        return None
    asking = engine.asking(args.start, args.end, args.only)
    if not asking:
        return None
    what = "; ".join(f"the {s} step asks {STEPS.get(s).asks}" for s in asking)
    plan = engine.plan(args.start, args.end, args.only)
    before = STEPS.ids[STEPS.index(asking[0]) - 1] if asking[0] != plan[0] else None
    stop = f", or end the run before {asking[0]} with --to {before}" if before else ""
    return (f"Nothing was run: {what}, and there is no terminal to ask. Pass --yes to agree in advance{stop}.")


def _goodbye(out: Console, project: Project, args: argparse.Namespace) -> None:
    """Say what is still live and billing, what it costs per hour and the command that deletes it."""
    from rich.markup import escape

    from core.aws.billable import reminder

    text = reminder(project, getattr(args, "project_dir", None) is not None)
    if text:
        out.print(f"[bold yellow]{escape(text)}[/]", soft_wrap=True)


def cmd_run(args: argparse.Namespace) -> int:
    from core.aws.clients import in_use
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from core.runtime.redact import redactor
    from tui.headless import HeadlessRenderer, make_confirm

    out = console()
    with open_project(args) as project:
        _banner(out, project, in_use(project))
        bus = EventBus(redactor)
        engine = Engine(STEPS, project, bus, make_confirm(out, args.yes))
        try:
            plan = engine.plan(args.start, args.end, args.only)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not plan:
            out.print(f"Every step up to {engine.open_end} is done. Use --from STEP or --only STEP to run steps "
                      "again; `sagewiz cleanup` deletes what the deployment created.")
            _goodbye(out, project, args)
            return EXIT_OK
        refusal = _ask_up_front(engine, args)
        if refusal:
            raise UsageError(refusal)
        if args.start is None and args.only is None:
            out.print(f"Resuming at [bold]{plan[0]}[/].")
        with HeadlessRenderer(out) as renderer:
            bus.subscribe(renderer)
            try:
                ok = engine.run(args.start, args.end, args.only)
            except KeyboardInterrupt:
                engine.cancel.set()
                out.print("[yellow]Interrupted: the running step was stopped; `sagewiz run` resumes it.[/]")
                ok = False
        _goodbye(out, project, args)
    return EXIT_OK if ok else EXIT_STEP_FAILED


def cmd_status(args: argparse.Namespace) -> int:
    from core.aws.clients import in_use
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from tui.headless import status_table

    with open_project(args, readonly=True, notices=[] if args.json else None) as project:
        engine = Engine(STEPS, project, EventBus())
        rows, resume, aws = engine.status_table(), engine.resume_point(), in_use(project)
        if args.json:
            print(json.dumps({"project": str(project.root), "sandbox": project.sandbox, "region": aws.region,
                              "aws": aws.as_dict(), "resume_at": resume, "steps": rows,
                              "ledger": engine.state.ledger()}, indent=2, default=str))
            return EXIT_OK
        out = console()
        _banner(out, project, aws)
        out.print(status_table(rows, resume))
        live = [r for r in engine.state.ledger() if r.get("status") in ("intent", "created")]
        if live:
            out.print(f"{len(live)} AWS resource(s) in the ledger: " +
                      ", ".join(f"{r['kind']} {r['id']}" for r in live))
        out.print(f"Next: {resume}" if resume else f"Every step up to {engine.open_end} is done.")
        _goodbye(out, project, args)
    return EXIT_OK


def cmd_logs(args: argparse.Namespace) -> int:
    from rich.table import Table

    from core.runtime.runlog import follow, list_runs
    from tui.marks import format_duration

    with open_project(args, readonly=True) as project:
        runs = list_runs(project.logs_dir, args.step)
        out = console()
        if args.step is None:
            table = Table(title=f"step runs ({project.logs_dir})")
            for column in ("when", "step", "status", "duration", "file"):
                table.add_column(column)
            for run in runs:
                from datetime import datetime

                when = datetime.fromtimestamp(run["started_at"]).strftime("%Y-%m-%d %H:%M:%S")
                table.add_row(when, run["step"], run.get("status", ""), format_duration(run.get("duration")),
                              run["log"])
            out.print(table)
            return EXIT_OK
        if not runs:
            out.print(f"The {args.step} step has not run yet in this project.")
            return EXIT_OK
        path = project.logs_dir / runs[-1]["log"]
        stop = threading.Event()
        if not args.follow:
            stop.set()
        try:
            for line in follow(path, stop):
                print(line, flush=True)
                if args.follow and list_runs(project.logs_dir, args.step)[-1].get("status") != "running":
                    stop.set()
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def _read_secret(prompt: str) -> str:
    """From a masked prompt on a terminal, else one line of stdin: never from argv."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().strip()


def cmd_credentials(args: argparse.Namespace) -> int:
    from core.aws import keys as aws_keys
    from core.runtime import secrets
    from core.runtime.errors import StepError

    out = console()
    try:
        if args.action == "store":
            key_id = _read_secret("AWS access key id (input hidden): ")
            secret = _read_secret("AWS secret access key (input hidden): ")
            aws_keys.store(key_id, secret)
            out.print(f"Stored key {aws_keys.masked_key_id(key_id.strip())} in {secrets.backend_name()} "
                      f"(service '{secrets.SERVICE}').")
        elif args.action == "show":
            pair = aws_keys.load()
            if pair is None:
                out.print("No AWS key is stored in the keyring. Store one with: sagewiz credentials store")
            else:
                out.print(f"Key {aws_keys.masked_key_id(pair[0])} is stored in {secrets.backend_name()}.")
        else:
            removed = aws_keys.forget()
            out.print("Removed the AWS key from the keyring." if removed else "No AWS key was stored.")
    except (StepError, secrets.SecretsUnavailable) as exc:
        out.print(f"[red]{exc}[/]")
        return EXIT_USAGE
    return EXIT_OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    if args.everything:
        args.set = [*getattr(args, "set", []), "cleanup.everything=true"]
    args.start = args.end = None
    args.only = "cleanup"
    return cmd_run(args)


def cmd_sandbox(args: argparse.Namespace) -> int:
    """The project's sandbox services, kept running for other tools and wizards (`sandbox.aws_endpoint`)."""
    from core.aws import sandbox
    from core.runtime.errors import StepError
    from core.runtime.project import Project

    out = console()
    project = Project(getattr(args, "project_dir", Path.cwd()), overrides=overrides_from(args))
    opened = project.open_readonly() if args.action == "status" else project.open()
    try:
        if args.action == "start":
            started = sandbox.start_kept(opened, args.port)
            out.print(f"AWS endpoint: {started.aws_endpoint}\nregistry:     {started.registry}\n"
                      f"Point other projects at them with sandbox.aws_endpoint = \"{started.aws_endpoint}\" and "
                      f"sandbox.registry = \"{started.registry}\"; stop them with: sagewiz sandbox stop")
        elif args.action == "stop":
            stopped = sandbox.stop_kept(opened)
            out.print("Stopped " + ", ".join(stopped) + "." if stopped else "No sandbox service was running.")
        else:
            for line in sandbox.status(opened):
                out.print(line)
    except StepError as exc:
        out.print(f"[red]{exc}[/]")
        return EXIT_STEP_FAILED
    finally:
        opened.close()
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from rich.table import Table

    from core.runtime.checks import run_checks
    from core.steps.preflight import CHECKS
    from tui.marks import CHECK_STYLES

    with open_project(args, readonly=True) as project:
        results = run_checks(project, CHECKS)
    table = Table(title="sagewiz doctor")
    for column in ("check", "result", "detail", "fix"):
        table.add_column(column)
    for result in results:
        table.add_row(result.name, f"[{CHECK_STYLES[result.status]}]{result.status}[/]", result.detail, result.fix)
    console().print(table)
    return EXIT_STEP_FAILED if any(r.status == "fail" for r in results) else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    step = STEPS.get(args.step)
    out = console()
    out.print(f"[bold]{step.title}[/] ({step.id}, {step.group})\n")
    out.print(step.explanation.strip() + "\n")
    with open_project(args, readonly=True) as project:
        out.print(STEPS.by_hand(step.id, project), markup=False, soft_wrap=True)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from core.export import export
    from core.runtime.errors import StepError

    out = console()
    with open_project(args, readonly=True) as project:
        try:
            written = export(project, args.directory)
        except StepError as exc:
            out.print(f"[red]{exc}[/]")
            return EXIT_STEP_FAILED
    out.print(f"Wrote {len(written)} files to [bold]{args.directory}[/]: {', '.join(p.name for p in written)}.")
    out.print(f"Read {args.directory / 'README.md'} for the order to run them.")
    return EXIT_OK


def cmd_wizard(args: argparse.Namespace) -> int:
    """Entry point of plain `sagewiz`: open the project (taking its lock), run the wizard, release it."""
    from core.aws.billable import reminder
    from tui.app import WizardApp

    notices: list[str] = []
    project = open_project(args, notices=notices)
    try:
        app = WizardApp(project, notice=notices[0] if notices else None)
        app.run()
        left = reminder(project, getattr(args, "project_dir", None) is not None)
    finally:
        project.close()
    if left:  # the terminal is the user's again: the last thing they read
        print(left)
    return app.return_code or 0



COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    "steps": cmd_steps, "run": cmd_run, "status": cmd_status, "logs": cmd_logs, "credentials": cmd_credentials,
    "cleanup": cmd_cleanup, "sandbox": cmd_sandbox, "doctor": cmd_doctor, "explain": cmd_explain,
    "export": cmd_export, None: cmd_wizard}


def main(argv: list[str] | None = None) -> int:
    from core.runtime.lock import LockedError
    from core.runtime.project import ProjectError
    from core.runtime.settings import SettingsError
    from core.runtime.state import StateError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, SettingsError, StateError, LockedError, ProjectError) as exc:
        print(f"sagewiz: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
