"""What the gates found: one :class:`Finding` per rule and resource, a :class:`GateResult` per tool, and
the :class:`ComplianceReport` of all of them with its table."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SKIPPED_ON_REQUEST", "ComplianceReport", "Finding", "GateResult"]

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

    def render(self) -> str:
        """Two lines: tool, rule and place; then the message, or the reason it is acknowledged."""
        line = f"{self.tool:<9} {self.rule:<48} {self.where}"
        if self.acknowledged is not None:
            return f"{line}\n{'':<10}acknowledged: {self.acknowledged}"
        return f"{line}\n{'':<10}{self.message}"


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

    def render(self, *, acknowledged: bool = False) -> str:
        """The table, then every unacknowledged finding (and the acknowledged ones when asked)."""
        parts = [self.table()]
        shown = [f for r in self.results for f in (r.findings if acknowledged else r.unacknowledged)]
        if shown:
            parts.append("\n".join(f.render() for f in shown))
        parts.append("PASSED" if self.ok else f"FAILED: {len(self.unacknowledged)} unacknowledged finding(s)")
        return "\n\n".join(parts)
