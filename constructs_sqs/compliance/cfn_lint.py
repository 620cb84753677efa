"""The cfn-lint gate: CloudFormation's own linter, errors and warnings, over the templates of an assembly.

cfn-lint comes with the ``compliance`` extra (``pip install 'constructs-sqs[compliance]'``); it is imported
when the gate runs, not when this module is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._extras import require
from .assembly import Ignore, Subject, construct_paths, subject_of
from .report import Finding, GateResult

__all__ = ["CFN_LINT_IGNORES", "CFN_LINT_REGIONS", "run_cfn_lint"]

CFN_LINT_REGIONS = ("us-east-1",)
"""Regions cfn-lint checks resource types and values against (its own default)."""


def _function_depends_on_own_role(subject: Subject) -> bool:
    """The redundant DependsOn is a Lambda function's on its own execution role, which CDK adds."""
    role = subject.properties.get("Role")
    if subject.resource.get("Type") != "AWS::Lambda::Function" or not isinstance(role, dict):
        return False
    get_att = role.get("Fn::GetAtt")
    return isinstance(get_att, list) and bool(get_att) and subject.message.startswith(f"'{get_att[0]}' dependency")


def _notifications_depend_on_their_queue(subject: Subject) -> bool:
    """The redundant DependsOn is aws-cdk-lib's S3 notifications custom resource's on a queue it names in its
    notification configuration."""
    return (
        subject.resource.get("Type") == "Custom::S3BucketNotifications"
        and "dependency already enforced by a 'GetAtt' at " in subject.message
        and "/NotificationConfiguration/QueueConfigurations/" in subject.message
    )


def _cdk_redundant_dependency(subject: Subject) -> bool:
    return _function_depends_on_own_role(subject) or _notifications_depend_on_their_queue(subject)


CFN_LINT_IGNORES: Mapping[str, Ignore] = {
    "W3005": Ignore(
        reason=(
            "aws-cdk-lib adds DependsOn edges that a GetAtt already implies: a Function's on its execution role "
            "(so that the role exists before Lambda validates it), and the S3 notifications custom resource's on "
            "the queue it names (s3n.SqsDestination declares the queue a dependency of the notification). "
            "CloudFormation accepts the redundant edge (the rules page: known CDK artifacts). Only for those two."
        ),
        applies=_cdk_redundant_dependency,
    ),
}
"""cfn-lint rules acknowledged, by rule id, each with the reason and the findings it covers."""


def run_cfn_lint(
    templates: Sequence[Path],
    *,
    ignores: Mapping[str, Ignore] = CFN_LINT_IGNORES,
    regions: Sequence[str] = CFN_LINT_REGIONS,
) -> GateResult:
    """cfn-lint's errors and warnings over ``templates``; rules in ``ignores`` count as acknowledged.

    Raises
    ------
    MissingExtraError
        When cfn-lint is not installed (the ``compliance`` extra).
    """
    api = require("cfnlint.api", distribution="cfn-lint", extra="compliance", needed_by="the cfn-lint gate")
    findings: list[Finding] = []
    if not templates:
        return GateResult("cfn-lint", 0)
    paths: dict[tuple[str, str], str] = {}
    cache: dict[Path, Any] = {}
    for directory in {Path(t).parent for t in templates}:
        paths.update(construct_paths(directory))
    by_name = {str(Path(t).resolve()): Path(t) for t in templates}
    # One run for all templates: cfn-lint loads its schemas once (5 times faster than a run per file).
    config = api.ManualArgs(templates=[str(t) for t in templates], regions=list(regions))
    for match in api.lint_by_config(config):
        template = by_name.get(str(Path(match.filename).resolve()), Path(match.filename))
        rule = match.rule.id
        path = list(getattr(match, "path", None) or [])
        logical_id = str(path[1]) if len(path) > 1 and path[0] == "Resources" else None
        where = paths.get((template.name, logical_id or ""), f"{template.name}:{logical_id or match.linenumber}")
        ignore = ignores.get(rule)
        covered = ignore is not None and ignore.covers(subject_of(template, logical_id, match.message, cache))
        reason = ignore.reason if ignore is not None and covered else None
        findings.append(Finding("cfn-lint", rule, where, match.message, acknowledged=reason))
    return GateResult("cfn-lint", len(templates), findings)
