"""``ConstructsSqsChecks``: the library's rules as a cdk-nag 3 ``NagPack`` for any app.

Add it to any CDK app, written with this library or with aws-cdk-lib alone::

    import aws_cdk as cdk
    from constructs_sqs.compliance import ConstructsSqsChecks

    app = cdk.App()
    ...  # your stacks
    cdk.Validations.of(app).add_plugins(ConstructsSqsChecks(app))
    app.synth()  # fails on a finding, listing each with its rule id

The rules are :data:`constructs_sqs.compliance.rules.RULES`. They are judged on the synthesized templates of
the whole app (CDK runs validation plugins after it wrote them), so that a queue, its consumer and its alarms
may be in different stacks and raw overrides count; findings are reported on the construct of each resource,
and acknowledged as any cdk-nag rule: ``Validations.of(construct).acknowledge(Acknowledgment(
id="ConstructsSqs::ConstructsSqs-SQSAgeAlarm", reason=...))``. cdk-nag comes with the ``compliance`` extra.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import CfnResource, IPolicyValidationContext, PolicyValidationPluginReport, Stack, Stage
from constructs import IConstruct

from .._extras import require
from .rules import PACK_NAME, RULES, AppModel, Resource, Result, Rule, evaluate

cdk_nag: Any = require("cdk_nag", distribution="cdk-nag", extra="compliance", needed_by="ConstructsSqsChecks")

__all__ = ["ConstructsSqsChecks"]

_TYPES = {resource_type for rule in RULES for resource_type in rule.resource_types}


@jsii.implements(cdk_nag.IApplyRule)
class _Finding:
    """One rule's result on one resource, handed to ``NagPack.applyRule``."""

    def __init__(self, rule: Rule, node: CfnResource, result: Result) -> None:
        self._rule = rule
        self._node = node
        self._result = result

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.id

    @property
    def info(self) -> str:
        return self._rule.what

    @property
    def explanation(self) -> str:
        return f"{self._rule.why} Fix: {self._rule.fix} With constructs-sqs: {self._rule.library_fix}"

    @property
    def level(self) -> Any:
        return cdk_nag.NagMessageLevel.ERROR if self._rule.level == "ERROR" else cdk_nag.NagMessageLevel.WARN

    @property
    def node(self) -> CfnResource:
        return self._node

    def rule(self, node: CfnResource) -> Any:
        if isinstance(self._result, list):
            return list(self._result)
        return cdk_nag.NagRuleCompliance.COMPLIANT if self._result else cdk_nag.NagRuleCompliance.NON_COMPLIANT


class ConstructsSqsChecks(cdk_nag.NagPack):  # type: ignore[misc]
    """The library's rules (constructs-sqs rules Q1-Q10, K3, K5, K6, L1, L2, L4, A3, A4) for every SQS queue, queue policy,
    Lambda SQS event source, queue key and alarm topic of an app.

    Each rule has an id (``ConstructsSqs-<rule>``), a level, what it finds, why, and the fix (see
    ``docs/nag-pack.md``). A rule with several kinds of finding reports each as ``ConstructsSqs-<rule>[<finding>]``.

    Parameters
    ----------
    scope:
        The App (or Stage) it is added to; needed only with ``write_suppressions_to_cloud_formation``.
    verbose:
        Add why and the fix to each finding's message. Default: False.
    write_suppressions_to_cloud_formation:
        Write acknowledgments into the templates' metadata as cdk-nag 2 did. Default: False.

    Example
    -------
    ::

        cdk.Validations.of(app).add_plugins(ConstructsSqsChecks(app))
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        verbose: bool | None = None,
        write_suppressions_to_cloud_formation: bool | None = None,
    ) -> None:
        super().__init__(
            scope, verbose=verbose, write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation
        )
        self._pack_name = PACK_NAME
        self._results: dict[tuple[str, str], list[tuple[Rule, Result]]] = {}

    @property
    def name(self) -> str:
        """``ConstructsSqs``, the plugin name in CDK's validation report."""
        return PACK_NAME

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Judge the templates CDK just wrote, then report per construct (called by CDK's validation)."""
        self._results = _judge(context.template_paths)
        try:
            return super().validate(context)  # type: ignore[no-any-return]
        finally:
            self._results = {}

    def _check_resource(self, node: CfnResource) -> None:
        if node.cfn_resource_type not in _TYPES:
            return
        stack = Stack.of(node)
        stage = Stage.of(stack)
        directory = stage.outdir if stage is not None else ""
        key = (os.path.realpath(os.path.join(directory, stack.template_file)), str(stack.resolve(node.logical_id)))
        for rule, result in self._results.get(key, ()):
            if result is False or (isinstance(result, list) and result):
                self._apply_rule(_Finding(rule, node, result))


def _judge(template_paths: Any) -> dict[tuple[str, str], list[tuple[Rule, Result]]]:
    """The rules' results by (template file, logical id), each assembly judged as one app."""
    results: dict[tuple[str, str], list[tuple[Rule, Result]]] = {}
    for directory in sorted({Path(path).parent for path in template_paths or ()}):
        if not (directory / "manifest.json").exists():
            continue
        model = AppModel.from_assembly(directory)
        for resource, found in evaluate(model).items():
            results[_key(resource)] = found
    return results


def _key(resource: Resource) -> tuple[str, str]:
    return os.path.realpath(resource.stack.file), resource.logical_id
