"""What the gates found: one :class:`Finding` per rule and resource, a :class:`GateResult` per tool, and
the :class:`ComplianceReport` of all of them with its table and its findings grouped by rule, each group with
the fix when the library knows the rule (:func:`fix_hint`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .rules import PACK_NAME, rule_named

__all__ = [
    "FIX_HINTS",
    "SKIPPED_ON_REQUEST",
    "ComplianceReport",
    "Finding",
    "FindingGroup",
    "GateResult",
    "fix_hint",
    "group_findings",
    "shorten_control_ids",
]

_NAG_PACK_PREFIXES = ("AwsSolutions-", "Serverless-", "HIPAA.Security-", "NIST.800.53.R5-", "PCI.DSS.321-")

FIX_HINTS: Mapping[str, str] = {
    # cdk-nag, by rule name without its pack (HIPAA, NIST and PCI share their names)
    "SQS2": "encrypt the queue: encryption=sqs.QueueEncryption.SQS_MANAGED or KMS; the patterns always do",
    "SQS3": "give the queue a DLQ: dead_letter_queue=sqs.DeadLetterQueue(queue=..., max_receive_count=5); every "
    "pattern creates one",
    "SQS4": "enforce_ssl=True on sqs.Queue; the patterns set it on queue and DLQ",
    "SQSRedrivePolicy": "give the queue a DLQ (every pattern creates one); on a DLQ itself acknowledge the rule: a "
    "DLQ has no DLQ of its own (the patterns do for theirs)",
    "SNSRedrivePolicy": "dead_letter_queue= on the SNS subscription (SqsSubscription(queue, "
    "dead_letter_queue=pattern.dead_letter_queue))",
    "EventBusDLQ": "dead_letter_queue= on targets.SqsQueue",
    "LambdaInsideVPC": "vpc= (and vpc_subnets, security_groups) on LambdaTriggeredQueue",
    "CloudWatchLogGroupEncrypted": "function_encryption_key= on LambdaTriggeredQueue (log group and environment)",
    "LambdaConcurrency": "reserved_concurrent_executions= on LambdaTriggeredQueue (max_concurrency follows it)",
    "LambdaDLQ": "for an SQS consumer acknowledge it: SQS invokes synchronously and the queue's DLQ holds failures "
    "(LambdaTriggeredQueue does)",
    "IAMNoInlinePolicy": "grant to a role whose grants go to a customer managed policy (the role LambdaTriggeredQueue "
    "builds for its function does)",
    "KMS5": "enable_key_rotation=True on kms.Key (the keys the patterns create rotate)",
    # checkov
    "CKV_AWS_27": "encrypt the queue with a KMS key (encryption_master_key=); SSE-SQS queues are acknowledged",
    "CKV_AWS_115": "reserved_concurrent_executions= on LambdaTriggeredQueue",
    "CKV_AWS_116": "for an SQS consumer the queue's DLQ holds failures (acknowledged for LambdaTriggeredQueue)",
    "CKV_AWS_117": "vpc= on LambdaTriggeredQueue",
    "CKV_AWS_158": "function_encryption_key= on LambdaTriggeredQueue",
    "CKV_AWS_173": "function_encryption_key= on LambdaTriggeredQueue",
}
"""The fix of rules of the other packs and tools that the library knows, by rule name (cdk-nag's without its pack
prefix). The ``ConstructsSqs`` rules carry their own (:data:`~constructs_sqs.compliance.rules.RULES`)."""


def fix_hint(rule: str) -> str | None:
    """The fix of ``rule`` (``ConstructsSqs-SQSAgeAlarm``, ``HIPAA.Security-LambdaInsideVPC``, ``CKV_AWS_117``,
    with or without a ``[finding]``), or None when the library does not know the rule."""
    base = rule.split("[", 1)[0]
    if base.startswith(f"{PACK_NAME}-"):
        known = rule_named(base)
        return f"{known.fix} With constructs-sqs: {known.library_fix}" if known is not None else None
    for prefix in _NAG_PACK_PREFIXES:
        if base.startswith(prefix):
            return FIX_HINTS.get(base[len(prefix) :])
    return FIX_HINTS.get(base)


def shorten_control_ids(message: str, keep: int = 3) -> str:
    """``message`` with a cdk-nag ``(Control IDs: a, b, c, d, ...)`` list cut to its first ``keep`` ids and a
    count of the rest (NIST lists up to 40)."""
    start = message.find("(Control IDs: ")
    if start < 0:
        return message
    depth, end = 0, -1
    for index in range(start, len(message)):
        depth += {"(": 1, ")": -1}.get(message[index], 0)
        if depth == 0:
            end = index
            break
    if end < 0:
        return message
    ids = [i.strip() for i in message[start + len("(Control IDs: ") : end].split(", ")]
    if len(ids) <= keep:
        return message
    shown = f"(Control IDs: {', '.join(ids[:keep])} and {len(ids) - keep} more)"
    return message[:start] + shown + message[end + 1 :]

SKIPPED_ON_REQUEST = "skipped on request"
"""The ``skipped`` reason of a gate left out with ``skip=`` / ``--skip``: it does not fail the report."""


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

    @property
    def base_rule(self) -> str:
        """The rule without the finding of a multi-finding rule (``AwsSolutions-IAM5[Resource::*]`` ->
        ``AwsSolutions-IAM5``)."""
        return self.rule.split("[", 1)[0]

    @property
    def detail(self) -> str:
        """The finding of a multi-finding rule (``Resource::*``), or ``""``."""
        return self.rule[len(self.base_rule) + 1 : -1] if "[" in self.rule else ""

    def render(self) -> str:
        """Two lines: tool, rule and place; then the message (control ids shortened), or the reason it is
        acknowledged."""
        line = f"{self.tool:<9} {self.rule:<48} {self.where}"
        if self.acknowledged is not None:
            return f"{line}\n{'':<10}acknowledged: {self.acknowledged}"
        return f"{line}\n{'':<10}{shorten_control_ids(self.message)}"


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one rule of one tool: the message, the fix when the library knows the rule, the places."""

    tool: str
    rule: str
    findings: tuple[Finding, ...]

    @property
    def fix(self) -> str | None:
        return fix_hint(self.rule)

    def render(self) -> str:
        """The rule and count, its message (once when all agree), the fix, then one line per place."""
        count = len(self.findings)
        lines = [f"{self.tool} {self.rule}: {count} finding{'s' if count != 1 else ''}"]
        messages = {shorten_control_ids(f.message) for f in self.findings if f.acknowledged is None}
        shared = len(messages) == 1
        if shared:
            lines.append(f"  {messages.pop()}")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        for finding in self.findings:
            where = f"{finding.where} [{finding.detail}]" if finding.detail else finding.where
            if finding.acknowledged is not None:
                lines.append(f"  - {where}\n      acknowledged: {finding.acknowledged}")
            elif not shared and finding.message:
                lines.append(f"  - {where}\n      {shorten_control_ids(finding.message)}")
            else:
                lines.append(f"  - {where}")
        return "\n".join(lines)


