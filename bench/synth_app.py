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

        BUILDERS[args.variant](cdk.Stack(app, "Bench"), args.count, alarms=args.alarms)
    assembly = app.synth()
    resources = sum(len(stack.template.get("Resources", {})) for stack in assembly.stacks)
    print(json.dumps({"resources": resources}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
