"""The dashboard rows of one watched queue, drawn from the catalogue's graphs.

A title, then rows of three graphs (:data:`~constructs_sqs.alarms.catalogue.GRAPHS`, each with the thresholds
of the alarms drawn on it), then the states of the queue's alarms. Several queues share one dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_cloudwatch as cloudwatch

from .catalogue import CATALOGUE, GRAPHS
from .entry import Metric
from .metrics import QueueMetricFactory
from .thresholds import Threshold
from .watched import WatchedQueue

__all__ = ["add_queue_widgets", "graphs"]

_GRAPH_WIDTH = 8
_GRAPH_HEIGHT = 6
_PER_ROW = 3
_FULL_WIDTH = 24


def graphs(
    metrics: QueueMetricFactory,
    watched: WatchedQueue,
    thresholds: Mapping[str, Threshold],
    alarms: Mapping[str, cloudwatch.Alarm],
) -> list[cloudwatch.GraphWidget]:
    """The graphs of one queue: each of :data:`GRAPHS` whose metrics exist (and whose alarm, for a graph that
    exists for one), with the threshold of every alarm drawn on it."""
    drawn = []
    for graph in GRAPHS:
        if graph.only_with is not None and graph.only_with not in alarms:
            continue
        lines = [(label, line(metrics, watched, thresholds)) for label, line in graph.lines]
        if any(metric is None for _, metric in lines):
            continue
        annotations = [
            (entry.widget.annotation, entry.threshold.number(thresholds[entry.key].value))  # type: ignore[arg-type]
            for entry in CATALOGUE
            if entry.widget.graph == graph.key and entry.widget.annotation is not None and entry.key in alarms
        ]
        title = graph.title if isinstance(graph.title, str) else graph.title(thresholds)
        drawn.append(_graph(title, lines, annotations))  # type: ignore[arg-type]
    return drawn


def _graph(
    title: str, lines: Sequence[tuple[str, Metric]], thresholds: Sequence[tuple[str, float]]
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=[metric.with_(label=label) for label, metric in lines],
        left_annotations=[cloudwatch.HorizontalAnnotation(value=value, label=label) for label, value in thresholds],
        width=_GRAPH_WIDTH,
        height=_GRAPH_HEIGHT,
    )


def add_queue_widgets(
    dashboard: cloudwatch.Dashboard,
    *,
    queue_name: str,
    graphs: Sequence[cloudwatch.GraphWidget],
    alarms: Sequence[cloudwatch.Alarm],
) -> None:
    """Add a queue's title, its graphs in rows of three and its alarms' states to ``dashboard``."""
    dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"### Queue {queue_name}", width=_FULL_WIDTH, height=1))
    for row in range(0, len(graphs), _PER_ROW):
        dashboard.add_widgets(*graphs[row : row + _PER_ROW])
    dashboard.add_widgets(
        cloudwatch.AlarmStatusWidget(
            title=f"Alarms of queue {queue_name}", alarms=list(alarms), width=_FULL_WIDTH, height=3
        )
    )
