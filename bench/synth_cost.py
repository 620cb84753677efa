"""Synth cost: constructs-sqs against the same output written by hand with aws-cdk-lib, against AWS Solutions
Constructs, and against the floor of an empty app. ``python -m bench.synth_cost`` (``make bench``).

Every measurement is a whole process (``python -m bench.synth_app``), timed from outside: the import of
aws-cdk-lib, jsii's start, building the constructs and ``app.synth()``, as ``cdk synth`` pays them. Two clocks
are read: the wall clock, and the CPU time of the process and its children (Python and jsii's node), which a
busy machine disturbs far less; the ratios are of CPU time, the wall clock is reported beside them. The two
sides of a comparison run alternately (A B A B ...), so that a machine getting busier or quieter shifts both
alike, and the figure reported is the median of the per-pair ratios.

AWS Solutions Constructs pins an older aws-cdk-lib (its core needs cloud-assembly-schema < 55), so it runs
from a venv of its own (``.venv/tools/solutions``, made by ``make bench``) with the node of this one.

Comparisons:

- ``handwritten``: ``LambdaTriggeredQueue`` + ``add_alarms`` vs the same resources by hand, N = 1, 10, 20, 50;
- ``handwritten-plain``: the same without alarms;
- ``solutions``: ``LambdaTriggeredQueue`` (no alarms) vs ``SqsToLambda`` (no alarms), N = 1, 10, 20, 50;
- ``floor``: the sample app, and one consumer, vs an empty app.

Results go to ``bench/results/synth.json``; a table is printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
COUNTS = (1, 10, 20, 50)


@dataclass(frozen=True)
class Side:
    """One way of writing the work: a variant of ``bench.apps`` (or ``sample``) with a count."""

    variant: str
    count: int
    alarms: bool = False

    @property
    def label(self) -> str:
        return f"{self.variant}{' + alarms' if self.alarms else ''} x {self.count}"


@dataclass
class Comparison:
    name: str
    ours: Side
    other: Side
    ours_seconds: list[float] = field(default_factory=list)
    other_seconds: list[float] = field(default_factory=list)
    ours_wall: list[float] = field(default_factory=list)
    other_wall: list[float] = field(default_factory=list)
    ours_resources: int = 0
    other_resources: int = 0

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.ours_seconds, self.other_seconds)]

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ours": self.ours.label,
            "other": self.other.label,
            "count": self.ours.count,
            "ours_median_s": round(statistics.median(self.ours_seconds), 3),
            "other_median_s": round(statistics.median(self.other_seconds), 3),
            "median_paired_ratio": round(statistics.median(self.ratios), 3),
            "ours_median_wall_s": round(statistics.median(self.ours_wall), 3),
            "other_median_wall_s": round(statistics.median(self.other_wall), 3),
            "median_paired_wall_ratio": round(
                statistics.median(a / b for a, b in zip(self.ours_wall, self.other_wall)), 3
            ),
            "ours_resources": self.ours_resources,
            "other_resources": self.other_resources,
            "ours_seconds": [round(s, 3) for s in self.ours_seconds],
            "other_seconds": [round(s, 3) for s in self.other_seconds],
        }


SOLUTIONS_PYTHON = ROOT / ".venv" / "tools" / "solutions" / "bin" / "python"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(side: Side) -> tuple[float, float, int]:
    """CPU seconds and wall seconds of one whole synth process, and the resources it synthesized."""
    python = str(SOLUTIONS_PYTHON) if side.variant == "solutions" else sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        command = [python, "-m", "bench.synth_app", side.variant, str(side.count), outdir]
        if side.alarms:
            command.append("--alarms")
        # This venv's bin first: jsii runs on its node 24 whichever Python runs the app.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": path}
        cpu, started = _cpu(), time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{side.label} failed:\n{done.stderr[-3000:]}")
    return cpu, wall, json.loads(done.stdout.strip().splitlines()[-1])["resources"]


def measure(comparison: Comparison, pairs: int) -> Comparison:
    run(comparison.ours)  # warm the caches of both sides (imports, asset staging) before timing
    run(comparison.other)
    for index in range(pairs):
        first, second = (comparison.ours, comparison.other) if index % 2 == 0 else (comparison.other, comparison.ours)
        for side in (first, second):
            cpu, wall, resources = run(side)
            if side is comparison.ours:
                comparison.ours_seconds.append(cpu)
                comparison.ours_wall.append(wall)
                comparison.ours_resources = resources
            else:
                comparison.other_seconds.append(cpu)
                comparison.other_wall.append(wall)
                comparison.other_resources = resources
        print(f"  {comparison.name} N={comparison.ours.count}: pair {index + 1}/{pairs} "
              f"{comparison.ours_seconds[-1]:.2f}s / {comparison.other_seconds[-1]:.2f}s", file=sys.stderr)
    return comparison


def comparisons(counts: tuple[int, ...], *, with_solutions: bool) -> list[Comparison]:
    found = [
        Comparison("handwritten", Side("ours", n, alarms=True), Side("handwritten", n, alarms=True)) for n in counts
    ]
    # Without alarms, as Solutions Constructs has none: the same yardstick by hand, then SqsToLambda.
    found += [Comparison("handwritten-plain", Side("ours", n), Side("handwritten", n)) for n in counts]
    if with_solutions:
        found += [Comparison("solutions", Side("ours", n), Side("solutions", n)) for n in counts]
    found += [
        Comparison("floor", Side("ours", 1, alarms=True), Side("empty", 0)),
        Comparison("sample-floor", Side("sample", 0), Side("empty", 0)),
    ]
    return found


def machine() -> dict[str, object]:
    return {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
    }


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        f"{'comparison':<17} {'N':>3} {'ours CPU':>9} {'other CPU':>10} {'ratio':>6} {'wall ratio':>11} "
        f"{'resources':>11}  other",
        "-" * 96,
    ]
    for row in rows:
        lines.append(
            f"{row['name']:<17} {row['count']:>3} {row['ours_median_s']:>8.2f}s {row['other_median_s']:>9.2f}s "
            f"{row['median_paired_ratio']:>6.2f} {row['median_paired_wall_ratio']:>11.2f} "
            f"{row['ours_resources']:>5}/{row['other_resources']:<5}  {row['other']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="A/B pairs per comparison (default 5)")
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--no-solutions", action="store_true", help="skip AWS Solutions Constructs")
    parser.add_argument("--output", type=Path, default=RESULTS / "synth.json")
    args = parser.parse_args(argv)
    if not args.no_solutions and not SOLUTIONS_PYTHON.exists():
        print(f"{SOLUTIONS_PYTHON} is missing: make bench makes it (or pass --no-solutions)", file=sys.stderr)
        return 2
    rows: list[dict[str, object]] = []
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for comparison in comparisons(tuple(args.counts), with_solutions=not args.no_solutions):
        rows.append(measure(comparison, args.pairs).summary())
        # Written after every comparison, so an interrupted run keeps what it measured.
        args.output.write_text(json.dumps({"machine": machine(), "pairs": args.pairs, "rows": rows}, indent=2) + "\n")
    print(table(rows))
    print(f"\nwritten to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
