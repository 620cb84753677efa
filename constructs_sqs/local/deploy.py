"""Deploy a CDK app into the emulator with the real CDK CLI, and describe what it created.

``deploy_app`` resets the emulator, runs ``cdk bootstrap`` and ``cdk deploy --all --require-approval
never`` with the CLI pinned in the project's ``package-lock.json``, then reads back every stack: its
status, outputs and resources, matched with the template of the cloud assembly it came from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .emulator import Emulator
from .gaps import Gap


class DeployError(RuntimeError):
    """The CDK CLI failed; the message ends with the last lines of its output."""


@dataclass(frozen=True)
class DeployedResource:
    """One resource of a deployed stack: what the template declares and what the emulator made."""

    stack: str
    logical_id: str
    type: str
    physical_id: str | None
    path: str | None
    """The construct path (``aws:cdk:path`` metadata), e.g. ``ConstructsSqsOrders/Orders/Resource/Resource``."""
    properties: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The resource's properties as the template has them (intrinsics unresolved)."""


@dataclass(frozen=True)
class DeployedQueue:
    """A deployed SQS queue, found by name, construct path or ``Stack/LogicalId``."""

    stack: str
    logical_id: str
    path: str | None
    name: str
    url: str
    arn: str
    fifo: bool


@dataclass(frozen=True)
class DeployedStack:
    """One stack as the emulator's CloudFormation reports it, with its template from the cloud assembly."""

    name: str
    status: str
    outputs: Mapping[str, str]
    resources: tuple[DeployedResource, ...]
    template: Mapping[str, Any] = field(repr=False)

    def resources_of(self, resource_type: str) -> list[DeployedResource]:
        """The resources of one CloudFormation type, in template order."""
        return [resource for resource in self.resources if resource.type == resource_type]

    def resource(self, logical_id: str) -> DeployedResource:
        """The resource with ``logical_id``; raises KeyError naming the stack's logical ids."""
        for resource in self.resources:
            if resource.logical_id == logical_id:
                return resource
        raise KeyError(f"stack {self.name} has no resource {logical_id!r}; it has {[r.logical_id for r in self.resources]}")

    def counts(self) -> Counter[str]:
        """How many resources of each type the stack has."""
        return Counter(resource.type for resource in self.resources)


@dataclass(frozen=True)
class Deployment:
    """Every stack of one ``deploy_app`` call, and where to reach them."""

    stacks: tuple[DeployedStack, ...]
    assembly_dir: Path
    endpoint_url: str
    region: str
    account_id: str

    @property
    def stack_names(self) -> list[str]:
        return [stack.name for stack in self.stacks]

    def stack(self, name: str) -> DeployedStack:
        """The stack called ``name``; raises KeyError naming the deployed stacks."""
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise KeyError(f"no deployed stack {name!r}; deployed: {self.stack_names}")

    @property
    def queues(self) -> list[DeployedQueue]:
        """Every ``AWS::SQS::Queue`` of every stack."""
        queues = []
        for stack in self.stacks:
            for resource in stack.resources_of("AWS::SQS::Queue"):
                if not resource.physical_id:
                    continue
                name = resource.physical_id.rsplit("/", 1)[-1]
                queues.append(
                    DeployedQueue(
                        stack=stack.name,
                        logical_id=resource.logical_id,
                        path=resource.path,
                        name=name,
                        url=f"{self.endpoint_url}/{self.account_id}/{name}",
                        arn=f"arn:aws:sqs:{self.region}:{self.account_id}:{name}",
                        fifo=name.endswith(".fifo"),
                    )
                )
        return queues

    def queue(self, key: str) -> DeployedQueue:
        """The queue whose name is ``key``, whose construct path is ``key`` or starts with ``key + "/"``
        (``ConstructsSqsOrders/Orders`` finds the queue, ``ConstructsSqsOrders/Orders/DeadLetterQueue`` its
        DLQ), or which is ``Stack/LogicalId``.

        Raises
        ------
        KeyError
            When none or several queues match; the message lists the queues by name and path.
        """
        matches = [
            queue
            for queue in self.queues
            if key in (queue.name, f"{queue.stack}/{queue.logical_id}")
            or (queue.path is not None and (queue.path == key or queue.path in (f"{key}/Resource", f"{key}/Resource/Resource")))
        ]
        if len(matches) != 1:
            known = ", ".join(f"{q.name} ({q.path})" for q in self.queues)
            raise KeyError(f"{len(matches)} queues match {key!r}; the queues are: {known}")
        return matches[0]


def cdk_command(project_dir: str | os.PathLike[str]) -> list[str]:
    """The pinned CDK CLI of ``project_dir`` (``node_modules/.bin/cdk`` after ``npm ci``), else ``npx cdk``."""
    local = Path(project_dir).resolve() / "node_modules" / ".bin" / "cdk"
    if local.exists():
        return [str(local)]
    return ["npx", "--no-install", "cdk"]


