"""The checkov gate: Prisma Cloud's policy checks for CloudFormation, run as an executable of its own.

checkov is no Python dependency of constructs-sqs, not even of an extra: it pins ``packaging==23.2``,
which breaks pytest 9, so it lives in a venv of its own. Install it once with
``pipx install checkov==3.3.30`` (or :data:`INSTALL_HINT`'s venv recipe); the gate finds it at
``--checkov``, ``$CHECKOV``, ``<venv>/tools/checkov`` (where this repository's ``make install`` puts it) or on
``PATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .assembly import Ignore, Subject, construct_paths, subject_of
from .report import Finding, GateResult

__all__ = [
    "CHECKOV_SKIPS",
    "CHECKOV_VERSION",
    "INSTALL_HINT",
    "UNSCOPABLE_ACTIONS",
    "find_checkov",
    "run_checkov",
]

CHECKOV_VERSION = "3.3.30"
"""The checkov the gate is written for, and the one this repository's Makefile installs into its own venv
(``.venv/tools/checkov``): checkov pins ``packaging==23.2``, which breaks pytest 9, so it cannot share the
project's venv. A fixed version keeps the set of checks, and so the gate, from changing under us; raise
it deliberately."""

INSTALL_HINT = (
    f"install it with `pipx install checkov=={CHECKOV_VERSION}`, or into a venv of its own "
    f"(`python3 -m venv ~/.venvs/checkov && ~/.venvs/checkov/bin/pip install checkov=={CHECKOV_VERSION}`, "
    "then --checkov ~/.venvs/checkov/bin/checkov); or leave the gate out with --skip checkov"
)
"""What to do when no checkov executable is found: commands a user can run anywhere."""


def _names(value: Any, logical_id: str) -> bool:
    """``value`` is a Ref or GetAtt of ``logical_id``."""
    return isinstance(value, dict) and (
        value.get("Ref") == logical_id or (value.get("Fn::GetAtt") or [None])[0] == logical_id
    )


def _sse_sqs(subject: Subject) -> bool:
    """The queue is encrypted with SSE-SQS, which CKV_AWS_27 cannot see."""
    return subject.resource.get("Type") == "AWS::SQS::Queue" and subject.properties.get("SqsManagedSseEnabled") is True


def _sqs_mappings(subject: Subject) -> list[Mapping[str, Any]]:
    """The properties of the event source mappings from an SQS queue to this function."""
    resources = subject.template.get("Resources", {})

    def from_sqs(arn: Any) -> bool:
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            return bool(resources.get(arn["Fn::GetAtt"][0], {}).get("Type") == "AWS::SQS::Queue")
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
"""Actions that take no resource-level permission, so IAM needs Resource "*": X-Ray's (tracing) and EC2's
network-interface actions (a function in a VPC). LambdaTriggeredQueue adds exactly these."""


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
            "concurrency below it would throttle, and throttled deliveries count as receives (constructs-sqs rule "
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


def find_checkov(explicit: str | None = None) -> str | None:
    """The checkov executable: ``explicit``, ``$CHECKOV``, this venv's ``tools/checkov``, or ``PATH``.

    Returns
    -------
    str | None
        Its path, or None when none of these places has one.
    """
    for candidate in (
        explicit,
        os.environ.get("CHECKOV"),
        str(Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("checkov")


def _checkov_reports(checkov: str, templates: Sequence[Path]) -> list[Mapping[str, Any]]:
    """Run checkov once over ``templates``, offline, and return its JSON reports (one per framework)."""
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
    return output if isinstance(output, list) else [output]


class _Locator:
    """Where a checkov result is: its template, logical id and construct path."""

    def __init__(self, templates: Sequence[Path]) -> None:
        self.by_name = {Path(t).resolve(): Path(t) for t in templates}
        self.paths: dict[tuple[str, str], str] = {}
        for directory in {Path(t).parent for t in templates}:
            self.paths.update(construct_paths(directory))

    def __call__(self, check: Mapping[str, Any]) -> tuple[Path, str | None, str]:
        template = self.by_name.get(Path(check["file_abs_path"]).resolve(), Path(check["file_abs_path"]))
        logical_id = check.get("resource", "").split(".", 1)[-1] or None
        where = self.paths.get((template.name, logical_id or ""), f"{template.name}:{logical_id}")
        return template, logical_id, where


def _checkov_findings(
    reports: list[Mapping[str, Any]], templates: Sequence[Path], skips: Mapping[str, Ignore]
) -> list[Finding]:
    """Failed checks (acknowledged where a skip of ``skips`` applies) and checks skipped by the template."""
    locate = _Locator(templates)
    cache: dict[Path, Any] = {}
    findings: list[Finding] = []
    for report in reports:
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            template, logical_id, where = locate(check)
            message = check.get("check_name", "")
            skip = skips.get(check["check_id"])
            covered = skip is not None and skip.covers(subject_of(template, logical_id, message, cache))
            reason = skip.reason if skip is not None and covered else None
            findings.append(Finding("checkov", check["check_id"], where, message, reason))
        # A skip written into the template (resource Metadata "checkov": {"skip": [{"id", "comment"}]}) is an
        # acknowledgment made by the app, and is listed with its comment like the library's own.
        for check in results.get("skipped_checks", []):
            _, _, where = locate(check)
            comment = (check.get("check_result") or {}).get("suppress_comment") or ""
            reason = f"template metadata: {comment}" if comment.strip() else None
            findings.append(Finding("checkov", check["check_id"], where, check.get("check_name", ""), reason))
    return findings


def run_checkov(
    templates: Sequence[Path],
    *,
    executable: str | None = None,
    skips: Mapping[str, Ignore] = CHECKOV_SKIPS,
) -> GateResult:
    """checkov's failed checks over ``templates``; checks in ``skips`` count as acknowledged where they
    apply. Runs once for all templates, offline (no Prisma Cloud download, no update check).

    Returns
    -------
    GateResult
        Skipped, with :data:`INSTALL_HINT` as the reason, when no checkov executable is found
        (:func:`find_checkov`); a skipped gate fails the report.

    Raises
    ------
    RuntimeError
        When checkov itself fails (an exit code other than 0 or 1, or output that is not JSON).
    """
    checkov = find_checkov(executable)
    if checkov is None:
        return GateResult("checkov", len(templates), skipped=f"checkov not found: {INSTALL_HINT}")
    if not templates:
        return GateResult("checkov", 0)
    reports = _checkov_reports(checkov, templates)
    return GateResult("checkov", len(templates), _checkov_findings(reports, templates, skips))
