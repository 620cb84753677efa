"""All gates at once: on an App (:func:`check_app`) or on a synthesized assembly (:func:`check_assembly`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .assembly import stack_artifacts, templates_of
from .cdk_nag import run_cdk_nag, run_cdk_nag_on_assembly
from .cfn_lint import run_cfn_lint
from .checkov import run_checkov
from .report import SKIPPED_ON_REQUEST, ComplianceReport, GateResult

if TYPE_CHECKING:
    import aws_cdk as cdk

__all__ = ["TOOLS", "check_app", "check_assembly"]

TOOLS = ("cdk-nag", "cfn-lint", "checkov")
"""The gates, by the name ``skip=`` and ``--skip`` take."""


def _check_skip(skip: Iterable[str]) -> set[str]:
    skipped = set(skip)
    unknown = sorted(skipped - set(TOOLS))
    if unknown:
        raise ValueError(f"skip names a gate that does not exist: {unknown}; the gates are {list(TOOLS)}")
    return skipped


def _other_gates(templates: Sequence[Path], skip: set[str], checkov: str | None) -> list[GateResult]:
    """cfn-lint and checkov over ``templates``, each unless skipped."""
    results = []
    if "cfn-lint" in skip:
        results.append(GateResult("cfn-lint", len(templates), skipped=SKIPPED_ON_REQUEST))
    else:
        results.append(run_cfn_lint(templates))
    if "checkov" in skip:
        results.append(GateResult("checkov", len(templates), skipped=SKIPPED_ON_REQUEST))
    else:
        results.append(run_checkov(templates, executable=checkov))
    return results


def check_app(app: cdk.App, *, skip: Iterable[str] = (), checkov: str | None = None) -> ComplianceReport:
    """Run every gate on ``app``: synthesize it with the cdk-nag packs, then lint its templates.

    Parameters
    ----------
    app:
        An App whose cdk-nag packs are not registered yet; it is synthesized here (into ``app.outdir``).
    skip:
        Gates to leave out, of :data:`TOOLS` except ``"cdk-nag"`` (which synthesizes the app).
    checkov:
        The checkov executable; default: - found by :func:`find_checkov`.

    Returns
    -------
    ComplianceReport
        One result per gate; ``ok`` when nothing is left unacknowledged.

    Raises
    ------
    ValueError
        When ``skip`` names an unknown gate.
    MissingExtraError
        When cdk-nag or cfn-lint is not installed (the ``compliance`` extra).
    """
    skipped = _check_skip(skip)
    nag = run_cdk_nag(app)
    return ComplianceReport([nag, *_other_gates(templates_of(app.outdir), skipped, checkov)])


def check_assembly(
    directory: str | os.PathLike[str], *, skip: Iterable[str] = (), checkov: str | None = None
) -> ComplianceReport:
    """Run every gate on a synthesized cloud assembly (see :func:`run_cdk_nag_on_assembly`).

    Parameters
    ----------
    directory:
        The cloud assembly (``cdk.out``).
    skip:
        Gates to leave out, of :data:`TOOLS`; they show as skipped and do not fail the report.
    checkov:
        The checkov executable; default: - found by :func:`find_checkov`.

    Raises
    ------
    ValueError
        When ``skip`` names an unknown gate.
    MissingExtraError
        When cdk-nag or cfn-lint is needed and not installed (the ``compliance`` extra).
    """
    skipped = _check_skip(skip)
    templates = templates_of(directory)
    if "cdk-nag" in skipped:
        nag = GateResult("cdk-nag", len(stack_artifacts(Path(directory))), skipped=SKIPPED_ON_REQUEST)
    else:
        nag = run_cdk_nag_on_assembly(directory)
    return ComplianceReport([nag, *_other_gates(templates, skipped, checkov)])
