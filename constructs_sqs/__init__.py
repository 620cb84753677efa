"""constructs-sqs: AWS CDK v2 constructs for Amazon SQS, secure and loss-free by default.

Import the patterns from here::

    from constructs_sqs import FifoQueueWithDlq, EncryptedQueue

The names are re-exported lazily (PEP 562), so importing a light submodule such as the pytest plugin
``constructs_sqs.testing`` does not start aws-cdk-lib's jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._queue_base import ImportedQueueWithDlq, QueueWithDlqBase
    from ._validation import ConfigurationError
    from .encrypted_queue import EncryptedQueue
    from .fifo_queue_with_dlq import FifoQueueWithDlq
    from .lambda_triggered_queue import ConsumerPlan, LambdaTriggeredQueue
    from .alarms import AlarmsPlan, QueueAlarms, QueueMetricFactory
    from .queue_worker_service import QueueWorkerService, WorkerPlan

_EXPORTS = {
    "AlarmsPlan": ".alarms",
    "ConfigurationError": "._validation",
    "ConsumerPlan": ".lambda_triggered_queue",
    "EncryptedQueue": ".encrypted_queue",
    "FifoQueueWithDlq": ".fifo_queue_with_dlq",
    "ImportedQueueWithDlq": "._queue_base",
    "LambdaTriggeredQueue": ".lambda_triggered_queue",
    "QueueAlarms": ".alarms",
    "QueueMetricFactory": ".alarms",
    "QueueWithDlqBase": "._queue_base",
    "QueueWorkerService": ".queue_worker_service",
    "WorkerPlan": ".queue_worker_service",
}

__all__ = [
    "AlarmsPlan",
    "ConfigurationError",
    "ConsumerPlan",
    "EncryptedQueue",
    "FifoQueueWithDlq",
    "ImportedQueueWithDlq",
    "LambdaTriggeredQueue",
    "QueueAlarms",
    "QueueMetricFactory",
    "QueueWithDlqBase",
    "QueueWorkerService",
    "WorkerPlan",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