DOCKER_STAND_IN = """#!{python}
# constructs_sqs.local: the CDK CLI's docker (CDK_DOCKER) for deploys into the emulator. Without a Docker daemon
# and with no registry behind the emulator's ECR, container image assets are neither built nor pushed: every
# call succeeds and is logged; `inspect` says the image is not there, so the CLI goes through build, tag, push.
# The local runner does not use the image: it runs the container's command from the project directory.
import sys
with open({log!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:2] == ["login"]:
    sys.stdin.read()
sys.exit(1 if sys.argv[1:2] == ["inspect"] else 0)
"""


def docker_stand_in(state_dir: Path) -> Path:
    """Write the stand-in for ``docker`` that image assets meet in a deploy into the emulator; returns its path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    script = state_dir.resolve() / "docker-stand-in"
    script.write_text(DOCKER_STAND_IN.format(python=sys.executable, log=str(state_dir.resolve() / "docker-stand-in.log")))
    script.chmod(0o755)
    return script


def _cli_environment(emulator: Emulator) -> dict[str, str]:
    env = emulator.environment()
    # The CLI and the app's `python3` come from this interpreter's bin (the venv's node 24 and Python).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    # Container image assets (a worker service's image) are not built: see DOCKER_STAND_IN.
    env["CDK_DOCKER"] = str(docker_stand_in(emulator.state_dir))
    return env


def _run_cli(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: IO[str] | None) -> None:
    """Run the CLI; its output goes to ``log`` (a file), or to this process's terminal when None."""
    result = subprocess.run(
        list(args), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT if log else None, check=False
    )
    if result.returncode != 0:
        tail = ""
        if log is not None and hasattr(log, "name"):
            log.flush()
            tail = "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-30:])
        raise DeployError(f"{' '.join(args[:3])} ... exited with {result.returncode}\n{tail}".rstrip())


def deploy_app(
    emulator: Emulator,
    *,
    project_dir: str | os.PathLike[str] = ".",
    app: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    context: Mapping[str, str] | None = None,
    reset: bool = True,
    cdk: Sequence[str] | None = None,
    log: IO[str] | None = None,
) -> Deployment:
    """Deploy every stack of a CDK app into the emulator with the real CDK CLI.

    Parameters
    ----------
    emulator:
        A started :class:`Emulator`.
    project_dir:
        The directory with ``cdk.json`` (and ``node_modules`` from ``npm ci``); the CLI runs there.
    app:
        ``--app`` for the CLI (a command, or a cloud assembly directory); default: ``cdk.json``'s.
    output_dir:
        Where the cloud assembly goes (``--output``); default ``<project_dir>/cdk.out``.
    context:
        Extra ``-c key=value`` pairs.
    reset:
        Forget everything in the emulator first (moto cannot update a stack: every deploy is a create).
        ``cdk bootstrap`` runs when the emulator is not bootstrapped yet.
    cdk:
        The CLI command; default :func:`cdk_command` of ``project_dir``.
    log:
        A text file for the CLI's output; default: this process's terminal.

    Returns
    -------
    Deployment
        The stacks with their status, outputs and resources.

    Raises
    ------
    DeployError
        When ``cdk bootstrap`` or ``cdk deploy`` fails (with the end of the CLI's output when logged).
    """
    project = Path(project_dir).resolve()
    assembly = Path(output_dir).resolve() if output_dir else project / "cdk.out"
    command = list(cdk) if cdk else cdk_command(project)
    env = _cli_environment(emulator)
    if reset:
        emulator.reset()
    flags = ["--no-notices", "--no-version-reporting"]
    if not _bootstrapped(emulator):
        # Bootstrapping needs no app: run it outside the project so the CLI does not synthesize it twice.
        emulator.state_dir.mkdir(parents=True, exist_ok=True)
        bootstrap = [*command, "bootstrap", f"aws://{emulator.account_id}/{emulator.region}", *flags]
        _run_cli(bootstrap, cwd=emulator.state_dir.resolve(), env=env, log=log)
    deploy = [*command, "deploy", "--all", "--require-approval", "never", "--output", str(assembly), *flags]
    if app is not None:
        deploy += ["--app", app]
    for key, value in (context or {}).items():
        deploy += ["--context", f"{key}={value}"]
    _run_cli(deploy, cwd=project, env=env, log=log)
    return describe_deployment(emulator, assembly)