def group_findings(findings: Sequence[Finding]) -> list[FindingGroup]:
    """``findings`` grouped by tool and rule (multi-finding rules together), in the order first seen."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.tool, finding.base_rule), []).append(finding)
    return [FindingGroup(tool, rule, tuple(found)) for (tool, rule), found in groups.items()]


@dataclass
class GateResult:
    """What one tool found over ``templates`` templates; ``skipped`` says why it did not run, if so."""

    tool: str
    templates: int
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None

    @property
    def unacknowledged(self) -> list[Finding]:
        """The findings that fail the gate."""
        return [f for f in self.findings if f.acknowledged is None]

    @property
    def acknowledged(self) -> list[Finding]:
        """The findings acknowledged with a reason."""
        return [f for f in self.findings if f.acknowledged is not None]

    @property
    def ok(self) -> bool:
        """The gate ran and left nothing unacknowledged."""
        return self.skipped is None and not self.unacknowledged


@dataclass
class ComplianceReport:
    """The results of the gates; ``ok`` when every gate ran and nothing is left unacknowledged."""

    results: list[GateResult]

    @property
    def ok(self) -> bool:
        """Every gate passed, or was left out on request."""
        return all(r.ok or r.skipped == SKIPPED_ON_REQUEST for r in self.results)

    def result(self, tool: str) -> GateResult:
        """The result of one tool (``"cdk-nag"``, ``"cfn-lint"``, ``"checkov"``).

        Raises
        ------
        StopIteration
            When the report has no result of ``tool``.
        """
        return next(r for r in self.results if r.tool == tool)

    @property
    def unacknowledged(self) -> list[Finding]:
        """Every finding of every gate that is not acknowledged."""
        return [f for r in self.results for f in r.unacknowledged]

    def table(self) -> str:
        """The summary: one row per tool with templates checked, findings and acknowledged ones."""
        rows = [("tool", "templates", "findings", "acknowledged")]
        for r in self.results:
            if r.skipped is not None:
                rows.append((r.tool, "-", "skipped", r.skipped))
            else:
                rows.append((r.tool, str(r.templates), str(len(r.unacknowledged)), str(len(r.acknowledged))))
        widths = [max(len(row[i]) for row in rows if not (i == 3 and row[2] == "skipped")) for i in range(4)]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(line.rstrip() for line in lines)

    def groups(self, *, acknowledged: bool = False) -> list[FindingGroup]:
        """The unacknowledged findings (all when ``acknowledged``) grouped by tool and rule."""
        return group_findings([f for r in self.results for f in (r.findings if acknowledged else r.unacknowledged)])

    def render(self, *, acknowledged: bool = False) -> str:
        """The table, then the unacknowledged findings grouped by rule with the fix of the rules the library
        knows (and the acknowledged ones, with their reasons, when asked)."""
        parts = [self.table()]
        parts += [group.render() for group in self.groups(acknowledged=acknowledged)]
        parts.append("PASSED" if self.ok else f"FAILED: {len(self.unacknowledged)} unacknowledged finding(s)")
        return "\n\n".join(parts)
