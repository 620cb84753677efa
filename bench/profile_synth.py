"""Where a synth of constructs-sqs spends its time: ``python -m bench.profile_synth [VARIANT] [COUNT] [--alarms]``.

Almost all of the construction cost is round trips into jsii's node process, one per call on an aws-cdk-lib
object. This counts them by the line of constructs-sqs (or of the bench app) that made them, with the time
spent waiting for node, and prints the top costs; ``app.synth()`` itself is one call, listed as such.
Defaults: 20 Lambda-triggered queues with alarms.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = ("constructs_sqs/", "constructs_sqs_runtime/", "bench/apps.py", "sample_app/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", nargs="?", default="ours")
    parser.add_argument("count", nargs="?", type=int, default=20)
    parser.add_argument("--alarms", action="store_true", default=None)
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    alarms = True if args.alarms is None else args.alarms

    import jsii._kernel.providers.process as process

    calls: collections.Counter[str] = collections.Counter()
    waited: collections.Counter[str] = collections.Counter()
    original = process._NodeProcess.send

    def send(self: object, request: object, response_type: object) -> object:
        started = time.perf_counter()
        try:
            return original(self, request, response_type)  # type: ignore[arg-type]
        finally:
            where = "aws-cdk-lib, jsii (import, App, synth)"
            for frame in reversed(traceback.extract_stack(limit=40)):
                if any(part in frame.filename for part in OWN):
                    where = f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                    break
            calls[where] += 1
            waited[where] += time.perf_counter() - started

    process._NodeProcess.send = send  # type: ignore[assignment]
    sys.path.insert(0, str(ROOT))
    from bench import synth_app

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as outdir:
        started = time.perf_counter()
        synth_app.main([args.variant, str(args.count), outdir] + (["--alarms"] if alarms else []))
        total = time.perf_counter() - started
    print(f"{sum(calls.values()):,} calls into node, {sum(waited.values()):.2f} s waiting, {total:.2f} s in all")
    print(f"{'calls':>6} {'waiting':>9}  where")
    for where, _ in sorted(waited.items(), key=lambda item: -item[1])[: args.top]:
        print(f"{calls[where]:>6} {waited[where] * 1000:>7.0f}ms  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
