"""``python -m constructs_sqs.local``: start, deploy into, run consumers against, reset and stop the emulator.

::

    python -m constructs_sqs.local deploy   # start (or reuse) + reset + cdk bootstrap + cdk deploy --all
    python -m constructs_sqs.local run      # play every SQS event source mapping and worker service until Ctrl-C
    python -m constructs_sqs.local stop     # stop it, by its recorded process id

``--port`` defaults to ``$LOCAL_PORT`` or 4566; the process record and logs go to ``--state-dir``
(default ``.local-emulator``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .emulator import DEFAULT_PORT, DEFAULT_STATE_DIR, Emulator, EmulatorError

if TYPE_CHECKING:
    from .deploy import Deployment
    from .gaps import Gap


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a whole number between 1 and 65535, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be a whole number between 1 and 65535, got {value!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m constructs_sqs.local", description=__doc__.split("::")[0])
    parser.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("LOCAL_PORT") or DEFAULT_PORT,
        help=f"the emulator's port on localhost (default: $LOCAL_PORT, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"where the emulator's process record and log are kept (default: {DEFAULT_STATE_DIR})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start the emulator (or reuse the running one) and wait until it answers")
    commands.add_parser("stop", help="stop the emulator by its recorded process id")
    commands.add_parser("reset", help="forget every resource and message")
    commands.add_parser("status", help="say whether the emulator runs, and where")
    deploy = commands.add_parser("deploy", help="start + reset + cdk bootstrap + cdk deploy --all, then list what exists")
    deploy.add_argument("--project-dir", type=Path, default=Path("."), help="directory with cdk.json")
    deploy.add_argument("--output", type=Path, default=None, help="cloud assembly directory (default: cdk.out)")
    run = commands.add_parser("run", help="play every SQS event source mapping and ECS worker service of the deployed app until Ctrl-C")
    run.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="the deployed cloud assembly")
    run.add_argument("--project-dir", type=Path, default=Path("."), help="where worker processes run (default: .)")
    run.add_argument(
        "--period-seconds", type=float, default=5.0, help="the local autoscaler's evaluation period (AWS: 60; default 5)"
    )
    run.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    run.add_argument("--poll-seconds", type=int, default=5, help="long-poll wait per receive, 0-20")
    return parser


def _command(args: argparse.Namespace, *rest: str) -> str:
    """How to call this module again on the same emulator: the options that differ from the defaults."""
    words = ["python -m constructs_sqs.local"]
    if args.port != DEFAULT_PORT:
        words.append(f"--port {args.port}")
    if Path(args.state_dir) != DEFAULT_STATE_DIR:
        words.append(f"--state-dir {shlex.quote(str(args.state_dir))}")
    return " ".join([*words, *rest])


def _stacks(deployment: Deployment) -> str:
    return f"{len(deployment.stacks)} stack{'s' if len(deployment.stacks) != 1 else ''}"


def deploy_verdict(
    deployment: Deployment, checks: Mapping[tuple[str, str], str | None], gaps: Mapping[tuple[str, str], Gap]
) -> tuple[int, str]:
    """The exit status of a deploy and the sentence that says why, from what the inventory found.

    0 when every stack is complete and every resource exists in its service or is a gap the documentation lists
    (the sentence then counts the gaps, or is empty); 1 otherwise, the sentence counting what is wrong.
    """
    missing = [key for key, problem in checks.items() if problem and key not in gaps]
    failed = [stack.name for stack in deployment.stacks if stack.status != "CREATE_COMPLETE"]
    if failed or missing:
        return 1, (
            f"Deployed {_stacks(deployment)}: {len(failed)} not complete ({', '.join(failed) or 'none'}), "
            f"{len(missing)} resources missing (marked !), none of them a gap the documentation lists."
        )
    if gaps:
        return 0, f"{len(gaps)} resources are gaps the documentation's \"Emulator gaps\" table lists (marked ~): they do nothing locally."
    return 0, ""


def _deploy(emulator: Emulator, args: argparse.Namespace) -> int:
    from .deploy import deploy_app, render_summary
    from .inventory import check_resources, gaps_in

    started = time.monotonic()
    record = emulator.start()
    print(f"Emulator: pid {record.pid} on {emulator.endpoint_url}, log {record.log_file}", flush=True)
    deployment = deploy_app(emulator, project_dir=args.project_dir, output_dir=args.output)
    checks = check_resources(emulator, deployment)
    gaps = gaps_in(deployment)
    print("\n" + render_summary(deployment, checks, gaps))
    status, verdict = deploy_verdict(deployment, checks, gaps)
    print()
    if verdict:
        print(verdict)
    assembly = deployment.assembly_dir
    run = _command(args, "run") if assembly == Path("cdk.out").resolve() else _command(args, "run", "--assembly", shlex.quote(str(assembly)))
    print(f"Deployed {_stacks(deployment)} in {time.monotonic() - started:.1f} s; the emulator keeps running on "
          f"{emulator.endpoint_url}: {run} plays the consumers, {_command(args, 'stop')} stops it.")
    return status


def _run(emulator: Emulator, args: argparse.Namespace) -> int:
    import threading

    from .deploy import describe_deployment
    from .mappings import discover_mappings
    from .runner import LocalEventSourceRunner, StatusPrinter
    from .workers import WorkerServiceRunner, discover_worker_services

    if emulator.recorded() is None or not emulator.healthy():
        print(f"No emulator answers on {emulator.endpoint_url}: deploy first ({_command(args, 'deploy')}).", file=sys.stderr)
        return 2
    deployment = describe_deployment(emulator, args.assembly)
    mappings = discover_mappings(emulator, deployment)
    services = discover_worker_services(emulator, deployment)
    if not mappings and not services:
        print("The deployed app has no SQS event source mapping and no ECS service.", file=sys.stderr)
        return 2
    runner = LocalEventSourceRunner(emulator, mappings, poll_seconds=args.poll_seconds) if mappings else None
    workers = WorkerServiceRunner(emulator, services, project_dir=args.project_dir, period_seconds=args.period_seconds) if services else None
    for mapping in mappings:
        print(f"Playing {mapping.describe()} with {runner.pollers_for(mapping) if runner else 0} pollers")
    for service in services:
        print(f"Playing {service.describe()}")
        for note in service.notes:
            print(f"    note: {note}")
    print("Ctrl-C stops after the batches in hand; workers get SIGTERM, then SIGKILL after their stop timeout.\n", flush=True)
    printer = StatusPrinter()
    if workers is None:
        assert runner is not None
        runner.run(duration=args.duration, status=printer)
        return 0
    if runner is None:
        workers.run(duration=args.duration, status=printer)
        return 0
    thread = threading.Thread(target=workers.run, kwargs={"duration": args.duration}, name="worker-services", daemon=True)
    thread.start()
    try:
        runner.run(duration=args.duration, status=lambda stats: printer({**stats, **workers.snapshot()}))
    finally:
        workers.stop()
        thread.join()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (1: a stack is not complete, or a resource is missing that is not
    a gap the documentation lists; 2: nothing to run)."""
    args = _parser().parse_args(argv)
    emulator = Emulator(args.port, state_dir=args.state_dir)
    try:
        if args.command == "start":
            record = emulator.start()
            print(f"Emulator: pid {record.pid} on {emulator.endpoint_url}, log {record.log_file}")
        elif args.command == "stop":
            print("Emulator stopped." if emulator.stop() else "No emulator was running.")
        elif args.command == "reset":
            emulator.reset()
            print(f"Emulator on {emulator.endpoint_url} reset.")
        elif args.command == "status":
            found = emulator.recorded()
            running = found is not None and emulator.healthy()
            print(f"Emulator: pid {found.pid} on {emulator.endpoint_url}" if running and found else "No emulator is running.")
            return 0 if running else 1
        elif args.command == "deploy":
            return _deploy(emulator, args)
        elif args.command == "run":
            return _run(emulator, args)
    except (EmulatorError, RuntimeError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
