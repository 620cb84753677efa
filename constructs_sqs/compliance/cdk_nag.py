"""The cdk-nag gate: the six packs of :data:`NAG_PACKS` (cdk-nag's five and the library's own
:class:`~constructs_sqs.compliance.ConstructsSqsChecks`), on an App's construct tree or on a synthesized assembly
loaded back with ``CfnInclude``.

cdk-nag comes with the ``compliance`` extra (``pip install 'constructs-sqs[compliance]'``); it is imported
when a gate runs, not when this module is.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._extras import require
from .assembly import StackArtifact, stack_artifacts
from .report import Finding, GateResult

if TYPE_CHECKING:
    import aws_cdk as cdk

__all__ = ["NAG_PACKS", "add_nag_packs", "run_cdk_nag", "run_cdk_nag_on_assembly"]

NAG_PACKS = ("AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "ConstructsSqs")
"""The cdk-nag packs every template must pass (the rules page, "Compliance tools"): cdk-nag's five and the
library's own rules (:class:`~constructs_sqs.compliance.ConstructsSqsChecks`)."""


def _cdk_nag() -> Any:
    return require("cdk_nag", distribution="cdk-nag", extra="compliance", needed_by="the cdk-nag gate")


def add_nag_packs(app: cdk.App | cdk.Stage, *, verbose: bool = False) -> None:
    """Register the six packs of :data:`NAG_PACKS` on ``app``; synthesis then fails on a finding.

    Raises
    ------
    MissingExtraError
        When cdk-nag is not installed (the ``compliance`` extra).
    """
    cdk_nag = _cdk_nag()
    import aws_cdk as cdk

    from .nag_pack import ConstructsSqsChecks

    packs = (
        cdk_nag.AwsSolutionsChecks,
        cdk_nag.ServerlessChecks,
        cdk_nag.HIPAASecurityChecks,
        cdk_nag.NIST80053R5Checks,
        cdk_nag.PCIDSS321Checks,
        ConstructsSqsChecks,
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
    report: dict[str, Any] = json.loads(report_file.read_text())
    return outdir, report


def _nag_findings(report: Mapping[str, Any], rename: Callable[[str], str] = lambda p: p) -> list[Finding]:
    """The violations (and suppressed violations, as acknowledged) of the packs in CDK's report."""
    findings: list[Finding] = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") not in NAG_PACKS:
            continue  # CDK's own CloudFormation rules and construct annotations: not this gate's
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                path = rename(construct.get("constructPath", "?"))
                findings.append(Finding("cdk-nag", violation["ruleName"], path, violation.get("description", "")))
        for violation in plugin.get("suppressedViolations") or []:
            reason = violation.get("reason") or "(no reason given)"
            for construct in violation.get("violatingConstructs", []):
                path = rename(construct.get("constructPath", "?"))
                findings.append(
                    Finding("cdk-nag", violation["ruleName"], path, violation.get("description", ""), reason)
                )
    return findings


def run_cdk_nag(app: cdk.App) -> GateResult:
    """Register the packs on ``app``, synthesize it, and collect the findings from CDK's report.

    Call it instead of ``app.synth()``, on an App whose packs are not registered yet (they would run
    twice). The templates are in ``app.outdir`` afterwards, for :func:`run_cfn_lint` and
    :func:`run_checkov`.

    Raises
    ------
    MissingExtraError
        When cdk-nag is not installed (the ``compliance`` extra).
    """
    add_nag_packs(app)
    outdir, report = _synth_with_nag(app)
    return GateResult("cdk-nag", len(stack_artifacts(outdir)), _nag_findings(report))


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


def _include_stack(app: cdk.App, index: int, artifact: StackArtifact, renames: dict[str, str]) -> None:
    """Load one stack's template into ``app``, apply its acknowledgments again and record its paths."""
    import aws_cdk as cdk
    from aws_cdk import cloudformation_include as cfn_include

    # No bootstrap parameter or CDKMetadata of our own: the included template has them already.
    # The stack keeps its CloudFormation name, so that references between stacks (Fn::GetStackOutput, read back
    # as Fn::ImportValue "<stack>:<output>") still name it for the ConstructsSqs pack.
    stack = cdk.Stack(
        app,
        f"Stack{index}",
        stack_name=artifact.stack_name,
        synthesizer=cdk.BootstraplessSynthesizer(),
        analytics_reporting=False,
    )
    template_file = Path(app.outdir) / f"included-{index}.json"
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


def run_cdk_nag_on_assembly(directory: str | os.PathLike[str]) -> GateResult:
    """cdk-nag over an already synthesized assembly, whatever language the app was written in.

    Each stack's template is loaded into a fresh App with ``CfnInclude``, the acknowledgments recorded in
    the assembly's metadata are applied again to the same resources, and the packs run there. Findings
    name the original construct paths. It needs the path metadata the CDK CLI writes by default (not with
    ``--no-path-metadata``). Unlike cdk-nag in the app, it sees raw overrides (``add_property_override``).

    Raises
    ------
    MissingExtraError
        When cdk-nag is not installed (the ``compliance`` extra).
    """
    _cdk_nag()  # before anything is built: a missing extra is the first thing to hear
    import aws_cdk as cdk

    stacks = stack_artifacts(Path(directory))
    renames: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="constructs-sqs-nag-") as outdir:
        # CDK writes the report and neither prints it nor raises: the findings are read from the report.
        app = cdk.App(outdir=outdir, context={"@aws-cdk/core:failSynthOnValidationErrors": False})
        for index, artifact in enumerate(stacks):
            _include_stack(app, index, artifact, renames)
        add_nag_packs(app)
        _, report = _synth_with_nag(app)
    return GateResult("cdk-nag", len(stacks), _nag_findings(report, lambda p: renames.get(p, p)))
