"""The local emulator: the sample app (or yours) deployed with the real CDK CLI into moto, on this machine.

Start, reset and stop the emulator (:class:`Emulator`), deploy a CDK app into it (:func:`deploy_app`),
and play its SQS event source mappings with the real handlers (:func:`discover_mappings`,
:class:`LocalEventSourceRunner`) and its ECS worker services as local processes scaled by their own policies
(:func:`discover_worker_services`, :class:`WorkerServiceRunner`). The command line is ``python -m constructs_sqs.local``;
``make deploy-local``, ``make run-local`` and ``make stop-local`` call it. Needs the ``local`` extra:
``pip install 'constructs-sqs[local]'`` (this package imports only the standard library until a client
is asked for, so ``stop`` works without it).
"""

from __future__ import annotations

from .deploy import DeployedQueue, DeployedResource, DeployedStack, Deployment, DeployError, deploy_app, describe_deployment
from .emulator import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_STATE_DIR,
    Emulator,
    EmulatorError,
    EmulatorProcess,
    find_free_port,
)
from .mappings import EventSourceMapping, discover_mappings
from .runner import LocalEventSourceRunner, QueueStats, StatusPrinter
from .workers import ServiceStats, WorkerService, WorkerServiceRunner, discover_worker_services

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "DEFAULT_STATE_DIR",
    "DeployError",
    "DeployedQueue",
    "DeployedResource",
    "DeployedStack",
    "Deployment",
    "Emulator",
    "EmulatorError",
    "EmulatorProcess",
    "EventSourceMapping",
    "LocalEventSourceRunner",
    "QueueStats",
    "ServiceStats",
    "StatusPrinter",
    "WorkerService",
    "WorkerServiceRunner",
    "deploy_app",
    "describe_deployment",
    "discover_mappings",
    "discover_worker_services",
    "find_free_port",
]
