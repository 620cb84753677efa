"""Compliance gates: cdk-nag, cfn-lint and checkov over a CDK app or a cloud assembly (``cdk.out/``), and the
library's own rules as a cdk-nag pack for any app (:class:`ConstructsSqsChecks`, rules in :mod:`.rules`).

Each gate fails on any finding that is not acknowledged. What may be acknowledged, and why, is written
down in one place each:

- cdk-nag (:mod:`.cdk_nag`): the constructs acknowledge, with ``Validations.of(construct).acknowledge``,
  only the rules that an AWS behaviour makes inapplicable (``_defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS``,
  ...). The ids carry the pack's namespace (``Serverless::Serverless-SQSRedrivePolicy``), so CDK keeps each
  one, with its reason, in ``validation-report.json`` and the gate counts it as acknowledged, not as absent.
- cfn-lint (:mod:`.cfn_lint`): :data:`CFN_LINT_IGNORES`.
- checkov (:mod:`.checkov`): :data:`CHECKOV_SKIPS`.

The results are a :class:`ComplianceReport` (:mod:`.report`), which groups findings by rule with the fix of
the rules the library knows; :mod:`.gates` runs them all, :mod:`.cli` is the command line. Add the library's
rules to any app's synth::

    from constructs_sqs.compliance import ConstructsSqsChecks
    cdk.Validations.of(app).add_plugins(ConstructsSqsChecks(app))

Run all the gates on your own app::

    # in a test, on the App object (cdk-nag sees the construct tree and its acknowledgments)
    from constructs_sqs import compliance
    report = compliance.check_app(app)          # synthesizes the app
    assert report.ok, report.render()

    # or on a synthesized assembly, from the shell
    python -m constructs_sqs.compliance cdk.out
    python -m constructs_sqs.compliance --app "python3 app.py" cdk.out

cdk-nag 3 and cfn-lint come with the ``compliance`` extra (``pip install 'constructs-sqs[compliance]'``);
without it a gate raises :class:`~constructs_sqs._extras.MissingExtraError` naming that command, and the
command line says so and exits 2. checkov is an executable of its own (``pipx install checkov==3.3.30``),
found at ``--checkov``, ``$CHECKOV``, ``<venv>/tools/checkov`` or on ``PATH``. Importing this package
imports neither (``ConstructsSqsChecks`` imports cdk-nag when it is first asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .assembly import Ignore, Subject, templates_of
from .cdk_nag import NAG_PACKS, add_nag_packs, run_cdk_nag, run_cdk_nag_on_assembly
from .cfn_lint import CFN_LINT_IGNORES, CFN_LINT_REGIONS, run_cfn_lint
from .checkov import CHECKOV_SKIPS, CHECKOV_VERSION, UNSCOPABLE_ACTIONS, find_checkov, run_checkov
from .cli import main, synth
from .gates import TOOLS, check_app, check_assembly
from .report import FIX_HINTS, ComplianceReport, Finding, FindingGroup, GateResult, fix_hint, shorten_control_ids
from .rules import PACK_NAME, RULES, Rule

if TYPE_CHECKING:
    from .nag_pack import ConstructsSqsChecks

__all__ = [
    "CFN_LINT_IGNORES",
    "CFN_LINT_REGIONS",
    "CHECKOV_SKIPS",
    "CHECKOV_VERSION",
    "FIX_HINTS",
    "NAG_PACKS",
    "PACK_NAME",
    "RULES",
    "TOOLS",
    "UNSCOPABLE_ACTIONS",
    "ComplianceReport",
    "ConstructsSqsChecks",
    "Finding",
    "FindingGroup",
    "GateResult",
    "Ignore",
    "Rule",
    "Subject",
    "add_nag_packs",
    "check_app",
    "check_assembly",
    "find_checkov",
    "fix_hint",
    "main",
    "run_cdk_nag",
    "run_cdk_nag_on_assembly",
    "run_cfn_lint",
    "run_checkov",
    "shorten_control_ids",
    "synth",
    "templates_of",
]


def __getattr__(name: str) -> Any:
    """``ConstructsSqsChecks`` subclasses cdk-nag's ``NagPack``: imported when asked for (the compliance extra)."""
    if name == "ConstructsSqsChecks":
        from .nag_pack import ConstructsSqsChecks

        globals()[name] = ConstructsSqsChecks
        return ConstructsSqsChecks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
