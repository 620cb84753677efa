"""One synth, in a process of its own: ``python -m bench.synth_app VARIANT COUNT [--alarms] OUTDIR``.

Variants are those of :mod:`bench.apps`, plus ``sample`` (the sample app of this repository with cdk.json's
context, as ``make synth`` builds it). Prints the number of resources synthesized, as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import aws_cdk as cdk

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
PER_STACK = 20
"""Consumers per stack: N = 50 is three stacks (20, 20, 10), the same for every variant."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("count", type=int)
    parser.add_argument("outdir")
    parser.add_argument("--alarms", action="store_true")
    args = parser.parse_args(argv)
    app = cdk.App(outdir=args.outdir, context=CONTEXT)
    if args.variant == "sample":
        sys.path.insert(0, str(ROOT))
        from sample_app import build

        build(app)
    else:
        from bench.apps import BUILDERS

        # CloudFormation allows 500 resources a stack: 20 consumers with alarms fill 401 of them.
        for index, start in enumerate(range(0, max(args.count, 1), PER_STACK)):
            count = min(PER_STACK, args.count - start)
            BUILDERS[args.variant](cdk.Stack(app, f"Bench{index}"), count, alarms=args.alarms)
    assembly = app.synth()
    resources = sum(len(stack.template.get("Resources", {})) for stack in assembly.stacks)
    print(json.dumps({"resources": resources}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
