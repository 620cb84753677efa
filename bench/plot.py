"""Plots of the benchmark results: ``python -m bench.plot`` (``make bench`` runs it last).

Reads ``bench/results/synth.json`` (``bench.synth_cost``) and ``bench/results/runtime.json``
(``bench.runtime_throughput``), whichever exist, and writes ``bench/results/synth.png`` and
``bench/results/runtime.png``: synth CPU seconds against the number of Lambda-triggered queues for each way
of writing them, and messages per second of the helpers against the npm peers and a hand-written batch loop, with and without latency.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def plot_synth(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["rows"]
    figure, axis = plt.subplots(figsize=(7, 4.2))
    series = {
        "constructs-sqs + alarms": [(r["count"], r["ours_median_s"]) for r in rows if r["name"] == "handwritten"],
        "aws-cdk-lib by hand + alarms": [(r["count"], r["other_median_s"]) for r in rows if r["name"] == "handwritten"],
        "constructs-sqs, no alarms": [(r["count"], r["ours_median_s"]) for r in rows if r["name"] == "handwritten-plain"],
        "aws-cdk-lib by hand, no alarms": [
            (r["count"], r["other_median_s"]) for r in rows if r["name"] == "handwritten-plain"
        ],
        "Solutions Constructs SqsToLambda": [(r["count"], r["other_median_s"]) for r in rows if r["name"] == "solutions"],
    }
    styles = {"constructs-sqs + alarms": "o-", "aws-cdk-lib by hand + alarms": "s--",
              "constructs-sqs, no alarms": "o-", "aws-cdk-lib by hand, no alarms": "s--",
              "Solutions Constructs SqsToLambda": "^--"}
    for label, points in series.items():
        if points:
            xs, ys = zip(*sorted(points))
            axis.plot(xs, ys, styles[label], label=label)
    floors = [r["other_median_s"] for r in rows if r["name"] in ("floor", "sample-floor")]
    if floors:
        axis.axhline(min(floors), color="grey", linestyle=":", label="empty app (jsii start-up)")
    axis.set_xlabel("Lambda-triggered queues (at most 20 a stack)")
    axis.set_ylabel("synth, CPU seconds (median)")
    machine = data["machine"]
    axis.set_title(f"cdk synth cost ({machine['date']}, {machine['cpus']} CPUs, Python {machine['python']})", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def plot_runtime(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = data["results"]
    labels = [f"{r['queue']}\n+{r['latency_ms']:.0f} ms" for r in results]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, side in zip(axes, ("send", "consume")):
        names = list(results[0][side])
        width = 0.8 / len(names)
        for offset, name in enumerate(names):
            values = [r[side][name]["messages_per_second"] for r in results]
            positions = [i + (offset - (len(names) - 1) / 2) * width for i in range(len(labels))]
            axis.bar(positions, values, width, label=name)
        axis.set_xticks(range(len(labels)), labels)
        axis.set_ylabel("messages per second (median)")
        axis.set_title(f"{side}: {data['settings']['messages']:,} messages of {data['settings']['body_bytes'] // 1024} KiB", fontsize=10)
        axis.grid(alpha=0.3, axis="y")
        axis.set_ylim(0, axis.get_ylim()[1] * 1.3)  # room for the legend above the bars
        axis.legend(fontsize=8, loc="upper center", ncol=2)
    figure.suptitle(f"Runtime helpers, the npm peers and a hand-written batch loop, through a latency proxy ({data['machine']['date']})", fontsize=10)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def main() -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    written = []
    synth = _load("synth.json")
    if synth is not None:
        plot_synth(synth, RESULTS / "synth.png")
        written.append("synth.png")
    runtime = _load("runtime.json")
    if runtime is not None:
        plot_runtime(runtime, RESULTS / "runtime.png")
        written.append("runtime.png")
    print(f"plots written to bench/results/: {', '.join(written) or 'none (no results yet)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