def _bootstrapped(emulator: Emulator) -> bool:
    """Whether the default CDK bootstrap stack exists (its version parameter is what deploys check)."""
    try:
        emulator.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")
    except Exception as error:  # botocore's ParameterNotFound is generated per client
        if type(error).__name__ == "ParameterNotFound":
            return False
        raise
    return True


def _assembly_stacks(assembly: Path) -> list[tuple[str, Path]]:
    """(stack name, template file) of every stack artifact in the cloud assembly's manifest."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            properties = artifact.get("properties", {})
            stacks.append((properties.get("stackName", artifact_id), assembly / properties["templateFile"]))
    return stacks


def describe_deployment(emulator: Emulator, assembly_dir: str | os.PathLike[str]) -> Deployment:
    """Read back the stacks of ``assembly_dir`` from the emulator's CloudFormation.

    A stack of the assembly that the emulator does not have is reported with status ``NOT_DEPLOYED``.
    """
    assembly = Path(assembly_dir).resolve()
    cloudformation = emulator.client("cloudformation")
    deployed = {stack["StackName"]: stack for stack in cloudformation.describe_stacks()["Stacks"]}
    stacks = []
    for name, template_file in _assembly_stacks(assembly):
        template = json.loads(template_file.read_text())
        if name not in deployed:
            stacks.append(DeployedStack(name, "NOT_DEPLOYED", {}, _resources(name, template, {}), template))
            continue
        summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        physical = {s["LogicalResourceId"]: s.get("PhysicalResourceId") or None for s in summaries if s["LogicalResourceId"]}
        outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed[name].get("Outputs", [])}
        stacks.append(DeployedStack(name, deployed[name]["StackStatus"], outputs, _resources(name, template, physical), template))
    return Deployment(tuple(stacks), assembly, emulator.endpoint_url, emulator.region, emulator.account_id)


def _resources(stack: str, template: Mapping[str, Any], physical: Mapping[str, str | None]) -> tuple[DeployedResource, ...]:
    return tuple(
        DeployedResource(
            stack=stack,
            logical_id=logical_id,
            type=body["Type"],
            physical_id=physical.get(logical_id),
            path=body.get("Metadata", {}).get("aws:cdk:path"),
            properties=body.get("Properties", {}),
        )
        for logical_id, body in template.get("Resources", {}).items()
    )


def _short(physical_id: str) -> str:
    """A physical id without what every id of its kind repeats: the URL's path, the ARN's prefix."""
    if physical_id.startswith("arn:"):
        return physical_id.split(":", 5)[-1]
    return physical_id.rsplit("/", 1)[-1]


def render_summary(
    deployment: Deployment,
    checks: Mapping[tuple[str, str], str | None] | None = None,
    gaps: Mapping[tuple[str, str], Gap] | None = None,
) -> str:
    """Per stack, its status and its resources by type with their physical ids; then how to reach them.

    ``checks`` maps (stack, logical id) to a problem found in the emulator's services (None: found),
    as :func:`constructs_sqs.local.inventory.check_resources` returns; ``gaps`` maps the resources that
    are a gap the documentation lists to that gap (:func:`constructs_sqs.local.inventory.gaps_in`): they count
    neither as found nor as missing, and the gap's consequence is shown once per type.
    """
    width = shutil.get_terminal_size((100, 20)).columns
    gaps = gaps or {}
    lines = []
    for stack in deployment.stacks:
        mark = "ok" if stack.status == "CREATE_COMPLETE" else "FAILED"
        lines.append(f"[{mark}] {stack.name}: {stack.status}, {len(stack.resources)} resources")
        for resource_type, count in sorted(stack.counts().items()):
            resources = stack.resources_of(resource_type)
            names = [r.physical_id or "(not created)" for r in resources]
            listed = [gaps[(stack.name, r.logical_id)] for r in resources if (stack.name, r.logical_id) in gaps]
            problems = [
                checks.get((stack.name, r.logical_id)) for r in resources if (stack.name, r.logical_id) not in gaps
            ] if checks else []
            found = ""
            if checks:
                found = f" - {sum(p is None for p in problems)}/{count} found in the emulator"
                found += f", {len(listed)} a listed gap" if listed else ""
            shown = ", ".join(_short(name) for name in names)
            line = f"    {count:>3} x {resource_type}{found}: {shown}"
            lines.append(line if len(line) <= width else line[: width - 3] + "...")
            lines += [f"          ! {problem}" for problem in problems if problem]
            if listed:
                lines.append(f"          ~ listed gap: {listed[0].consequence}")
    lines += [
        "",
        "Use the emulator with:",
        f"    export AWS_ENDPOINT_URL={deployment.endpoint_url}",
        f"    export AWS_REGION={deployment.region} AWS_DEFAULT_REGION={deployment.region}",
        "    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
        f"    account: {deployment.account_id}",
    ]
    return "\n".join(lines)
